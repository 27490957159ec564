"""Median time of ``derive`` with steps (parse, rules, every step verified) on the ML expressions.

Run:  python benchmarks/bench_derive.py        target: median < 50 ms

Each expression is differentiated once to warm SymPy's caches for its sub-expressions; the figure
is the median over expressions of the median of ``REPEATS`` timed calls. A cold figure (SymPy's
cache cleared before every call) is printed too, for honesty about first-call cost.
"""

from __future__ import annotations

import statistics
import time

from sympy.core.cache import clear_cache

from calcml.symbolic import derive

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


def time_call(expr: str, var: str, cold: bool) -> float:
    if cold:
        clear_cache()
    start = time.perf_counter()
    derive(expr, var)
    return time.perf_counter() - start


def main() -> None:
    warm, cold = [], []
    for expr, var in ML_EXPRESSIONS:
        derive(expr, var)
        warm.append(statistics.median(time_call(expr, var, False) for _ in range(REPEATS)))
        cold.append(statistics.median(time_call(expr, var, True) for _ in range(3)))
        print(f"{warm[-1] * 1e3:7.1f} ms  (cold {cold[-1] * 1e3:6.1f} ms)  d/d{var} {expr}")
    median = statistics.median(warm) * 1e3
    print(
        f"median derive-with-steps time: {median:.1f} ms (cold cache: {statistics.median(cold) * 1e3:.1f} ms); "
        f"target < 50 ms: {'met' if median < 50 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
