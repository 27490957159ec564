"""A Griffe extension for calcml's docs: docstring examples (``>>>`` lines and their output) become ``pycon``
code blocks, so Markdown shows them as code instead of reading ``>>>`` as a quotation."""

from __future__ import annotations

import griffe


def fence_examples(text: str) -> str:
    lines, out, in_example, in_fence = text.splitlines(), [], False, False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if in_fence:
            out.append(line)
            continue
        if stripped.startswith(">>>") and not in_example:
            in_example = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
        elif in_example and not stripped:
            out.append(f"{indent}```")
            in_example = False
        out.append(line)
    if in_example:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Wrap each run of docstring example lines in a fenced ``pycon`` block."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_examples(obj.docstring.value)


class TensorNumpyMethods(griffe.Extension):
    """Tensor declares NumPy's methods (``t.sum()``, ``t.exp()``, ``t.T``...) for type checkers only; at run time
    each one calls the NumPy function of the same name. Say so in the reference instead of showing them bare."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        if pkg.name != "calcml":
            return
        try:
            tensor = pkg["autodiff.tensor.Tensor"]
        except KeyError:
            return
        for name, member in tensor.members.items():
            if name.startswith("_") or member.is_alias or member.docstring is not None or member.runtime:
                continue
            member.docstring = griffe.Docstring(
                f"``np.{name}`` of this Tensor, like ndarray's ``{name}``: differentiable wherever NumPy's is.",
                parent=member)
