"""Regression tests for every defect listed under "Observed on main" in issue 10, one test per bullet.

Each was a silently wrong derivative (or a wrong check). Each test asserts the right number (closed
form, PyTorch or central differences) or, where a traced value would leave the graph, a
``cm.CalcmlError`` whose message names the fix. Values follow the issue: ``x = [0.5, -1.0, 2.0]``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import calcml as cm

X = np.array([0.5, -1.0, 2.0])
U = np.array([0.3, -1.2, 0.7])  # a fixed cotangent
V = np.array([1.1, 0.4, -0.9])  # a fixed tangent


# A traced *scalar* written into a NumPy array (o[0] = x[0] ** 2, np.fromiter) is refused by NumPy itself, in C,
# before calcml is asked: NumPy takes the Tensor for a sequence and raises this ValueError (README). A refusal,
# never a zero, so it is accepted for those forms only.
NUMPY_REFUSAL = "setting an array element with a sequence"


def is_numpy_refusal(error: Exception) -> bool:
    return isinstance(error, ValueError) and not isinstance(error, cm.CalcmlError) and NUMPY_REFUSAL in str(error)


def assert_right_or_refused(f, x, expected_jacobian, fixes, numpy_refuses=False):
    """Either the right Jacobian (both modes) or a CalcmlError naming one of ``fixes``."""
    for mode in ("rev", "fwd"):
        try:
            J = cm.jacobian(f, mode=mode)(x.copy())
        except (cm.CalcmlError, ValueError) as error:
            if numpy_refuses and is_numpy_refusal(error):
                continue
            if not isinstance(error, cm.CalcmlError):
                raise
            assert any(fix in str(error) for fix in fixes), f"mode={mode}: the refusal names no fix:\n{error}"
            continue
        np.testing.assert_allclose(J, expected_jacobian, rtol=1e-12, atol=1e-12, err_msg=f"jacobian mode={mode}")


def assert_refused(call, fixes, numpy_refuses=False):
    with pytest.raises((cm.CalcmlError, ValueError) if numpy_refuses else cm.CalcmlError) as refusal:
        result = call()
        pytest.fail(f"expected a CalcmlError, got a result: {result!r}")
    if numpy_refuses and is_numpy_refusal(refusal.value):
        return
    assert isinstance(refusal.value, cm.CalcmlError), f"an unrelated error: {refusal.value!r}"
    message = str(refusal.value)
    assert any(fix in message for fix in fixes), f"the error names none of {fixes}:\n{message}"


# ---- bullet 1: arrays built from traced pieces ---------------------------------------------------
BUILD_FIXES = ("np.stack", "np.concatenate")


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_textbook_jacobian_of_np_array_is_refused_not_zero(mode):
    # J of (v0², v0·v1) at (1, 2) is [[2, 0], [2, 1]]; main returned zeros
    assert_refused(lambda: cm.jacobian(lambda v: np.array([v[0] ** 2, v[0] * v[1]]), mode=mode)(np.array([1.0, 2.0])),
                   BUILD_FIXES)
    J = cm.jacobian(lambda v: np.stack([v[0] ** 2, v[0] * v[1]]), mode=mode)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(J, [[2.0, 0.0], [2.0, 1.0]], rtol=1e-14)  # the fix the error names works


@pytest.mark.parametrize("form", ["np.array(x)", "np.asarray(x)"])
@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_np_array_and_asarray_of_a_traced_input_are_refused(form, mode):
    convert = {"np.array(x)": np.array, "np.asarray(x)": np.asarray}[form]
    assert_refused(lambda: cm.jacobian(lambda x: convert(x) * 2.0, mode=mode)(X.copy()),
                   ("np.stack", "detach", ".value"))


W2 = np.array([2.0, -1.0])
CONVENIENCES = {  # NumPy conveniences: calcml may support them or refuse them, but never answer zero
    "np.r_": (lambda x: np.r_[x[0] ** 2, x[1]], np.array([[2 * X[0], 0, 0], [0, 1, 0]])),
    "np.c_": (lambda x: np.c_[x, x ** 2],
              np.stack([np.stack([np.eye(3)[i], 2 * X[i] * np.eye(3)[i]]) for i in range(3)])),
    "np.sum(list)": (lambda x: np.sum([x[0], x[1]]), np.array([1.0, 1.0, 0.0])),
    "np.dot(list, w)": (lambda x: np.dot([x[0], x[1]], W2), np.array([2.0, -1.0, 0.0])),
    "np.vectorize": (lambda x: np.vectorize(lambda a: a ** 2)(x), np.diag(2 * X)),
    "np.fromiter": (lambda x: np.fromiter((xi ** 2 for xi in x), dtype=float), np.diag(2 * X)),
}


@pytest.mark.parametrize("form", list(CONVENIENCES))
def test_array_building_conveniences_are_right_or_refused(form):
    f, expected = CONVENIENCES[form]
    assert_right_or_refused(f, X, expected, ("np.stack", "np.concatenate", "detach", "cm.primitive"),
                            numpy_refuses=form == "np.fromiter")


# ---- bullet 2: assembling a result in place -----------------------------------------------------
def assemble(x):
    o = np.zeros(2)
    o[0] = x[0] ** 2
    o[1] = x[1]
    return o


def assemble_rows(x):
    o = np.zeros((2, 3))
    o[0] = x
    o[1] = x ** 2
    return o


def test_in_place_assembly_into_np_zeros_is_refused_in_every_transform():
    fixes = ("np.stack", "np.concatenate", "np.where")
    for f, numpy_refuses in ((assemble, True), (assemble_rows, False)):  # rows reach calcml's __array__
        assert_refused(lambda f=f: cm.jacobian(f, mode="rev")(X.copy()), fixes, numpy_refuses)
        assert_refused(lambda f=f: cm.jacobian(f, mode="fwd")(X.copy()), fixes, numpy_refuses)
        assert_refused(lambda f=f: cm.grad(lambda x: np.sum(f(x)))(X.copy()), fixes, numpy_refuses)
        assert_refused(lambda f=f: cm.jvp(f, (X.copy(),), (V,)), fixes, numpy_refuses)
        assert_refused(lambda f=f: f(cm.Tensor(X.copy(), requires_grad=True)), fixes, numpy_refuses)


# ---- bullet 3: math.* and conversions to Python numbers -----------------------------------------
def test_math_exp_float_item_and_np_float64_of_traced_values_are_refused():
    assert_refused(lambda: cm.grad(lambda x: math.exp(x) * x)(0.5), ("np.exp",))
    assert_refused(lambda: cm.grad(lambda x: np.sum(math.exp(x[0]) * x))(X.copy()), ("np.exp",))
    for convert in (float, lambda t: t.item(), np.float64):
        assert_refused(lambda convert=convert: cm.grad(lambda x: convert(x) * x)(0.5), ("detach", ".value"))
        assert_refused(lambda convert=convert: cm.jvp(lambda x: convert(x[0]) * x, (X.copy(),), (V,)),
                       ("detach", ".value"))
    # the fix the message names gives d/dx (e^x · x) = e^x (1 + x)
    assert cm.grad(lambda x: np.exp(x) * x)(0.5) == pytest.approx(math.exp(0.5) * 1.5, rel=1e-14)


# ---- bullet 4: functions wrongly classed as piecewise constant ----------------------------------
def weighted_gradient(f, *args, argnums=0):
    return cm.grad(lambda *a: np.sum(U * f(*a)), argnums=argnums)(*[np.array(a, dtype=float) for a in args])


def test_sort_unique_mod_remainder_fmod_and_full_have_their_derivatives():
    order = np.argsort(X)  # [1, 0, 2]: sort and unique (distinct values) are permutations
    permuted = np.zeros(3)
    permuted[order] = U
    np.testing.assert_allclose(weighted_gradient(np.sort, X), permuted, rtol=1e-14)
    np.testing.assert_allclose(weighted_gradient(np.unique, X), permuted, rtol=1e-14)
    np.testing.assert_allclose(cm.jvp(np.sort, (X.copy(),), (V,))[1], V[order], rtol=1e-14)

    y = 0.7  # mod(x, y) = x − y·floor(x/y): slope 1 in x, −floor(x/y) in y; fmod uses trunc
    for name, f, rounding in [("mod", np.mod, np.floor), ("remainder", np.remainder, np.floor),
                              ("fmod", np.fmod, np.trunc)]:
        gx, gy = cm.grad(lambda a, b, f=f: np.sum(U * f(a, b)), argnums=(0, 1))(X.copy(), y)
        np.testing.assert_allclose(gx, U, rtol=1e-14, err_msg=name)
        assert gy == pytest.approx(np.sum(U * -rounding(X / y)), rel=1e-12), name
        np.testing.assert_allclose(cm.jvp(lambda a, f=f: f(a, y), (X.copy(),), (V,))[1], V, rtol=1e-14,
                                   err_msg=name)

    # full_like(x, x[0]) is x[0] everywhere: ∂/∂x = [Σu, 0, 0]
    np.testing.assert_allclose(weighted_gradient(lambda x: np.full_like(x, x[0]), X), [U.sum(), 0, 0], rtol=1e-14)
    np.testing.assert_allclose(cm.jacobian(lambda x: np.full_like(x, x[0]), mode="fwd")(X.copy()),
                               [[1, 0, 0]] * 3, rtol=1e-14)
    # np.full does not dispatch on its fill value: right, or refused with the fix — never zero
    assert_right_or_refused(lambda x: np.full(3, x[0]), X, np.array([[1.0, 0, 0]] * 3),
                            ("np.stack", "full_like", "detach", "np.ones"))


# ---- bullet 5: power at zero ---------------------------------------------------------------------
def test_power_at_zero_is_finite_and_matches_pytorch():
    zero = np.zeros(3)
    exponents = np.arange(3.0)
    t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    torch.sum(t ** torch.arange(3.0, dtype=torch.float64)).backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 1.0, 0.0])  # the expectation, from PyTorch

    np.testing.assert_array_equal(cm.grad(lambda x: np.sum(x ** exponents))(zero), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(cm.jacobian(lambda x: x ** exponents, mode="fwd")(zero), np.diag([0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(cm.jvp(lambda x: x ** exponents, (zero,), (np.ones(3),))[1], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(cm.hessian(lambda x: np.sum(x ** exponents))(zero), np.diag([0.0, 0.0, 2.0]))
    assert cm.grad(lambda x: x ** 0)(0.0) == 0.0
    assert cm.grad(lambda x: x ** 0.0)(0.0) == 0.0
    assert cm.value_and_grad(lambda x: np.sum(x ** exponents))(zero)[0] == 1.0


# ---- bullet 6: fmax / fmin with NaN --------------------------------------------------------------
def test_fmax_fmin_ignore_nan_in_value_and_gradient():
    a = np.array([np.nan, 1.0, 3.0])
    b = np.array([2.0, np.nan, 1.0])
    cases = {  # value, ∂/∂a, ∂/∂b  (the NaN side gets nothing; the other side passes through)
        "fmax": (np.fmax, [2.0, 1.0, 3.0], [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]),
        "fmin": (np.fmin, [2.0, 1.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]),
    }
    for name, (f, value, da, db) in cases.items():
        out, (ga, gb) = cm.value_and_grad(lambda x, y, f=f: np.sum(U * f(x, y)), argnums=(0, 1))(a.copy(), b.copy())
        assert out == pytest.approx(float(np.sum(U * np.array(value))), rel=1e-14), name
        np.testing.assert_array_equal(ga, U * np.array(da), err_msg=name)
        np.testing.assert_array_equal(gb, U * np.array(db), err_msg=name)
        primal, tangent = cm.jvp(f, (a.copy(), b.copy()), (V, 2 * V))
        np.testing.assert_array_equal(primal, value, err_msg=name)
        np.testing.assert_allclose(tangent, V * np.array(da) + 2 * V * np.array(db), rtol=1e-14, err_msg=name)


# ---- bullet 7: tuple and list outputs ------------------------------------------------------------
def test_tuple_and_list_outputs_work_in_every_transform():
    out, tangent = cm.jvp(lambda x: (x, 2 * x), (X.copy(),), (V,))
    assert isinstance(out, tuple) and isinstance(tangent, tuple) and len(tangent) == 2
    np.testing.assert_allclose(out[1], 2 * X, rtol=1e-15)
    np.testing.assert_allclose(tangent[0], V, rtol=1e-15)
    np.testing.assert_allclose(tangent[1], 2 * V, rtol=1e-15)

    for mode in ("fwd", "rev"):
        J = cm.jacobian(lambda x: [x, 2 * x], mode=mode)(X.copy())
        assert isinstance(J, list) and len(J) == 2, f"mode={mode}: got {type(J).__name__}"
        np.testing.assert_allclose(J[0], np.eye(3), rtol=1e-15, err_msg=mode)
        np.testing.assert_allclose(J[1], 2 * np.eye(3), rtol=1e-15, err_msg=mode)

    out, pullback = cm.vjp(lambda x: (x, 2 * x), X.copy())
    (g,) = pullback((U, V))
    np.testing.assert_allclose(g, U + 2 * V, rtol=1e-15)


# ---- bullet 8: a gradient penalty through the Tensor API ------------------------------------------
def test_gradient_penalty_through_backward_equals_the_functional_gradient():
    w0 = np.array([0.8, -0.4, 1.3])
    x0 = np.array([0.2, 0.9, -0.6])

    def penalised(w, x_at, grad):
        return np.sum(w ** 2) + np.sum(grad(lambda x: np.sum(np.sin(w * x) * x))(x_at) ** 2)

    w = cm.Tensor(w0.copy(), requires_grad=True)
    loss = penalised(w, x0, cm.grad)
    loss.backward()

    functional = cm.grad(lambda v: penalised(v, x0, cm.grad))(w0.copy())
    wt = torch.tensor(w0, requires_grad=True)
    xt = torch.tensor(x0, requires_grad=True)
    (gx,) = torch.autograd.grad(torch.sum(torch.sin(wt * xt) * xt), xt, create_graph=True)
    torch_loss = torch.sum(wt ** 2) + torch.sum(gx ** 2)
    torch_loss.backward()

    np.testing.assert_allclose(functional, wt.grad.numpy(), rtol=1e-12)
    assert w.grad is not None
    np.testing.assert_allclose(np.asarray(w.grad.value if isinstance(w.grad, cm.Tensor) else w.grad),
                               wt.grad.numpy(), rtol=1e-12)
    assert float(np.asarray(loss.value)) == pytest.approx(torch_loss.item(), rel=1e-14)


# ---- bullet 9: gradients that alias each other ---------------------------------------------------
def test_gradients_of_two_leaves_do_not_alias():
    t = cm.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    s = cm.Tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True)
    (t + s).sum().backward()
    assert t.grad is not s.grad
    assert not np.shares_memory(np.asarray(t.grad), np.asarray(s.grad))
    t.grad *= 2.0  # an optimizer scaling one gradient in place
    np.testing.assert_array_equal(t.grad, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(s.grad, [1.0, 1.0, 1.0])

    u = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    seed = np.array([1.0, 1.0])
    (u * 1.0).backward(gradient=seed)
    u.grad *= 3.0
    np.testing.assert_array_equal(seed, [1.0, 1.0])  # nor the seed that was passed in


# ---- bullet 10: a leaf mutated between forward and backward --------------------------------------
@pytest.mark.parametrize("how", ["leaf.value[0] = 5", "the source array[0] = 5"])
def test_mutating_a_leaf_before_backward_raises_or_is_impossible(how):
    source = np.array([1.0, 2.0, 3.0])
    t = cm.Tensor(source, requires_grad=True)
    y = (t * t).sum()  # y = 14 at the values the forward pass used
    target = t.value if how.startswith("leaf") else source
    try:
        target[0] = 5.0
    except (ValueError, cm.CalcmlError):  # a read-only leaf: the write is impossible
        y.backward()
        np.testing.assert_array_equal(t.grad, [2.0, 4.0, 6.0])
        return
    try:
        y.backward()
    except cm.CalcmlError as error:  # a version counter caught the write
        assert "backward" in str(error) or "modified" in str(error) or "changed" in str(error), str(error)
        return
    # no error: then the leaf must not have seen the write (it was copied), and the gradient is the
    # one of the forward pass that produced y, 2·[1, 2, 3] — never 2·[5, 2, 3]
    np.testing.assert_array_equal(t.grad, [2.0, 4.0, 6.0],
                                  err_msg="a stale gradient: computed at values the forward pass never used")


# ---- bullet 11: no_grad inside a function under hessian / jacobian of grad ------------------------
def test_no_grad_inside_f_gives_one_hessian_whatever_the_route():
    def f(x):
        with cm.no_grad():
            c = np.sum(x ** 2)  # a constant as far as every derivative is concerned
        return np.sum(x ** 3) + c * np.sum(x)

    x = X.copy()
    expected_gradient = 3 * X ** 2 + np.sum(X ** 2)
    expected_hessian = np.diag(6 * X)
    np.testing.assert_allclose(cm.grad(f)(x), expected_gradient, rtol=1e-14)
    np.testing.assert_allclose(cm.hessian(f)(x), expected_hessian, rtol=1e-14, atol=1e-14)
    for mode in ("rev", "fwd"):
        np.testing.assert_allclose(cm.jacobian(cm.grad(f), mode=mode)(x), expected_hessian, rtol=1e-14, atol=1e-14,
                                   err_msg=f"jacobian(grad(f), mode={mode!r})")
    np.testing.assert_allclose(cm.hvp(f, x, V), expected_hessian @ V, rtol=1e-14)


# ---- bullet 12: check_grad checks forward mode, and badly scaled inputs ---------------------------
def test_check_grad_catches_a_wrong_jvp_rule_and_accepts_badly_scaled_inputs():
    @cm.primitive(name="regression_cube_wrong_jvp")
    def cube_wrong_jvp(x):
        """x³ with a correct VJP and a deliberately wrong JVP (2x² instead of 3x²)."""
        return x ** 3

    cube_wrong_jvp.defvjp(lambda g, ans, x: g * 3 * x ** 2)
    cube_wrong_jvp.defjvp(lambda t, ans, x: t * 2 * x ** 2)

    @cm.primitive(name="regression_cube_right")
    def cube_right(x):
        """x³ with both rules right (the control)."""
        return x ** 3

    cube_right.defvjp(lambda g, ans, x: g * 3 * x ** 2)
    cube_right.defjvp(lambda t, ans, x: t * 3 * x ** 2)

    point = np.array([0.7, -1.3, 2.0])
    assert cm.check_grad(lambda x: np.sum(cube_right(x)), point).passed
    with pytest.raises(cm.GradientMismatch):
        cm.check_grad(lambda x: np.sum(cube_wrong_jvp(x)), point)
    assert not cm.check_grad(lambda x: np.sum(cube_wrong_jvp(x)), point, raise_on_mismatch=False).passed

    report = cm.check_grad(lambda x: np.sum(x ** 2), np.array([1e8, 2.0]))
    assert report.passed and report.max_rel_error < 1e-6
