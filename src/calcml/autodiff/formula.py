"""``Formula``: how a primitive's derivative reads, declared beside its forward, VJP and JVP.

``cm.trace(...).explain()`` writes the chain rule at each node with it: the rule in words, and for an
elementwise primitive the local derivative ∂out/∂arg_i spelled with the node's own operands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Formula:
    """A primitive's derivative as text: templates over the operands ``{0}``, ``{1}``, … of one call.

    ``rule``: the rule, shown under a chain-rule step; ``partials``: ∂out/∂arg_i for each argument of an
    elementwise primitive (``None`` where there is none); ``infix``: how a call reads (``{0} + {1}``);
    ``vjps``: ∂L/∂arg_i written with ``{g}`` = ∂L/∂out, where the chain rule reads best as the VJP
    itself (matrix products).

    >>> tanh = Formula("d/dx tanh x = 1 − tanh² x", partials=("1 − tanh² {0}",))
    >>> tanh.partial(0, ["v2"])
    '1 − tanh² v2'
    >>> Formula("∂L/∂A = Ḡ Bᵀ", infix="{0} @ {1}", vjps=("{g} @ {1}ᵀ",)).vjp(0, ["v0", "v1"], "∂L/∂v2")
    '∂L/∂v2 @ v1ᵀ'
    """

    rule: str
    partials: tuple[str | None, ...] = ()
    infix: str | None = None
    vjps: tuple[str | None, ...] = ()

    def partial(self, argnum: int, operands: Sequence[str]) -> str | None:
        """∂out/∂arg_argnum with the operands filled in, or None when the formula has none."""
        return _fill(self.partials, argnum, operands)

    def vjp(self, argnum: int, operands: Sequence[str], g: str) -> str | None:
        """∂L/∂arg_argnum with the operands and ``g`` = ∂L/∂out filled in, or None."""
        return _fill(self.vjps, argnum, operands, g=g)

    def reads(self, operands: Sequence[str]) -> str | None:
        """The call in infix (``v0 · v1``), or None when there is no infix form for these operands."""
        if self.infix is None or self.infix.count("{") != len(operands):
            return None
        return self.infix.format(*operands)


def _fill(templates: tuple[str | None, ...], argnum: int, operands: Sequence[str], **names: str) -> str | None:
    template = templates[argnum] if argnum < len(templates) else None
    if template is None:
        return None
    try:
        return template.format(*operands, **names)
    except IndexError:  # called with fewer operands than the template names (an optional one left out)
        return None
