"""Integrals with known closed forms: the suite quadrature is judged on (tests and benchmarks share it).

Each entry is ``name: (f, a, b, exact)``. ``ISSUE_SUITE`` holds the integrals the project promised to
compute to 1e-10 (smooth, oscillating, endpoint singularities, infinite ranges, densities);
``SUITE`` adds a few more shapes of difficulty.

>>> f, a, b, exact = SUITE["x sin 30x on [0, 2π]"]
>>> bool(abs(cm.integrate.quad(f, a, b).value - exact) < 1e-10)
True
"""

from __future__ import annotations

import math

import numpy as np

SQRT_2PI = math.sqrt(2 * math.pi)


def standard_normal_pdf(x):
    """φ(x) = e^(−x²/2) / √(2π)."""
    return np.exp(-x * x / 2) / SQRT_2PI


def normal_pdf(x, mean, sd):
    """The N(mean, sd²) density."""
    return np.exp(-(((x - mean) / sd) ** 2) / 2) / (sd * SQRT_2PI)


ISSUE_SUITE = {
    "eˣ on [0, 1]": (np.exp, 0, 1, math.e - 1),
    "x sin 30x on [0, 2π]": (lambda x: x * np.sin(30 * x), 0, 2 * math.pi, -math.pi / 15),
    "1/√x on [0, 1]": (lambda x: 1 / np.sqrt(x), 0, 1, 2.0),
    "log x on [0, 1]": (np.log, 0, 1, -1.0),
    "Beta(½, ½) normaliser": (lambda x: x**-0.5 * (1 - x) ** -0.5, 0, 1, math.pi),
    "Gaussian mass": (standard_normal_pdf, -np.inf, np.inf, 1.0),
    "mixture mass": (lambda x: 0.3 * normal_pdf(x, -2, 0.5) + 0.7 * normal_pdf(x, 1.5, 1.2), -np.inf, np.inf, 1.0),
    "Φ(1.96)": (standard_normal_pdf, -np.inf, 1.96, 0.9750021048517795),
}

SUITE = {
    **ISSUE_SUITE,
    "e^-x on [0, ∞)": (lambda x: np.exp(-x), 0, np.inf, 1.0),
    "x^-1.5 on [1, ∞)": (lambda x: x**-1.5, 1, np.inf, 2.0),
    "√x on [0, 1]": (np.sqrt, 0, 1, 2 / 3),
    "1/(1+x²) on ℝ": (lambda x: 1 / (1 + x * x), -np.inf, np.inf, math.pi),
}
