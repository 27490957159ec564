"""The worker pool: warm calls in milliseconds, errors that keep their type, killed workers replaced,
many threads at once, memory capped, and nothing left running when the parent is stopped."""

import os
import signal
import statistics
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import sympy as sp

from calcml.symbolic import ParseError, SymbolicTimeout, WorkerError, derive, gradient, workers

SLOW = "*".join(f"sin(x + {k})^3" for k in range(60))


def test_a_warm_call_takes_milliseconds():
    derive("sin(x^2)", "x")
    times = []
    for _ in range(30):
        start = time.perf_counter()
        d = derive("sin(x^2)", "x")
        times.append(time.perf_counter() - start)
    assert str(d.result) == "2*x*cos(x**2)" and d.steps.rule == "diff.chain"
    assert statistics.median(times) < 0.025, f"median {statistics.median(times) * 1e3:.1f} ms"


def test_the_work_happens_in_another_process_and_nested_calls_run_inline_there():
    before = workers.stats().calls
    answer = workers.call("workers.probe", timeout=5)
    assert answer["pid"] != os.getpid() and answer["in_worker"] is True
    table = gradient("x^2*y + 3*x*y^2", ["x", "y"], at={"x": 2, "y": 3})  # derive twice, inside one call
    assert table.value == sp.Matrix([[39], [40]]) and len(table.entries) == 2
    assert workers.stats().calls - before == 2


def test_errors_keep_their_type_and_details():
    with pytest.raises(ParseError) as info:
        derive("sin(x", "x")
    assert info.value.column == 6 and "column 6" in str(info.value)
    with pytest.raises(ValueError, match="order must be a whole number from 1 to 100"):
        derive("x^2", "x", 0)
    with pytest.raises(TypeError, match="cannot be sent to a symbolic worker"):
        derive(lambda x: x, "x")
    with pytest.raises(KeyError, match="no symbolic function is registered as 'os.system'"):
        workers.call("os.system", "echo hi")


def test_a_worker_past_its_deadline_is_killed_and_replaced_by_a_warm_one():
    before = workers.stats()
    with pytest.raises(SymbolicTimeout):
        derive(SLOW, "x", 3, timeout=0.5)
    time.sleep(0.3)  # the replacement starts in the background
    start = time.perf_counter()
    assert str(derive("x^3", "x").result) == "3*x**2"
    assert time.perf_counter() - start < 1.0
    after = workers.stats()
    assert after.killed == before.killed + 1 and after.timeouts == before.timeouts + 1
    assert after.alive == after.size  # the killed worker was replaced


def test_24_threads_at_once_get_the_answers_a_serial_run_gets():
    exprs = [f"sin({k}*x^2) + x^{k}*exp(x)" for k in range(1, 25)]
    serial = [derive(e, "x").to_dict() for e in exprs]
    results: dict[int, object] = {}

    def work(i: int) -> None:
        try:
            results[i] = derive(exprs[i], "x", timeout=60).to_dict()
        except Exception as error:  # recorded, so the assertion shows it
            results[i] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert [results[i] for i in range(24)] == serial


def test_a_memory_bomb_is_stopped_by_the_cap_and_the_pool_recovers():
    start = time.perf_counter()
    with pytest.raises(WorkerError, match="more memory than a symbolic worker may use"):
        workers.call("workers.probe", 3 * 1024**3, timeout=10)
    assert time.perf_counter() - start < 2
    assert str(derive("x^2", "x").result) == "2*x"
    assert workers.stats().peak_rss < 1024**3


def test_a_worker_that_dies_is_reported_and_replaced():
    pool = workers._pool()
    outcome = {}

    def work():
        try:
            workers.call("workers.probe", 0, 5.0, timeout=20)
        except WorkerError as error:
            outcome["error"] = error

    thread = threading.Thread(target=work)
    thread.start()
    deadline = time.monotonic() + 5
    while not pool._busy and time.monotonic() < deadline:
        time.sleep(0.01)
    (busy,) = list(pool._busy)
    os.kill(busy.pid, signal.SIGKILL)
    thread.join(10)
    assert "stopped unexpectedly" in str(outcome["error"])
    assert str(derive("x^2", "x").result) == "2*x"


def test_configure_validates_its_arguments():
    for bad in (0, 33, True, 1.5):
        with pytest.raises(ValueError, match="pool size"):
            workers.configure(size=bad)
    with pytest.raises(ValueError, match="memory limit"):
        workers.configure(memory_limit=1024)


_PARENT = textwrap.dedent(
    """
    import os, sys, threading, time
    from calcml.symbolic import derive, workers
    workers.call("workers.probe", timeout=60)
    pool = workers._pool()
    pids = [w.pid for w in pool._idle] + [pool._zygote.process.pid]
    print(" ".join(map(str, pids)), flush=True)
    slow = "*".join(f"sin(x + {k})^3" for k in range(60))
    derive(slow, "x", 3, timeout=120)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent counts as gone
        with open(f"/proc/{pid}/status") as status:
            return "zombie" not in status.read()
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_parent_mid_call_stops_its_workers(sig, tmp_path):
    """Also: the script has no main guard, and workers never re-import it (it prints its line once)."""
    script = tmp_path / "parent.py"
    script.write_text(_PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert pids, parent.stderr.read()
    time.sleep(0.5)  # the slow call is running in a worker
    parent.send_signal(sig)
    parent.wait(5)
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)]
    assert parent.stdout.read() == ""  # the top level of the script ran once

