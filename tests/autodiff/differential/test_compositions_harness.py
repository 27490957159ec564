"""Every case of the differential harness through the two compositions the second-order test does not take:
reverse-over-forward (∇ of a jvp) and forward-over-forward (a jvp of a jvp), both against the same H v
reference (torch.func or differences). Forward mode inside another transform runs through two reverse
passes, so this checks that every VJP rule can itself be differentiated with respect to its cotangent."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import calcml as cm
from tests.autodiff.differential.spec import Case
from tests.autodiff.differential.test_differential import (
    assert_close,
    draw_example,
    each_case,
    examples,
    output_weights,
    reference_hvp,
    reference_outputs,
    usable,
    weighted_sum,
)


@each_case
@examples(4)
@given(data=st.data())
def test_reverse_over_forward_and_forward_over_forward(case: Case, data: st.DataObject):
    if not case.second_order or not case.forward:
        pytest.skip(f"second order or forward mode is off for this case: {case.note}")
    shapes, rng = draw_example(case, data)
    args = case.arguments(rng, shapes)
    outputs = reference_outputs(case, args)
    assume(usable(outputs))
    weights = output_weights(outputs)
    directions = [rng.standard_normal(np.shape(a)) for a in args]
    expected = reference_hvp(case, args, weights, directions)
    objective = weighted_sum(case.fn, weights)
    nums = tuple(range(case.arity))

    def along_v(*xs):  # ⟨∇S(x), v⟩ by forward mode
        return cm.jvp(objective, tuple(xs), tuple(directions))[1]

    reverse_over_forward = cm.grad(along_v, argnums=nums)(*args)
    for k, (hv, e) in enumerate(zip(reverse_over_forward, expected)):
        assert_close(hv, e, case.rtol, f"{case.name}: grad of jvp, argument {k}, shapes {shapes}")

    probes = [rng.standard_normal(np.shape(a)) for a in args]
    forward_over_forward = cm.jvp(along_v, tuple(args), tuple(probes))[1]  # wᵀ H v
    wHv = sum(float(np.sum(np.asarray(e) * w)) for e, w in zip(expected, probes))
    assert_close(forward_over_forward, wHv, case.rtol, f"{case.name}: jvp of jvp, shapes {shapes}")
