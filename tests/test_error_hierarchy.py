"""One error hierarchy: every public exception class of calcml derives from ``calcml.CalcmlError`` (warnings
are not errors: IntegrationWarning and GradientWarning stay warnings)."""

from __future__ import annotations

import importlib
import inspect

import pytest

import calcml
from calcml.errors import CalcmlError
from tests.test_layers import modules


def public_error_classes() -> list[type]:
    found = []
    for name in modules():
        if name.startswith(("calcml.lab", "calcml.cli")):
            pytest.importorskip("fastapi" if name.startswith("calcml.lab") else "typer")
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, Exception) and not issubclass(value, Warning)
                    and value.__module__ == name
                    and not attribute.startswith("_")):
                found.append(value)
    return found


def test_every_public_error_is_a_calcml_error():
    classes = public_error_classes()
    assert len(classes) > 30  # the walk found the package's errors
    outside = sorted(f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, CalcmlError))
    assert not outside, f"not a CalcmlError: {outside}"


def test_the_old_names_are_aliases():
    from calcml.symbolic import SymbolicTimeout, SymbolicTimeoutError

    assert calcml.GradientMismatch is calcml.GradientMismatchError
    assert SymbolicTimeout is SymbolicTimeoutError
    assert calcml.CalcmlError is CalcmlError


def test_errors_keep_the_builtin_they_refine():
    from calcml.lab.errors import LabInputError
    from calcml.optim.race import RaceError
    from calcml.symbolic import SymbolicError

    for error in (SymbolicError, RaceError, LabInputError):
        assert issubclass(error, ValueError) and issubclass(error, CalcmlError)
