"""Gauss–Kronrod rules, computed rather than tabulated.

Kronrod (1965) extends the n-point Gauss–Legendre rule G_n with n + 1 new nodes so that the
2n + 1 points integrate every polynomial of degree ≤ 3n + 1 exactly; the old nodes are reused, so
|K − G| estimates the error of G for the price of n + 1 extra evaluations.

The new nodes are the roots of the Stieltjes polynomial E_{n+1}, defined by orthogonality against
the sign-changing weight P_n (Szegő 1935; Monegato, "Stieltjes polynomials and related quadrature
rules", SIAM Review 24, 1982):

    ∫₋₁¹ P_n(x) E_{n+1}(x) P_k(x) dx = 0   for k = 0, …, n.

We write E_{n+1} = P_{n+1} + Σ_j c_j P_j in the Legendre basis (well conditioned), solve this linear
system for c (the triple products are exact with a Gauss–Legendre rule of n + 2 points), take the
roots with NumPy's Legendre companion matrix and polish them by Newton's method. The 2n + 1
weights then follow from exactness on P_0, …, P_2n:  Σ_i w_i P_j(x_i) = ∫ P_j = 2 δ_j0.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from numpy.polynomial import legendre as L


class KronrodRule(NamedTuple):
    """Nodes in increasing order on [−1, 1]; Kronrod weights; Gauss weights (0 at Kronrod-only nodes)."""

    nodes: np.ndarray
    kronrod_weights: np.ndarray
    gauss_weights: np.ndarray


def stieltjes_roots(n: int) -> np.ndarray:
    """The n + 1 roots of the Stieltjes polynomial E_{n+1}: the nodes Kronrod adds to G_n."""
    x, w = L.leggauss(2 * n + 2)  # exact up to degree 4n + 3 ≥ deg(P_n P_k P_j) = 3n + 1
    P = L.legvander(x, n + 1)  # P[:, j] = P_j(x)
    # E_{n+1} has the parity of n + 1: only those c_j are free, and only odd-parity equations are nontrivial.
    free = [j for j in range(n + 1) if (j - n - 1) % 2 == 0]
    rows = [k for k in range(n + 1) if (n + k + free[0]) % 2 == 0]
    weighted = w * P[:, n]
    A = np.array([[np.sum(weighted * P[:, k] * P[:, j]) for j in free] for k in rows])
    rhs = -np.array([np.sum(weighted * P[:, k] * P[:, n + 1]) for k in rows])
    coefficients = np.zeros(n + 2)
    coefficients[n + 1] = 1.0
    coefficients[free] = np.linalg.solve(A, rhs)
    roots = np.sort(L.legroots(coefficients).real)
    derivative = L.legder(coefficients)
    for _ in range(3):  # Newton polish of the companion-matrix roots
        roots = roots - L.legval(roots, coefficients) / L.legval(roots, derivative)
    return roots


@functools.cache
def gauss_kronrod(n: int = 7) -> KronrodRule:
    """The (2n + 1)-point Kronrod extension of the n-point Gauss–Legendre rule on [−1, 1].

    >>> rule = gauss_kronrod(7)          # G7–K15, the rule of QUADPACK's qk15
    >>> round(float(rule.kronrod_weights[7]), 15)   # centre weight; QUADPACK's table: 0.2094821410847278280
    0.209482141084728
    """
    gauss_nodes, gauss_weights = L.leggauss(n)
    nodes = np.sort(np.concatenate([gauss_nodes, stieltjes_roots(n)]))
    V = L.legvander(nodes, 2 * n).T  # V[j, i] = P_j(x_i)
    moments = np.zeros(2 * n + 1)
    moments[0] = 2.0
    kronrod_weights = np.linalg.solve(V, moments)
    embedded = np.zeros_like(nodes)
    for node, weight in zip(gauss_nodes, gauss_weights):
        embedded[np.argmin(np.abs(nodes - node))] = weight
    for array in (nodes, kronrod_weights, embedded):
        array.setflags(write=False)
    return KronrodRule(nodes, kronrod_weights, embedded)
