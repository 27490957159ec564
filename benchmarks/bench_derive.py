"""``derive`` with steps through the symbolic worker pool: warm latency, cold start, and hard limits.

Run:  python benchmarks/bench_derive.py        targets: warm sin(x^2) a few ms; ML median < 50 ms;
                                                bombs refused or stopped within their limit + 1 s

Figures printed:
- cold start: the first ``derive`` in a fresh Python process (starts the zygote: imports, warm-up);
- warm: median over 50 calls of ``derive("sin(x^2)", "x")`` (parse, rules, verification, two pickles);
- the 14 ML expressions: median over expressions of the median of REPEATS calls;
- hostile: the coefficient bomb and the huge sum of issue 11, a derivative stopped at 1 s, the call
  right after a kill, and the largest peak RSS of any worker.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from calcml.symbolic import SymbolicError, derive, summation, workers
from calcml.symbolic import limit as limit_of

ML_EXPRESSIONS = [
    ("sigmoid(w*x + b)", "w"),
    ("tanh(w*x + b)", "w"),
    ("relu(w*x + b)", "w"),
    ("softplus(w*x + b)", "x"),
    ("x*sigmoid(x)", "x"),
    ("(y - w*x - b)^2", "w"),
    ("-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z)))", "z"),
    ("log(1 + exp(-y*(w*x + b)))", "w"),
    ("-log(softmax(2, a, x, c))", "x"),
    ("logsumexp(a, x, c)", "x"),
    ("w1*tanh(v1*x + c1) + w2*tanh(v2*x + c2) + b", "v1"),
    ("sigmoid(w1*tanh(v1*x + c1) + w2*tanh(v2*x + c2) + b)", "w1"),
    ("(y - (w1*tanh(v1*x + c1) + w2*tanh(v2*x + c2) + b))^2", "v2"),
    ("w1*relu(v1*x + c1) + w2*relu(v2*x + c2) + b", "c1"),
]
REPEATS = 7
COLD = (
    "import time; t = time.perf_counter(); import calcml as cm; i = time.perf_counter(); "
    "cm.derive('sin(x^2)', 'x'); print(i - t, time.perf_counter() - i)"
)


def seconds(work) -> tuple[float, str]:
    """(wall time, outcome) of ``work()``; the outcome is 'answered' or the error's first line."""
    start = time.perf_counter()
    try:
        work()
        outcome = "answered"
    except SymbolicError as error:
        outcome = f"{type(error).__name__}: {str(error).splitlines()[0][:90]}"
    return time.perf_counter() - start, outcome


def main() -> None:
    imported, first = map(float, subprocess.check_output([sys.executable, "-c", COLD], text=True).split())
    print(f"cold start: import calcml {imported:.2f} s, then the first derive {first:.2f} s (zygote + first fork)")

    derive("sin(x^2)", "x")
    warm = []
    for _ in range(50):
        start = time.perf_counter()
        derive("sin(x^2)", "x")
        warm.append(time.perf_counter() - start)
    print(f"warm derive('sin(x^2)'): median {statistics.median(warm) * 1e3:.2f} ms over 50 calls "
          f"(min {min(warm) * 1e3:.2f}, max {max(warm) * 1e3:.2f})")

    per_expression = []
    for expr, var in ML_EXPRESSIONS:
        derive(expr, var)
        per_expression.append(statistics.median(seconds(lambda: derive(expr, var))[0] for _ in range(REPEATS)))
    median = statistics.median(per_expression) * 1e3
    print(f"ML expressions: median {median:.1f} ms with steps; target < 50 ms: {'met' if median < 50 else 'NOT met'}")

    slow = "*".join(f"sin(x + {k})^3" for k in range(60))
    for label, work, seconds_allowed in [
        ("(((3x)^1000)^1000)^100, limit 5 s", lambda: derive("(((3x)^1000)^1000)^100", "x", timeout=5), 5),
        ("sum 3^k, k = 1..10^1000, limit 5 s", lambda: summation("3^k", ("k", 1, "10^1000"), timeout=5), 5),
        ("3rd derivative of 60 sines, limit 1 s", lambda: derive(slow, "x", 3, timeout=1), 1),
        ("limit of 2^x at 10^999 (one C call), limit 2 s", lambda: limit_of("2^x", "x", "10^999", timeout=2), 2),
        ("derive('sin(x^2)') right after a kill", lambda: derive("sin(x^2)", "x"), 1),
    ]:
        elapsed, outcome = seconds(work)
        verdict = "within limit + 1 s" if elapsed <= seconds_allowed + 1 else "LATE"
        print(f"{label}: {elapsed:.2f} s, {verdict} — {outcome}")
    stats = workers.stats()
    print(f"pool: {stats.size} workers, {stats.calls} calls, {stats.timeouts} timeouts, {stats.killed} killed; "
          f"largest worker peak RSS {stats.peak_rss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
