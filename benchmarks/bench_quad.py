"""Evaluations of f (and wall time) of calcml's quad vs scipy.integrate.quad on the known-answer suite,
at the same tolerance (relative 1e-10, absolute 0). Target: calcml's evaluations ≤ 1.5 × scipy's.
Then the integrals whose value is 0, where only an absolute tolerance can stop the bisection:
calcml's default atol (1e-12) against atol = 0 and scipy's default epsabs (1.49e-8).
   python benchmarks/bench_quad.py
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.integrate import quad as scipy_quad
from timing import median_seconds, report

from calcml.integrate import quad
from calcml.integrate.problems import ISSUE_SUITE as SUITE

RTOL = 1e-10
ZERO_VALUED = {
    "x e^(−x²) on ℝ": (lambda x: x * np.exp(-x * x), -np.inf, np.inf),
    "x φ(x) on ℝ (E[X], X ~ N(0, 1))": (lambda x: x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi), -np.inf, np.inf),
    "sin x on [0, 2π]": (np.sin, 0, 2 * np.pi),
    "(x² − 2x) e^(−x) on [0, ∞)": (lambda x: (x * x - 2 * x) * np.exp(-x), 0, np.inf),
}


def main() -> None:
    np.seterr(divide="ignore")
    warnings.simplefilter("ignore")  # scipy's roundoff warnings; calcml's results report convergence
    print(f"quad vs scipy.integrate.quad, rtol = {RTOL:g}, atol = 0")
    print(f"  {'integral':<26} {'calcml evals':>12} {'scipy evals':>12} {'ratio':>6}   "
          f"{'calcml err':>10} {'scipy err':>10}")
    ours_total = theirs_total = 0
    for name, (f, a, b, exact) in SUITE.items():
        ours = quad(f, a, b, rtol=RTOL, atol=0.0)
        value, _, info = scipy_quad(f, a, b, epsabs=0.0, epsrel=RTOL, limit=200, full_output=1)
        ours_total += ours.evals
        theirs_total += info["neval"]
        print(f"  {name:<26} {ours.evals:>12} {info['neval']:>12} {ours.evals / info['neval']:>6.2f}   "
              f"{abs(float(ours) - exact):>10.1e} {abs(value - exact):>10.1e}")
    print(f"  {'whole suite':<26} {ours_total:>12} {theirs_total:>12} {ours_total / theirs_total:>6.2f}")
    print(f"\nintegrals whose value is 0 (evaluations of f), rtol = {RTOL:g}")
    print(f"  {'integral':<34} {'atol=1e-12':>10} {'atol=0':>8} {'scipy':>6}")
    for name, (f, a, b) in ZERO_VALUED.items():
        default, relative = quad(f, a, b, rtol=RTOL), quad(f, a, b, rtol=RTOL, atol=0.0)
        _, _, info = scipy_quad(f, a, b, epsrel=RTOL, limit=200, full_output=1)
        print(f"  {name:<34} {default.evals:>10} {relative.evals:>8} {info['neval']:>6}")
    for name in ("eˣ on [0, 1]", "x sin 30x on [0, 2π]", "Beta(½, ½) normaliser"):
        f, a, b, _ = SUITE[name]
        report(f"wall time: {name}", {
            "calcml": median_seconds(lambda: quad(f, a, b, rtol=RTOL), repeats=30, warmup=3),
            "scipy (compiled QUADPACK)": median_seconds(
                lambda: scipy_quad(f, a, b, epsabs=0.0, epsrel=RTOL, limit=200), repeats=30, warmup=3),
        })


if __name__ == "__main__":
    main()
