"""Stochastic differential equations: Euler–Maruyama, Milstein, and Langevin sampling."""

from calcml.sde.integrators import brownian_increments, euler_maruyama, milstein
from calcml.sde.langevin import LangevinChain, langevin

__all__ = ["LangevinChain", "brownian_increments", "euler_maruyama", "langevin", "milstein"]
