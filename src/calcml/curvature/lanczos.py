"""Lanczos with full reorthogonalization: the symmetric tridiagonal T = QᵀHQ of a Krylov space.

From a unit vector q₁, each step applies H once:  w = H q_j − α_j q_j − β_{j−1} q_{j−1},  α_j = q_jᵀ H q_j,
β_j = ‖w‖,  q_{j+1} = w / β_j. In floating point the q's lose orthogonality as Ritz values converge; full
reorthogonalization (subtracting w's components along every earlier q, twice) keeps Q orthonormal to
rounding, at O(n m) memory. The eigenvalues of T (Ritz values) approach H's extreme eigenvalues first; for
a Ritz pair (θ, Q s) the residual ‖H Q s − θ Q s‖ equals β_m |s_m|, known without another product.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from calcml.curvature.errors import CurvatureInputError


class Tridiagonal(NamedTuple):
    """Q (n × m, orthonormal columns), the diagonal α (m) and off-diagonal β (m − 1) of T, and β_m."""

    Q: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    last_beta: float

    def eigh(self) -> tuple[np.ndarray, np.ndarray]:
        """T's eigenvalues (ascending) and eigenvectors."""
        T = np.diag(self.alpha) + np.diag(self.beta, 1) + np.diag(self.beta, -1)
        return np.linalg.eigh(T)


def lanczos(matvec: Callable[[np.ndarray], np.ndarray], start: np.ndarray, steps: int,
            restart: np.random.Generator | None = None) -> Tridiagonal:
    """``steps`` Lanczos steps from ``start`` (normalized here).

    When the Krylov space becomes invariant (β below rounding) its Ritz values are exact eigenvalues, but it
    holds only one vector per distinct eigenvalue: a repeated eigenvalue shows once. Without ``restart`` the
    run stops there (what a quadrature from ``start`` needs); with a generator, it continues from a random
    vector orthogonal to every q so far (β = 0 between the blocks), so multiplicities are found too."""
    n = start.size
    steps = min(steps, n)
    Q = np.zeros((n, steps))
    alpha: list[float] = []
    beta: list[float] = []
    q = start / np.linalg.norm(start)
    last_beta = 0.0
    for j in range(steps):
        Q[:, j] = q
        w = matvec(q)
        if not np.all(np.isfinite(w)):
            raise CurvatureInputError(f"Lanczos step {j + 1}: the Hessian-vector product has nan or inf entries — the "
                                      "loss is not finite near these parameters (did training diverge?).")
        a = float(q @ w)
        alpha.append(a)
        basis = Q[:, :j + 1]
        for _ in range(2):  # twice is enough (Kahan–Parlett)
            w = w - basis @ (basis.T @ w)
        b = float(np.linalg.norm(w))
        scale = max([abs(a), *(abs(x) for x in beta)])
        if j == steps - 1:
            last_beta = b
            break
        if b <= 1e-12 * scale:
            if restart is None:
                Q = Q[:, :j + 1]
                break
            w = restart.standard_normal(n)
            for _ in range(2):
                w = w - basis @ (basis.T @ w)
            beta.append(0.0)
            q = w / np.linalg.norm(w)
            continue
        beta.append(b)
        q = w / b
    return Tridiagonal(Q, np.array(alpha), np.array(beta), last_beta)
