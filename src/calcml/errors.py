"""The root of calcml's errors, below every layer so that each layer's errors can derive from it.

``except calcml.CalcmlError`` catches every error calcml raises on purpose, from the symbolic layer
(``SymbolicError``) through the engine (``GraphEscapeError``) to the lab (``LabInputError``). Each
subclass also derives from the built-in error it refines (``ValueError``, ``TypeError``, ...), so code
that catches those keeps working.
"""

from __future__ import annotations


class CalcmlError(Exception):
    """Base class of every error calcml raises on purpose."""
