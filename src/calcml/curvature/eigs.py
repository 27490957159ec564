"""Top eigenvalues and eigenvectors of a loss's Hessian, matrix-free: Lanczos, and power iteration.

Both see the Hessian only through Hessian-vector products (``HessianOperator``), so they work on networks
whose n × n Hessian would never fit in memory. Lanczos (with full reorthogonalization) finds the k largest
eigenvalues together from one Krylov space; power iteration, the teaching version, repeats v ← Hv/‖Hv‖ and
finds one eigenvalue at a time (the next ones after deflating those found: H − Σ λ_i v_i v_iᵀ).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.curvature.errors import CurvatureInputError, positive_integer
from calcml.curvature.lanczos import lanczos
from calcml.curvature.operator import HessianOperator


@dataclass(frozen=True)
class HessianEigs:
    """The k largest eigenvalues (descending), their eigenvectors as pytrees like ``params``, the number of
    Hessian-vector products used, and each pair's residual ‖Hv − λv‖ (how far from converged it is)."""

    eigenvalues: np.ndarray
    eigenvectors: list[Any]
    hvps: int
    residuals: np.ndarray
    method: str

    def __repr__(self) -> str:
        values = ", ".join(f"{v:.6g}" for v in self.eigenvalues)
        return (f"HessianEigs(eigenvalues=[{values}], hvps={self.hvps}, "
                f"max_residual={float(np.max(self.residuals)):.1e}, method={self.method!r})")


def hessian_eigs(loss: Callable[[Any], Any], params: Any, k: int = 5, method: str = "lanczos",
                 iters: int | None = None, seed: int | None = 0, tol: float = 1e-10) -> HessianEigs:
    """The k largest eigenvalues of ∇²loss(params) and their eigenvectors, from Hessian-vector products only.

    ``method="lanczos"`` runs ``iters`` Lanczos steps (default min(n, max(4k, 40))) from a random start and
    keeps the k largest Ritz pairs; ``"power"`` runs power iteration (at most ``iters`` products per
    eigenvalue, default 1000, stopping when the eigenvalue changes by less than ``tol`` relative) — it finds
    the eigenvalue of largest *magnitude*, which is the largest one when the Hessian is positive semi-definite
    near a minimum, and each further one after deflating those found.

    >>> r = cm.curvature.hessian_eigs(lambda w: np.sum(np.arange(1.0, 6.0) * w ** 2) / 2, np.zeros(5), k=2)
    >>> r.eigenvalues, r.hvps
    (array([5., 4.]), 5)
    """
    k = positive_integer(k, "k", "hessian_eigs")
    if method not in ("lanczos", "power"):
        raise CurvatureInputError(f"hessian_eigs: method must be 'lanczos' or 'power', not {method!r}.")
    H = HessianOperator(loss, params)
    if k > H.size:
        raise CurvatureInputError(f"hessian_eigs: k={k} is more than the {H.size} parameters.")
    rng = np.random.default_rng(seed)
    if method == "lanczos":
        steps = min(H.size, max(4 * k, 40)) if iters is None else positive_integer(iters, "iters", "hessian_eigs")
        basis = lanczos(H, rng.standard_normal(H.size), steps, restart=rng)
        theta, S = basis.eigh()
        if len(theta) < k:
            raise CurvatureInputError(f"hessian_eigs: {len(theta)} Lanczos steps cannot give k={k} eigenvalues; "
                             f"use iters >= k.")
        order = np.argsort(theta)[::-1][:k]
        values = theta[order]
        vectors = basis.Q @ S[:, order]
        residuals = basis.last_beta * np.abs(S[-1, order])
    else:
        per_value = 1000 if iters is None else positive_integer(iters, "iters", "hessian_eigs")
        values, columns, residuals = _power(H, k, per_value, rng, tol)
        vectors = np.stack(columns, axis=1)
    return HessianEigs(np.asarray(values), [H.unflatten(vectors[:, i].copy()) for i in range(k)], H.hvps,
                       np.asarray(residuals), method)


def _power(H: HessianOperator, k: int, iters: int, rng: np.random.Generator, tol: float):
    values: list[float] = []
    columns: list[np.ndarray] = []
    residuals: list[float] = []

    def deflated(v: np.ndarray) -> np.ndarray:
        out = H(v)
        for lam, u in zip(values, columns):
            out = out - lam * (u @ v) * u
        return out

    for _ in range(k):
        v = rng.standard_normal(H.size)
        for u in columns:  # start orthogonal to the eigenvectors already found
            v = v - (u @ v) * u
        v /= np.linalg.norm(v)
        Hv = deflated(v)
        lam = float(v @ Hv)
        for _ in range(iters - 1):
            v = Hv / np.linalg.norm(Hv)
            Hv = deflated(v)
            new = float(v @ Hv)  # the Rayleigh quotient
            converged = abs(new - lam) <= tol * max(abs(new), 1e-300)
            lam = new
            if converged:
                break
        values.append(lam)
        columns.append(v)
        residuals.append(float(np.linalg.norm(Hv - lam * v)))
    return values, columns, residuals
