"""Time limits stop runaway symbolic work, in the main thread and in worker threads."""

import threading
import time

import pytest
import sympy as sp

from calcml.symbolic import SymbolicTimeout, derive, get_default_timeout, set_default_timeout, time_limit

x = sp.Symbol("x")


def _slow():
    sp.expand((x + 1) ** 400 * (x - 2) ** 400 * (x + 3) ** 300)


def test_a_slow_operation_times_out_in_the_main_thread():
    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout, match="did not finish within 0.3 s"):
        with time_limit(0.3):
            _slow()
    assert time.perf_counter() - start < 2.0


def test_a_slow_operation_times_out_in_a_worker_thread():
    outcome = {}

    def work():
        start = time.perf_counter()
        try:
            with time_limit(0.3):
                _slow()
        except SymbolicTimeout:
            outcome["elapsed"] = time.perf_counter() - start

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert 0.25 < outcome["elapsed"] < 2.0


def test_sympy_catch_all_handlers_cannot_swallow_the_timeout():
    with pytest.raises(SymbolicTimeout):
        with time_limit(0.2):
            while True:
                try:
                    sum(range(1000))
                except Exception:  # what a careless library might do
                    pass


def test_no_stray_exception_after_a_block_that_finished_in_time():
    with time_limit(0.2):
        value = sp.diff(sp.sin(x), x)
    time.sleep(0.4)  # the timer would have fired by now
    assert value == sp.cos(x)


def test_nested_limits_share_the_outer_deadline():
    with pytest.raises(SymbolicTimeout) as info:
        with time_limit(0.3):
            with time_limit(100):
                _slow()
    assert info.value.seconds == 0.3


def test_public_functions_take_a_timeout():
    big = "*".join(f"sin(x + {k})^3" for k in range(60))
    with pytest.raises(SymbolicTimeout):
        derive(big, "x", 3, timeout=0.05)


def test_default_timeout_is_settable_and_validated():
    old = get_default_timeout()
    try:
        set_default_timeout(0.2)
        assert get_default_timeout() == 0.2
        with pytest.raises(SymbolicTimeout):
            with time_limit():
                _slow()
    finally:
        set_default_timeout(old)
    with pytest.raises(ValueError):
        set_default_timeout(0)
