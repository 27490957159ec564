"""What a sweep returns: its runs as a tidy table (one row per point and seed), with the failures, a summary
over seeds, and saving to CSV or JSON."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from calcml.sweep.errors import SweepInputError


@dataclass
class SweepResult:
    """The runs of a sweep in grid order (each point's seeds together): ``records`` (dicts with the parameters,
    ``seed``, the outputs, ``error`` and ``seconds``), the names of the ``params`` and ``outputs``, the backend,
    the wall time, and how many runs were read back from the results file instead of run."""

    records: list[dict[str, Any]]
    params: tuple[str, ...]
    outputs: tuple[str, ...]
    backend: str
    seconds: float
    resumed: int = 0

    @property
    def table(self) -> Any:
        """A pandas DataFrame of the records when pandas is installed, else the list of records."""
        try:
            import pandas
        except ImportError:
            return [dict(record) for record in self.records]
        return pandas.DataFrame.from_records(self.records, columns=self.columns)

    @property
    def columns(self) -> list[str]:
        """The table's columns: parameters, ``seed`` (when there are seeds), outputs, ``error``, ``seconds``."""
        seed = ["seed"] if any("seed" in record for record in self.records) else []
        return [*self.params, *seed, *self.outputs, "error", "seconds"]

    @property
    def failures(self) -> list[dict[str, Any]]:
        """The records of the runs that raised (their ``error`` says what)."""
        return [record for record in self.records if record.get("error") is not None]

    def summary(self, y: str) -> list[dict[str, Any]]:
        """For each point (parameters without the seed), the output ``y`` over its successful seeds: ``n``,
        ``mean``, ``std`` (n − 1), ``min``, ``max`` (NaN when no seed succeeded), in grid order."""
        if y not in self.outputs:
            raise SweepInputError(f"no output {y!r} in this sweep; its outputs are: {', '.join(self.outputs)}.")
        groups: dict[tuple, list[float]] = {}
        for record in self.records:
            values = groups.setdefault(tuple(record.get(name) for name in self.params), [])
            value = record.get(y)
            if record.get("error") is None and isinstance(value, (int, float)) and not isinstance(value, bool):
                values.append(float(value))
        rows = []
        for point, values in groups.items():
            array = np.array(values)
            stats = (dict(mean=array.mean(), std=array.std(ddof=1) if len(array) > 1 else 0.0, min=array.min(),
                          max=array.max()) if len(array) else dict.fromkeys(("mean", "std", "min", "max"), math.nan))
            rows.append({**dict(zip(self.params, point)), "n": len(array), **{k: float(v) for k, v in stats.items()}})
        return rows

    def save(self, path: str | Path) -> Path:
        """Write the table to ``path``: ``.csv`` (arrays as JSON text) or ``.json`` (a list of records; NaN and
        ±inf as null). Folders are created."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".json"):
            raise SweepInputError(f"cannot tell the table format of {str(path)!r}: end the name in .csv or .json.")
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{name: record.get(name) for name in self.columns} for record in self.records]
        if suffix == ".json":
            path.write_text(json.dumps(_strict(rows), indent=1, allow_nan=False) + "\n", encoding="utf-8")
        else:
            with path.open("w", newline="", encoding="utf-8") as file:
                writer = csv.DictWriter(file, fieldnames=self.columns)
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()})
        return path

    def __repr__(self) -> str:
        failed = len(self.failures)
        return (f"SweepResult({len(self.records)} runs, {len(self.records) - failed} ok, {failed} failed; "
                f"params {', '.join(self.params)}; outputs {', '.join(self.outputs) or '-'}; {self.backend}, "
                f"{self.seconds:.2f} s)")


def _strict(value: Any) -> Any:
    """``value`` with non-finite floats replaced by None (strict JSON)."""
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strict(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
