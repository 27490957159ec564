"""The errors of sweeps and of sampling on a backend: each names what was wrong and what to do."""

from __future__ import annotations

from calcml.errors import CalcmlError


class SweepInputError(CalcmlError, ValueError):
    """A grid, seed list, backend name, chunk count or results file that cannot be used as given."""


class BackendUnavailableError(CalcmlError, ImportError):
    """A backend needs a library that is not installed (joblib, dask.distributed) or a scheduler that
    cannot be reached."""
