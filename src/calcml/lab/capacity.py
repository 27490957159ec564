"""How many engine computations the lab runs at once, so that a flood of them cannot starve the rest.

Races, surfaces and backprop steps are pure Python and NumPy in this process, and share one interpreter
lock with the event loop that answers every request. Twenty of them at once are no faster than two (the
lock lets one run at a time), but they make the loop wait longer for its turn. So they get two slots; a
request waits for one (blocked, costing nothing) at most ``wait`` seconds and is otherwise answered 429
"busy, try again". Derivatives and integrals need no slots: their heavy part runs in calcml.symbolic's
worker processes, whose pool is itself the bound (a call waiting too long for a worker times out).

    with ENGINE_WORK.slot():
        answer = run_race(...)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from calcml.lab.errors import LabInputError


class Slots:
    """At most ``count`` holders at once; a would-be holder waits at most ``wait`` seconds."""

    def __init__(self, count: int, wait: float, what: str) -> None:
        self.count, self.wait, self.what = count, wait, what
        self._semaphore = threading.BoundedSemaphore(count)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        if not self._semaphore.acquire(timeout=self.wait):
            raise LabInputError(f"the lab is busy with other {self.what} ({self.count} at a time, none free for "
                                f"{self.wait:g} s); try again in a moment.", "overloaded")
        try:
            yield
        finally:
            self._semaphore.release()


ENGINE_WORK = Slots(2, 10.0, "races, surfaces and backprop steps")
