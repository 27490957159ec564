"""How many computations the lab runs at once, so that a flood of them cannot starve the rest.

The lab's Python work (races, surfaces, backprop steps, reading and sampling functions) shares one
interpreter lock with the event loop that answers every request. Twenty computations at once are no
faster than a few (the lock lets one run at a time), but they make the loop wait longer for its turn.
So each kind of work has a few slots; a request waits for one (blocked, costing nothing) at most
``wait`` seconds and is otherwise answered 429 "busy, try again".

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


# pure Python and NumPy in this process: races, surfaces, backprop steps
ENGINE_WORK = Slots(2, 10.0, "races, surfaces and backprop steps")
# mostly waiting for calcml.symbolic's worker processes, then sampling on a grid: derivatives, integrals
SYMBOLIC_WORK = Slots(4, 10.0, "derivatives and integrals")
