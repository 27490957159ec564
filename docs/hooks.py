"""MkDocs hooks of calcml's documentation site.

- The gallery: every ``examples/chNN_name.py`` (NN: the book's chapter) is run with ``--fast`` and its picture is
  added to the site as ``figures/<name>.png`` (or ``.svg``); a chapter page shows it where it says
  ``<!-- figure NAME -->``. Pictures are cached outside the repository (``$CALCML_DOCS_CACHE``, default
  ``~/.cache/calcml-docs``), keyed by the script and the library's source, so a second build costs nothing.
  ``CALCML_DOCS_FIGURES`` chooses which examples run: unset or ``all`` for every one, ``none`` for none, or
  chapter numbers such as ``1,10``.
- The example scripts are copied into the site (``examples/chNN_name.py``) so that pages can link to them.
- The chapter notebooks (``notebooks/chNN_topic.py``, jupytext's percent format) become pages
  ``notebooks/chNN_topic.md`` — their markdown as text, their code as code blocks, not executed (the tests execute
  them) — listed under "Notebooks" in the navigation; the ``.py`` files are copied beside them to download.
- Every public name of the documented modules must have a docstring: a missing one is a warning, which
  ``mkdocs build --strict`` turns into a failed build.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File

log = get_plugin_logger("calcml")
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ROOT / "notebooks"
FIGURE_MARKER = re.compile(r"<!--\s*figure\s+([\w.-]+)\s*-->")

# The modules whose public names (``__all__``) the API reference documents.
DOCUMENTED_MODULES = [
    "calcml.autodiff", "calcml.autodiff.tree", "calcml.autodiff.memory", "calcml.symbolic", "calcml.exercises",
    "calcml.integrate", "calcml.prob", "calcml.ode", "calcml.sde", "calcml.nn", "calcml.nn.losses",
    "calcml.nn.init", "calcml.optim", "calcml.data", "calcml.train", "calcml.viz",
]

_figures: dict[str, Path] = {}  # picture stem -> file, for the pages
_extra_pages: dict[str, str] = {}  # API pages made for public modules that have no page yet: path -> module


def public_modules() -> list[str]:
    """The modules ``import calcml`` exposes as ``cm.<name>``, by their import path."""
    import types

    import calcml

    names = [n for n in calcml.__all__ if isinstance(getattr(calcml, n, None), types.ModuleType)]
    return [getattr(calcml, n).__name__ for n in names]


def on_config(config):
    """A public module without a page of its own (one added after these pages were written) gets a page made
    from its docstrings, listed at the end of the API reference, so the reference always covers ``cm``."""
    if str(ROOT / "src") not in sys.path:  # check and document the same source
        sys.path.insert(0, str(ROOT / "src"))
    written = documented_modules(Path(config["docs_dir"]))
    for module in public_modules():
        if module not in written:
            _extra_pages[f"api/{module.rsplit('.', 1)[1]}.md"] = module
    for section in config["nav"] or []:
        if isinstance(section, dict) and "API reference" in section:
            section["API reference"].extend(_extra_pages)
    nav = config["nav"] or []
    book = next((i for i, s in enumerate(nav) if isinstance(s, dict) and "The book" in s), len(nav) - 1)
    nav.insert(book + 1, {"Notebooks": [f"notebooks/{path.stem}.md" for path in notebook_files()]})
    return config


def documented_modules(docs: Path) -> set[str]:
    """The modules some page of the site documents with ``::: module`` — in api/ or anywhere else (the
    curvature and sensitivity pages document their modules themselves)."""
    written = set()
    for page in docs.rglob("*.md"):
        written.update(re.findall(r"^:::\s+(\S+)", page.read_text(encoding="utf-8"), flags=re.M))
    return written


def notebook_files() -> list[Path]:
    return sorted(NOTEBOOKS.glob("ch[0-9][0-9]_*.py"))


def notebook_markdown(path: Path) -> str:
    """A percent-format notebook as a page: markdown cells as they are, code cells as Python blocks."""
    import jupytext

    notebook = jupytext.read(path)
    parts = [f"*This page is the notebook [`notebooks/{path.name}`]({path.name}) (jupytext percent format: "
             f"`jupytext --to ipynb {path.name}` opens it in Jupyter). Run it to see its outputs.*"]
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        elif cell.cell_type == "code" and cell.source.strip():
            parts.append(f"```python\n{cell.source}\n```")
    return "\n\n".join(parts) + "\n"


# Examples that need data a user supplies (real MNIST is never shipped): linked, not run (as in tests/examples).
NEEDS_USER_DATA = {"ch18_mnist_cnn_real"}


def example_scripts() -> list[Path]:
    return sorted(EXAMPLES.glob("ch[0-9][0-9]_*.py"))


def picture_stem(script: Path) -> str:
    """``ch01_limits_and_continuity.py`` draws ``limits_and_continuity.png`` (or ``.svg``)."""
    return script.stem.split("_", 1)[1]


def selected(scripts: list[Path]) -> list[Path]:
    choice = os.environ.get("CALCML_DOCS_FIGURES", "all").strip().lower()
    if choice in ("", "all"):
        return scripts
    if choice in ("0", "none", "no", "off"):
        return []
    numbers = {int(n) for n in re.split(r"[,\s]+", choice) if n}
    return [s for s in scripts if int(s.name[2:4]) in numbers]


def library_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "calcml").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cached_picture(folder: Path, stem: str) -> Path | None:
    found = sorted(p for p in folder.glob(f"{stem}.*") if p.suffix in (".png", ".svg"))
    return found[0] if found else None


def run_example(script: Path, folder: Path) -> tuple[Path, str | None]:
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(script), "--fast", "--out", str(folder)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return script, f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] or ''}"
    log.info("ran %s in %.1f s", script.name, time.perf_counter() - started)
    return script, None


def on_files(files, config):
    for path, module in _extra_pages.items():
        log.info("no API page was written for %s: made %s from its docstrings", module, path)
        files.append(File.generated(config, path, content=f"# `{module}`\n\n::: {module}\n"))
    scripts = example_scripts()
    for script in scripts:  # the scripts themselves, for the chapter pages' links
        files.append(File.generated(config, f"examples/{script.name}", abs_src_path=str(script)))
    for notebook in notebook_files():
        files.append(File.generated(config, f"notebooks/{notebook.name}", abs_src_path=str(notebook)))
        files.append(File.generated(config, f"notebooks/{notebook.stem}.md", content=notebook_markdown(notebook)))
    chosen = [s for s in selected(scripts) if s.stem not in NEEDS_USER_DATA]
    if not chosen:
        return files
    cache = Path(os.environ.get("CALCML_DOCS_CACHE", Path.home() / ".cache" / "calcml-docs")).expanduser()
    library = library_digest()
    folders = {s: cache / hashlib.sha256(s.read_bytes() + library.encode()).hexdigest()[:20] for s in chosen}
    missing = [s for s in chosen if cached_picture(folders[s], picture_stem(s)) is None]
    if missing:
        log.info("drawing %d gallery pictures (examples with --fast)", len(missing))
        with ThreadPoolExecutor(max_workers=2) as pool:
            for script, error in pool.map(lambda s: run_example(s, folders[s]), missing):
                if error:
                    log.warning("example %s failed (%s): its picture is missing from the site", script.name, error)
    for script in chosen:
        picture = cached_picture(folders[script], picture_stem(script))
        if picture is not None:
            _figures[picture_stem(script)] = picture
            files.append(File.generated(config, f"figures/{picture.name}", abs_src_path=str(picture)))
    return files


def on_page_markdown(markdown, page, config, files):
    depth = page.file.src_uri.count("/")

    def figure(match: re.Match) -> str:
        stem = match.group(1)
        picture = _figures.get(stem)
        if picture is None:
            return (f"*The picture `{stem}` is drawn when the site is built with the gallery "
                    f"(`CALCML_DOCS_FIGURES=all mkdocs build`); run the example to see it now.*")
        return f"![{stem.replace('_', ' ')}]({'../' * depth}figures/{picture.name})"

    return FIGURE_MARKER.sub(figure, markdown)


def _own_doc(obj) -> str | None:
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if inspect.isclass(obj) and doc and re.fullmatch(rf"{re.escape(obj.__name__)}\(.*\)", doc.strip(), re.S):
        return None  # the signature a dataclass writes for itself is not a docstring
    return doc.strip() if isinstance(doc, str) and doc.strip() else None


def undocumented() -> list[str]:
    """Public names of the documented modules, and public methods written in their classes' bodies (those the
    reference shows; NumPy's methods that Tensor mirrors are attached in a loop and described by Tensor), that
    have no docstring of their own or of the method they override."""
    missing = []
    for module_name in dict.fromkeys([*DOCUMENTED_MODULES, *public_modules()]):
        module = importlib.import_module(module_name)
        if not _own_doc(module):
            missing.append(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)):
                continue  # modules are checked on their own; constants cannot carry a docstring
            if not (getattr(obj, "__module__", "") or "").startswith("calcml"):
                continue
            if not _own_doc(obj):
                missing.append(f"{module_name}.{name}")
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    target = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
                    if (inspect.isfunction(target) and target.__qualname__.startswith(f"{obj.__qualname__}.")
                            and not _own_doc(target)
                            and not any(_own_doc(getattr(base, attr, None)) or False
                                        for base in obj.__mro__[1:] if hasattr(base, attr))):
                        missing.append(f"{module_name}.{name}.{attr}")
    return sorted(set(missing))


def on_pre_build(config):
    for name in undocumented():
        log.warning("public name without a docstring: %s", name)
