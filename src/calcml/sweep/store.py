"""A sweep's results file, for resuming: one JSON line per finished run, appended as each run finishes, so a
sweep stopped at any moment (a crash, Ctrl-C, a lost cluster) loses no finished run. On the next start the
runs already done (without an error) are read back and skipped; failed runs are tried again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from calcml.sweep.errors import SweepInputError
from calcml.sweep.record import run_key


def load_done(path: Path, params: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The successful records in ``path`` (none when it does not exist) by ``run_key``. A last line cut short by
    a crash is ignored (that run is simply done again); any other unreadable line is an error naming it."""
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    done = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                continue
            raise SweepInputError(f"{path}: line {number} is not a sweep record (JSON); give a results file written "
                                  "by cm.sweep(..., store=...), or a new path.") from None
        if not isinstance(record, dict):
            raise SweepInputError(f"{path}: line {number} is not a sweep record; give a new path.")
        if record.get("error") is None:  # a point may leave out parameters that other points set
            done[run_key({name: record[name] for name in params if name in record}, record.get("seed"))] = record
    return done


def append(path: Path, record: dict[str, Any]) -> None:
    """Add one record to ``path`` as a JSON line, flushed at once."""
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(record) + "\n")
