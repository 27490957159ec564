"""Time limits: bounded and validated, enforced by killing the worker, shared by nested calls."""

import math
import time
import warnings

import pytest

from calcml.symbolic import (
    MAX_TIMEOUT,
    SymbolicTimeout,
    derive,
    get_default_timeout,
    registry,
    set_default_timeout,
    time_limit,
    workers,
)
from calcml.symbolic.timeout import DEFAULT_TIMEOUT, resolve_timeout

SLOW = "*".join(f"sin(x + {k})^3" for k in range(60))  # its third derivative takes minutes


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 0, -1, MAX_TIMEOUT + 1, True, "5", [1]])
def test_a_time_limit_is_a_finite_positive_number_up_to_the_maximum(bad):
    with pytest.raises(ValueError, match="time limit must be"):
        resolve_timeout(bad)
    with pytest.raises(ValueError, match="time limit must be"):
        derive("x^2", "x", timeout=bad)
    with pytest.raises(ValueError):
        set_default_timeout(bad)


def test_small_and_maximal_limits_are_accepted():
    assert resolve_timeout(1e-4) == 1e-4 and resolve_timeout(MAX_TIMEOUT) == MAX_TIMEOUT
    assert resolve_timeout(None) == get_default_timeout()
    assert DEFAULT_TIMEOUT == 5.0


def test_a_slow_call_is_stopped_at_its_limit_and_named():
    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout) as info:
        derive(SLOW, "x", 3, timeout=1)
    elapsed = time.perf_counter() - start
    assert 0.9 < elapsed < 2.0
    assert info.value.seconds == 1 and "derive('sin(x + 0)^3" in str(info.value)
    assert "did not finish within 1 s and was stopped" in str(info.value)


def test_the_default_limit_applies_when_none_is_given():
    old = get_default_timeout()
    try:
        set_default_timeout(0.5)
        start = time.perf_counter()
        with pytest.raises(SymbolicTimeout, match="within 0.5 s"):
            derive(SLOW, "x", 3)
        assert time.perf_counter() - start < 1.5
    finally:
        set_default_timeout(old)


def test_nested_calls_share_the_outer_deadline():
    """gradient calls derive once per variable inside the worker; the gradient's limit is the one that counts."""
    from calcml.symbolic import gradient

    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout, match="gradient"):
        gradient(SLOW.replace("x + 1", "y + 1") + "*sin(x*y)^40", ["x", "y"], timeout=0.5)
    assert time.perf_counter() - start < 1.5


def test_time_limit_outside_a_worker_warns_that_it_cannot_stop_anything():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with time_limit(1):
            pass
    assert any(issubclass(w.category, DeprecationWarning) and "cannot stop" in str(w.message) for w in caught)


def test_a_soft_limit_inside_a_worker_interrupts_clears_the_caches_and_retires(monkeypatch):
    """The checker's optional proof gets a shorter budget: a SIGALRM interrupts it between bytecodes."""
    from calcml.symbolic import integrate
    from calcml.symbolic import timeout as limits

    monkeypatch.setattr(registry, "_IN_WORKER", True)  # this test process plays the worker (main thread)
    limits.reset_interrupted()
    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout, match="within 0.2 s"):
        with time_limit(0.2, "integrate"):
            while True:
                try:
                    sum(range(1000))
                except Exception:  # what a careless library might do: it cannot swallow the alarm
                    pass
    assert time.perf_counter() - start < 1.0 and limits.interrupted_since_reset()
    with time_limit(10):
        result = integrate.implementation("x*sec(x)^2", "x").result  # caches were cleared: a right answer
    assert str(result) == "x*tan(x) + log(Abs(cos(x)))"
    time.sleep(0.3)  # the alarms were disarmed: nothing fires later
    limits.reset_interrupted()


def test_a_function_may_declare_its_own_default_limit(monkeypatch):
    from calcml.exercises import generate

    seen = []
    monkeypatch.setattr(workers, "call", lambda name, *args, timeout=None, **kwargs: seen.append((name, timeout)))
    generate("chain-rule")
    generate("chain-rule", timeout=3)
    derive("x", "x")
    assert seen == [("exercises.generate", 20.0), ("exercises.generate", 3), ("derive", None)]
