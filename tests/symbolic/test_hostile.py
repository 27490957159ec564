"""A hostile corpus against the library: every item is refused or answered within its limit + 1 s,
nothing is executed, the workers' memory stays bounded, and the pool answers normally afterwards."""

import time

import pytest

import calcml as cm
from calcml.exercises import check, generate
from calcml.symbolic import (
    SymbolicError,
    SymbolicTimeout,
    critical_points,
    derive,
    directional_derivative,
    gradient,
    integrate,
    is_convex,
    jacobian,
    limit,
    product,
    summation,
    taylor,
    workers,
)

REFUSED = (ValueError, TypeError, SymbolicError)  # ParseError, SymbolicTimeout, WorkerError are SymbolicErrors
SLACK = 1.0


@pytest.fixture(scope="module")
def marker(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "EXECUTED"
    yield path
    assert not path.exists(), "a hostile string was executed"


def _injections(marker):
    return [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        "eval('1+1')",
        "exec('x = 1')",
        "lambda: 0",
        "x.__class__.__bases__",
        "().__class__.__bases__[0].__subclasses__()",
        "[x for x in ()]",
        "x if 1 else y",
        "globals()",
        "getattr(x, 'y')",
        "sin(x); import os",
        "x\n__import__('os')",
        "\x00",
        "x" * 100_000,
    ]


def _paths(text):
    """Every public way a user string reaches SymPy."""
    return [
        ("derive", lambda: derive(text, "x")),
        ("derive variable", lambda: derive("x^2", text)),
        ("integrate", lambda: integrate(text, "x")),
        ("integrate bound", lambda: integrate("x", ("x", 0, text))),
        ("limit point", lambda: limit("sin(x)/x", "x", text)),
        ("summation bound", lambda: summation("k", ("k", 1, text))),
        ("gradient at", lambda: gradient("x*y", ["x", "y"], at={"x": text, "y": 1})),
        ("jacobian", lambda: jacobian([text, "x"], ["x"])),
        ("directional", lambda: directional_derivative("x^2", ["x"], [text])),
        ("taylor point", lambda: taylor("sin(x)", "x", text)),
        ("critical points", lambda: critical_points(text)),
        ("is_convex", lambda: is_convex(text)),
        ("check answer", lambda: check(text, "x")),
        ("check expected", lambda: check("x", text)),
        ("check points", lambda: check("(0, 0)", [[text, "0"]], kind="points")),
        ("check matrix", lambda: check("1", [[text]], kind="matrix")),
        ("check domain", lambda: check("x", "x", domain={"x": (text, 1)})),
        ("generate topic", lambda: generate(text)),
    ]


def test_injection_strings_are_refused_everywhere_and_run_nothing(marker):
    start = time.perf_counter()
    outcomes = []
    for text in _injections(marker):
        for where, attempt in _paths(text):
            t0 = time.perf_counter()
            try:
                answer = attempt()
                if not (where == "check answer" and answer.layer == "parse" and not answer.correct):
                    outcomes.append(f"{where}: {text[:30]!r} was accepted: {str(answer)[:100]}")
            except REFUSED:
                pass
            assert time.perf_counter() - t0 < 1 + SLACK, f"{where}: {text[:30]!r} took too long"
    assert outcomes == [], "\n".join(outcomes)
    assert not marker.exists()
    assert time.perf_counter() - start < 60


BOMBS = [
    ("(((3x)^1000)^1000)^100", 5),
    ("((3x)^1000)^10", 5),
    ("(2^1000 x)^1000", 5),
    ("9^9^9", 5),
    ("10^1000^1000", 5),
    ("1e2000", 5),
    ("(10^999)^5", 5),
    ("sqrt((2^999)^4 + 1) + ((2^999)^4*3 + 1)^(1/2)", 5),  # SymPy would factor these for exact roots
    ("2^1000*2^1000*2^1000*2^1000*2^1000*2^1000*2^1000*2^1000*2^1000*2^1000*2^1000*2^1000*2^1000*2^1000", 5),
]


@pytest.mark.parametrize("text, seconds", BOMBS)
def test_coefficient_bombs_are_refused_fast(text, seconds):
    start = time.perf_counter()
    with pytest.raises(REFUSED, match="digits|too large"):
        derive(text, "x", timeout=seconds)
    assert time.perf_counter() - start < 0.5


def test_the_parser_alone_refuses_every_bomb_in_milliseconds():
    """The first, cheap line: parsing runs in the caller's process, so it must never be slow."""
    from calcml.symbolic import parse

    parse("(3x)^10 + 2^10*x")  # SymPy's first-call costs
    for text, _ in BOMBS:
        start = time.perf_counter()
        with pytest.raises(REFUSED):
            parse(text)
        assert time.perf_counter() - start < 0.1, text


HEAVY = [
    ("sum 3^k to 10^1000", lambda: summation("3^k", ("k", 1, "10^1000"), timeout=5), 5),
    ("product k to 10^6", lambda: product("k", ("k", 1, "10^6"), timeout=5), 5),
    ("product 2^k to 10^30", lambda: product("2^k", ("k", 1, "10^30"), timeout=5), 5),
    ("sum without closed form", lambda: summation("1/(k^k + sin(k))", ("k", 1, "10^9"), timeout=2), 2),
    ("taylor order 10^6", lambda: taylor("exp(x)", "x", 0, 10**6, timeout=2), 2),
    ("derive order 10^6", lambda: derive("x^2", "x", 10**6, timeout=2), 2),
    ("taylor order 60 of exp(sin x)", lambda: taylor("exp(sin(x))", "x", 0, 60, timeout=2), 2),
    ("slow integral", lambda: integrate("exp(x^3)*sin(x)^5*log(x)*tan(x)", "x", timeout=1.5), 1.5),
    ("slow derivative", lambda: derive("*".join(f"sin(x + {k})^3" for k in range(60)), "x", 3, timeout=1), 1),
    # 2^(10^999) is one C call that holds the GIL: no thread can interrupt it, only a kill stops it
    ("a power computed in C", lambda: limit("2^x", "x", "10^999", timeout=1.5), 1.5),
]


@pytest.mark.parametrize("label, attempt, seconds", HEAVY, ids=[h[0] for h in HEAVY])
def test_huge_and_slow_work_is_refused_or_stopped_within_its_limit(label, attempt, seconds):
    start = time.perf_counter()
    try:
        attempt()
    except REFUSED:
        pass
    assert time.perf_counter() - start < seconds + SLACK


def test_the_pool_is_healthy_and_its_memory_bounded_after_the_corpus():
    stats = workers.stats()
    assert stats.peak_rss < 1024**3, f"a worker reached {stats.peak_rss / 2**20:.0f} MiB"
    start = time.perf_counter()
    assert str(cm.derive("sin(x^2)", "x").result) == "2*x*cos(x**2)"
    assert time.perf_counter() - start < 1.0
    with pytest.raises(SymbolicTimeout):  # and it still enforces limits
        derive("*".join(f"sin(x + {k})^3" for k in range(60)), "x", 3, timeout=0.3)
