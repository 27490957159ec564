"""The points of a sweep: a full grid of parameter values, or a random search of a space.

A point is a dict of parameter name → plain value (int, float, str, bool or None), passed to the swept
function as keyword arguments. Points are decided here, in the caller's process, so every backend runs the
same ones.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.sweep.errors import SweepInputError

Point = dict[str, Any]
PLAIN = (int, float, str, bool, type(None))


def grid(**axes: Iterable[Any]) -> list[Point]:
    """Every combination of the values of each axis, the first axis varying slowest.

    >>> grid(lr=[0.1, 0.01], optimizer=["sgd", "adam"])  # doctest: +NORMALIZE_WHITESPACE
    [{'lr': 0.1, 'optimizer': 'sgd'}, {'lr': 0.1, 'optimizer': 'adam'},
     {'lr': 0.01, 'optimizer': 'sgd'}, {'lr': 0.01, 'optimizer': 'adam'}]
    """
    if not axes:
        raise SweepInputError("grid needs at least one axis, e.g. grid(lr=[1e-3, 1e-2]).")
    values = {}
    for name, axis in axes.items():
        if isinstance(axis, (str, bytes)) or not isinstance(axis, Iterable):
            raise SweepInputError(f"grid axis {name!r} must be a list of values, not {axis!r}; e.g. {name}=[{axis!r}].")
        values[name] = [plain_value(value, name) for value in axis]
        if not values[name]:
            raise SweepInputError(f"grid axis {name!r} has no values; give at least one.")
    return [dict(zip(values, combination)) for combination in itertools.product(*values.values())]


@dataclass(frozen=True)
class Uniform:
    """A real parameter drawn uniformly from [low, high] (``log=True``: its logarithm uniform, for rates)."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise SweepInputError(f"a range needs finite low < high, got ({self.low!r}, {self.high!r}).")
        if self.log and self.low <= 0:
            raise SweepInputError(f"a log-uniform range needs low > 0, got {self.low!r}.")

    def draw(self, rng: np.random.Generator) -> float:
        """One value."""
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))


def uniform(low: float, high: float) -> Uniform:
    """A parameter uniform on [low, high], for ``random_search``.

    >>> uniform(0.0, 1.0)
    Uniform(low=0.0, high=1.0, log=False)
    """
    return Uniform(float(low), float(high))


def log_uniform(low: float, high: float) -> Uniform:
    """A parameter whose logarithm is uniform on [log low, log high] (learning rates), for ``random_search``.

    >>> log_uniform(1e-4, 1e-1).log
    True
    """
    return Uniform(float(low), float(high), log=True)


def random_search(space: Mapping[str, Any], n: int, seed: int = 0) -> list[Point]:
    """``n`` points drawn from ``space``: each axis a list (one value chosen at random), a ``uniform`` or
    ``log_uniform`` range, or a single plain value (held fixed). The same seed gives the same points.

    >>> points = random_search({"lr": log_uniform(1e-4, 1e-1), "optimizer": ["sgd", "adam"]}, n=3, seed=0)
    >>> len(points), sorted(points[0]), all(1e-4 <= p["lr"] <= 1e-1 for p in points)
    (3, ['lr', 'optimizer'], True)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise SweepInputError(f"random_search: n must be a whole number ≥ 1, not {n!r}.")
    if not space:
        raise SweepInputError("random_search needs a space, e.g. {'lr': log_uniform(1e-4, 1e-1)}.")
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(int(n)):
        point = {}
        for name, axis in space.items():
            if isinstance(axis, Uniform):
                point[name] = axis.draw(rng)
            elif isinstance(axis, Sequence) and not isinstance(axis, str):
                if not axis:
                    raise SweepInputError(f"random_search: axis {name!r} has no values to choose from.")
                point[name] = plain_value(axis[int(rng.integers(len(axis)))], name)
            else:
                point[name] = plain_value(axis, name)
        points.append(point)
    return points


def as_points(points: Mapping[str, Iterable[Any]] | Sequence[Mapping[str, Any]]) -> list[Point]:
    """A sweep's points: a dict of axes (made into a ``grid``) or a list of dicts, checked and made plain."""
    if isinstance(points, Mapping):
        return grid(**points)
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence) or not points:
        raise SweepInputError("the sweep's grid must be a dict of axes ({'lr': [1e-3, 1e-2]}), or a non-empty list "
                              "of points (grid(...), random_search(...), or dicts of parameter values).")
    checked = []
    for index, point in enumerate(points):
        if not isinstance(point, Mapping) or not point:
            raise SweepInputError(f"point {index} of the grid must be a non-empty dict of parameter values, "
                                  f"not {point!r}.")
        checked.append({_name(name, index): plain_value(value, name) for name, value in point.items()})
    return checked


def _name(name: Any, index: int) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise SweepInputError(f"point {index}: parameter names must be Python identifiers (they are passed as "
                              f"keyword arguments), not {name!r}.")
    return name


def plain_value(value: Any, name: str) -> Any:
    """``value`` as a plain Python int, float, str, bool or None (NumPy scalars are unwrapped), or an error."""
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, PLAIN):
        raise SweepInputError(f"parameter {name!r}: {value!r} is not a plain value (a number, string, bool or None); "
                              "name bigger things (a model, an array) by a string and build them inside the function.")
    return value
