"""How the user-code corpora judge one call: by what the entry expects of calcml.

``DERIVATIVE``: the call must return the right derivative (``check`` compares it); ``REFUSED``: it must raise a
clear calcml error; ``EITHER``: the right derivative or a clear refusal — never a wrong number. Each corpus says
what a clear refusal is (``judge_refusal``: it names the op, it says what to do instead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import calcml as cm

DERIVATIVE, REFUSED, EITHER = "derivative", "refused", "derivative or refused"


def judge(expect: str, compute: Callable[[], Any], check: Callable[[Any], None],
          judge_refusal: Callable[[BaseException], None], what: str,
          refusals: type[BaseException] | tuple[type[BaseException], ...] = cm.CalcmlError) -> None:
    """Run ``compute`` once and hold it to ``expect``; ``what`` names the entry and the mode in failures."""
    if expect == REFUSED:
        with pytest.raises(refusals) as refusal:
            result = compute()
            pytest.fail(f"{what} should refuse (a value leaves the graph) but returned {result!r}")
        judge_refusal(refusal.value)
        return
    try:
        result = compute()
    except refusals as refusal:
        if expect == EITHER:
            judge_refusal(refusal)
            return
        raise
    check(result)
