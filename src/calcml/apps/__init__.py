"""Case studies and future directions. Each is a module of its own, imported by name, for example
``from calcml.apps import rl`` (policy gradients), ``calcml.apps.quantum`` (the parameter-shift rule)
or ``calcml.apps.stochastic`` (Itô vs Stratonovich, Langevin dynamics)."""
