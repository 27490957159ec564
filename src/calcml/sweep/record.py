"""One run of a sweep, as one row of its table: the point's parameters, the seed, what the function returned
(numbers and arrays, as named columns), the error it raised (if any) and its wall time.

``attempt`` runs on the workers: it never lets the function's exception escape, so one failing point is
recorded and every other point still runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from calcml.autodiff.tensor import Tensor
from calcml.sweep.space import Point

RESERVED = ("seed", "error", "seconds")  # the columns a sweep adds to the parameters and outputs


def attempt(fn: Callable[..., Any], task: tuple[Point, int | None]) -> dict[str, Any]:
    """``fn(**point, seed=seed)`` (no seed when the sweep has none) as a record's ``outputs`` (or ``error``)
    and ``seconds``: never raises for the function's own exceptions.

    >>> attempt(lambda lr, seed: {"loss": lr * seed}, ({"lr": 0.5}, 3))["outputs"]
    {'loss': 1.5}
    >>> attempt(lambda lr: 1 / lr, ({"lr": 0}, None))["error"]
    'ZeroDivisionError: division by zero'
    """
    point, seed = task
    started = time.perf_counter()
    try:
        value = fn(**point) if seed is None else fn(**point, seed=seed)
        return {"outputs": tabulate(value, point), "seconds": time.perf_counter() - started}
    except Exception as error:  # noqa: BLE001 — recorded in the table, not fatal to the sweep
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return {"error": f"{type(error).__name__}: {message}".rstrip(": "), "seconds": time.perf_counter() - started}


def tabulate(value: Any, point: Point) -> dict[str, Any]:
    """The function's result as named columns: a number or array becomes the column ``value``; a dict gives one
    column per key. Numbers stay numbers, arrays become lists, strings stay strings.

    >>> tabulate({"loss": np.float64(0.25), "curve": np.array([1.0, 0.5])}, {})
    {'loss': 0.25, 'curve': [1.0, 0.5]}
    """
    columns = dict(value) if isinstance(value, Mapping) else {"value": value}
    table = {}
    for name, item in columns.items():
        if not isinstance(name, str) or name in RESERVED or name in point:
            raise TypeError(f"the function returned a column named {name!r}; output names must be strings other "
                            f"than the parameters ({', '.join(point)}) and {', '.join(RESERVED)}.")
        table[name] = _cell(item, name)
    return table


def _cell(item: Any, name: str) -> Any:
    if isinstance(item, np.generic):
        item = item.item()
    if item is None or isinstance(item, (str, bool, int, float)):
        return item
    array = np.asarray(item.value if isinstance(item, Tensor) else item)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"output {name!r} is of type {type(item).__name__}; return numbers, arrays or strings.")
    return array.item() if array.ndim == 0 else array.tolist()


def run_key(point: Point, seed: int | None) -> str:
    """The identity of a run (its parameters and seed) in a results file: the same run, the same text.

    >>> run_key({"lr": 0.1, "optimizer": "adam"}, 2) == run_key({"optimizer": "adam", "lr": 0.1}, 2)
    True
    """
    return json.dumps([point, seed], sort_keys=True)

