"""Evaluations of f (and wall time) of calcml's quad vs scipy.integrate.quad on the known-answer suite,
at the same tolerance (relative 1e-10, absolute 0). Target: calcml's evaluations ≤ 1.5 × scipy's.
   python benchmarks/bench_quad.py
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.integrate import quad as scipy_quad
from timing import median_seconds, report

from calcml.integrate import quad

SQRT2PI = math.sqrt(2 * math.pi)
phi = lambda x: np.exp(-x * x / 2) / SQRT2PI
normal = lambda x, m, s: np.exp(-((x - m) / s) ** 2 / 2) / (s * SQRT2PI)

SUITE = {
    "e^x on [0, 1]": (np.exp, 0, 1, math.e - 1),
    "x sin 30x on [0, 2pi]": (lambda x: x * np.sin(30 * x), 0, 2 * math.pi, -math.pi / 15),
    "1/sqrt x on [0, 1]": (lambda x: 1 / np.sqrt(x), 0, 1, 2.0),
    "log x on [0, 1]": (np.log, 0, 1, -1.0),
    "Beta(1/2,1/2) normaliser": (lambda x: x ** -0.5 * (1 - x) ** -0.5, 0, 1, math.pi),
    "Gaussian mass": (phi, -np.inf, np.inf, 1.0),
    "mixture mass": (lambda x: 0.3 * normal(x, -2, 0.5) + 0.7 * normal(x, 1.5, 1.2), -np.inf, np.inf, 1.0),
    "Phi(1.96)": (phi, -np.inf, 1.96, 0.9750021048517795),
}
RTOL = 1e-10


def main() -> None:
    np.seterr(divide="ignore")
    warnings.simplefilter("ignore")  # scipy's roundoff warnings; calcml's results report convergence
    print(f"quad vs scipy.integrate.quad, rtol = {RTOL:g}, atol = 0")
    print(f"  {'integral':<26} {'calcml evals':>12} {'scipy evals':>12} {'ratio':>6}   "
          f"{'calcml err':>10} {'scipy err':>10}")
    ours_total = theirs_total = 0
    for name, (f, a, b, exact) in SUITE.items():
        ours = quad(f, a, b, rtol=RTOL)
        value, _, info = scipy_quad(f, a, b, epsabs=0.0, epsrel=RTOL, limit=200, full_output=1)
        ours_total += ours.evals
        theirs_total += info["neval"]
        print(f"  {name:<26} {ours.evals:>12} {info['neval']:>12} {ours.evals / info['neval']:>6.2f}   "
              f"{abs(float(ours) - exact):>10.1e} {abs(value - exact):>10.1e}")
    print(f"  {'whole suite':<26} {ours_total:>12} {theirs_total:>12} {ours_total / theirs_total:>6.2f}")
    for name in ("e^x on [0, 1]", "x sin 30x on [0, 2pi]", "Beta(1/2,1/2) normaliser"):
        f, a, b, _ = SUITE[name]
        report(f"wall time: {name}", {
            "calcml": median_seconds(lambda: quad(f, a, b, rtol=RTOL), repeats=30, warmup=3),
            "scipy (compiled QUADPACK)": median_seconds(
                lambda: scipy_quad(f, a, b, epsabs=0.0, epsrel=RTOL, limit=200), repeats=30, warmup=3),
        })


if __name__ == "__main__":
    main()
