"""Sweeps and sampling beyond one core: ``cm.sweep(fn, grid, seeds=..., backend=...)`` runs a function at every
point of a grid (or a random search) and every seed — in this process, in local processes (joblib) or on a Dask
cluster — and returns a tidy table (``SweepResult.table``: a pandas DataFrame when pandas is installed).

``cm.sweep`` is this module, and calling it is ``cm.sweep.run``. The same machinery (``map_blocks``: blocks of
samples with their own ``SeedSequence.spawn`` streams) gives ``cm.integrate.montecarlo``,
``cm.prob.grad_expectation`` and ``cm.sde.euler_maruyama`` their ``backend=``: the same seed, the same answer on
every backend.

>>> result = cm.sweep(lambda lr, seed: (1 - lr) ** 10 + 0.01 * seed, {"lr": [0.1, 0.5]}, seeds=2,
...                   backend="serial", progress=False)
>>> [round(r["value"], 4) for r in result.records]
[0.3487, 0.3587, 0.001, 0.011]
"""

import sys
import types

from calcml.sweep.backends import BACKENDS, Session, session
from calcml.sweep.blocks import map_blocks
from calcml.sweep.errors import BackendUnavailableError, SweepInputError
from calcml.sweep.result import SweepResult
from calcml.sweep.run import run
from calcml.sweep.space import Uniform, grid, log_uniform, random_search, uniform

__all__ = [
    "BACKENDS", "BackendUnavailableError", "Session", "SweepInputError", "SweepResult", "Uniform", "grid",
    "log_uniform", "map_blocks", "random_search", "run", "session", "uniform",
]


class SweepModule(types.ModuleType):
    """The module ``calcml.sweep``, callable: ``cm.sweep(fn, grid, ...)`` is ``cm.sweep.run(fn, grid, ...)``.

    Type checkers see ``cm.sweep`` as this class (``calcml/__init__.py`` says so, as they cannot call a module):
    the call is checked against ``run``'s signature; the module's other names read as ``Any`` through it
    (import them from ``calcml.sweep`` to have their types).
    """

    __call__ = staticmethod(run)


sys.modules[__name__].__class__ = SweepModule
