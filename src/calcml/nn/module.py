"""``Module``: the base of every layer. A module's parameters are the ``cm.Tensor`` leaves
(``requires_grad=True``) among its attributes, found recursively through sub-modules, lists and tuples,
in the order the attributes were set; their dotted names (``layers.0.weight``) key ``state_dict``."""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from calcml.autodiff.errors import CalcmlError, ShapeError
from calcml.autodiff.tensor import Tensor
from calcml.data.errors import DataFormatError
from calcml.data.npz import npz_members, read_members

MAX_MODEL_BYTES = 1 << 30  # 1 GiB of parameters (uncompressed) unless load(max_bytes=) says otherwise
_IN_FLIGHT: set[str] = set()  # temporaries this process is writing now (another thread's save)


def parameter(value: np.ndarray, name: str | None = None) -> Tensor:
    """A trainable leaf: a Tensor with ``requires_grad=True`` (its dtype is kept)."""
    return Tensor(value, requires_grad=True, name=name)


class Module:
    """Base class of layers and models.

    >>> class Affine(cm.nn.Module):
    ...     def __init__(self):
    ...         self.w = cm.Tensor(np.ones(3), requires_grad=True)
    ...     def forward(self, x):
    ...         return x * self.w
    >>> [name for name, _ in Affine().named_parameters()]
    ['w']
    """

    training: bool = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The layer's computation; ``module(x)`` calls it. Every layer defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(x).")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- what a module is made of ---------------------------------------------------------------
    def named_members(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of the attributes that may hold parameters or sub-modules, in order."""
        return iter(vars(self).items())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their names (inside lists too: ``blocks.0``)."""
        for name, value in self.named_members():
            for key, item in _flatten(name, value):
                if isinstance(item, Module):
                    yield key, item

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Tensor]]:
        """(dotted name, Tensor) of every parameter, each listed once, in a stable order."""
        found: list[tuple[str, Tensor]] = []
        seen: set[int] = set()
        self._collect(prefix, found, seen)
        return found

    def _collect(self, prefix: str, found: list, seen: set) -> None:
        for name, value in self.named_members():
            for key, item in _flatten(prefix + name, value):
                if isinstance(item, Module):
                    item._collect(key + ".", found, seen)
                elif type(item) is Tensor and item.requires_grad and id(item) not in seen:
                    seen.add(id(item))
                    found.append((key, item))

    def parameters(self) -> list[Tensor]:
        """Every parameter Tensor (``requires_grad=True``), in the order of ``named_parameters``."""
        return [p for _, p in self.named_parameters()]

    def modules(self) -> list[Module]:
        """This module and all its sub-modules, depth first."""
        found = [self]
        for _, child in self.named_children():
            found.extend(child.modules())
        return found

    # -- modes and gradients ------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set ``training`` here and in every sub-module (Dropout reads it); returns self."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's accumulated gradient (``p.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    # -- saving and loading ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """name -> a copy of the parameter's value."""
        return {name: p.value.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> Module:
        """Copy values into the parameters, in place (optimizers holding them see the new values).

        Names and shapes must match exactly; values are cast to each parameter's dtype.
        """
        params = dict(self.named_parameters())
        self._check_names(params, state, "load_state_dict")
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ShapeError(
                    f"load_state_dict: '{name}' has shape {value.shape} in the saved state but {p.shape} "
                    "in this model; build the model with the same sizes."
                )
            p.copy_(value)
        return self

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``state_dict()`` to an ``.npz`` file atomically (a temporary file, then os.replace),
        so a crash never leaves half a file behind. Returns the path written.

        The temporary file is ``<name>.<pid>.<random>.tmp``; one left by a save that was killed (SIGKILL,
        power loss) belongs to a process that no longer runs, and the next save into the folder removes it.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(path)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.{os.getpid()}.", suffix=".tmp")
        _IN_FLIGHT.add(temporary)
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, **self.state_dict())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        finally:
            _IN_FLIGHT.discard(temporary)
        return path

    def load(self, path: str | os.PathLike, max_bytes: int = MAX_MODEL_BYTES) -> Module:
        """Load parameters saved by ``save`` into this module (same architecture); returns self.

        The file is checked before any array is read: its names, dtypes and shapes (from the zip directory
        and the npy headers) against this model's parameters, and its total uncompressed size against
        ``max_bytes`` and against what the parameters need. A file for another model, or a small archive
        that would decompress to gigabytes, is refused in milliseconds with a message naming the difference.
        """
        members = npz_members(path, max_bytes=max_bytes)
        params = dict(self.named_parameters())
        self._check_names(params, members, f"load({str(path)!r})")
        for name, p in params.items():
            member = members[name]
            if member.shape != tuple(p.shape):
                raise ShapeError(
                    f"load: '{name}' has shape {member.shape} in {path} but {p.shape} in this model; build the "
                    "model with the same sizes."
                )
            if member.dtype.kind not in "biuf":
                raise DataFormatError(f"load: '{name}' is stored as {member.dtype} in {path}; parameters are numbers.")
        return self.load_state_dict(read_members(path, members.values()))

    def _check_names(self, params: Mapping[str, Any], state: Mapping[str, Any], caller: str) -> None:
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise CalcmlError(
                f"{caller}: the names do not match this {type(self).__name__}.\n"
                f"  missing: {missing or 'none'}\n  unexpected: {_shorten(unexpected) or 'none'}\n"
                "  the saved model must have the same architecture (same layers, same order)."
            )

    # -- printing -------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The layer's settings shown inside its repr, e.g. ``64, 10, bias=True`` for a Linear layer."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return head + "\n" + "\n".join(lines) + "\n)"


def _shorten(names: list[str], most: int = 10) -> str | list[str]:
    """At most ``most`` names in a message (a hostile file may hold thousands)."""
    return names if len(names) <= most else f"{names[:most]} and {len(names) - most:,} more"


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``<name>.<pid>.*.tmp`` files next to ``path`` whose process no longer runs (a killed save)."""
    for temporary in path.parent.glob(f"{glob.escape(path.name)}.*.tmp"):
        pid = temporary.name[len(path.name) + 1:].split(".", 1)[0]
        if pid.isdigit() and str(temporary) not in _IN_FLIGHT and not _running(int(pid)):
            temporary.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a save of this process that is not in flight: it was interrupted
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's live process (or a platform without signals): leave it alone
    return True


def _flatten(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """(name, value), or for a list/tuple every element as (name.i, element), recursively."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _flatten(f"{name}.{i}", item)
    else:
        yield name, value
