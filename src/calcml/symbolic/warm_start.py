"""Warm-up of a symbolic worker: import calcml.symbolic and calcml.exercises, and run a few small calls.

The zygote (:mod:`calcml.symbolic.zygote`) runs :func:`warm_up` once, so every worker forked from it
starts with SymPy loaded and its lazy imports done: the first call answers in milliseconds, not
seconds. A spawned worker (platforms without fork) runs it itself before saying it is ready.

>>> from calcml.symbolic import warm_start
>>> warm_start.warm_up()   # idempotent
"""

from __future__ import annotations

_state = {"warm": False}


def warm_up() -> None:
    """Import the symbolic layer and run one call of each common kind (errors are ignored)."""
    if _state["warm"]:
        return
    import calcml.exercises  # noqa: F401  (registers the exercise functions)
    import calcml.symbolic  # noqa: F401  (registers the symbolic functions)
    from calcml.symbolic import registry

    was_inside = registry.set_in_worker(True)  # nested calls must run inline here
    try:
        for name, args in (
            ("derive", ("sin(x^2)", "x")),
            ("integrate", ("x*cos(x)", "x")),
            ("limit", ("sin(x)/x", "x", 0)),
            ("exercises.check", ("2*x*cos(x^2)", "2x cos(x^2)")),
        ):
            try:
                registry.registered(name)(*args)
            except Exception:  # a warm-up failure only costs speed
                pass
    finally:
        registry.set_in_worker(was_inside)
    _state["warm"] = True
