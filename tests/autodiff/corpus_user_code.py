"""A corpus of NumPy code written the way people write it, each with the outcome calcml owes it.

Every entry is a short function of float64 arrays, as found in notebooks, courses and model code:
arrays built from lists, results assembled in place, ``math.*`` calls, loops, tuple and dict outputs,
control flow on values, array methods, ML snippets and calculus exercises. Its ``expect`` says what
calcml must do with it:

  DERIVATIVE   the right derivative, in every transform (judged against the entry's PyTorch twin, or
               central differences of the same code run on plain NumPy arrays);
  REFUSED      a ``cm.CalcmlError`` whose message names the fix (a traced value would leave the graph:
               ``np.array([...])``, assignment into ``np.zeros``, ``float()``, ``.item()``, ``math.exp``);
  EITHER       the right derivative or that clear error (NumPy conveniences that calcml may support or
               refuse, e.g. ``np.r_``) — never a wrong number.

``test_user_code_corpus.py`` runs them all.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

import calcml as cm
from tests.autodiff.corpus_judging import DERIVATIVE, EITHER, REFUSED  # noqa: F401  (the entries' expectations)

SCALAR_INTO_ARRAY = ("a traced scalar written into a NumPy array: NumPy takes the Tensor for a sequence in C "
                     "and raises its own ValueError before calcml is asked (README); never a zero")


@dataclass(frozen=True)
class Entry:
    """One piece of user code: ``fn(*args)``, differentiated with respect to every argument."""

    name: str
    fn: Callable
    args: tuple
    expect: str = DERIVATIVE
    torch_fn: Callable | None = None
    note: str = ""
    numpy_refuses: bool = False  # NumPy's own ValueError, raised in C before calcml is asked, is a refusal too
    tensor_api: str | None = None  # the expectation under Tensor.backward() when it differs from ``expect``


ENTRIES: list[Entry] = []


def add(name: str, fn: Callable, *args, expect: str = DERIVATIVE, torch_fn: Callable | None = None,
        note: str = "", **options) -> None:
    ENTRIES.append(Entry(name, fn, tuple(np.array(a, dtype=np.float64) for a in args), expect, torch_fn, note,
                         **options))


def user(*args, expect: str = DERIVATIVE, torch_fn: Callable | None = None, note: str = "", **options) -> Callable:
    """Decorator form of ``add`` for functions longer than a lambda; the function's name is the entry's."""

    def register(fn: Callable) -> Callable:
        add(fn.__name__, fn, *args, expect=expect, torch_fn=torch_fn, note=note, **options)
        return fn

    return register


# ---- data the snippets close over (constants, not differentiated) -------------------------------
_rng = np.random.default_rng(2026)
x2 = np.array([1.0, 2.0])
x3 = np.array([0.5, -1.0, 2.0])
x4 = np.array([0.3, -0.8, 1.7, 0.9])
x6 = np.array([0.15, -0.72, 1.31, 0.46, -1.18, 0.83])
M = _rng.standard_normal((3, 3)) + 3 * np.eye(3)  # well conditioned
S = M @ M.T + np.eye(3)  # symmetric positive definite
B = _rng.standard_normal((3, 3))
X = _rng.standard_normal((4, 3))  # a batch of 4 examples with 3 features
w3 = np.array([0.4, -0.3, 0.8])
targets = _rng.standard_normal(4)
signs = np.array([1.0, -1.0, 1.0, -1.0])
labels = np.array([0, 2, 1, 2])
onehot = np.eye(3)[labels]
logits = _rng.standard_normal((4, 3))
W1 = _rng.standard_normal((3, 5)) * 0.5
b1 = _rng.standard_normal(5) * 0.1
W2 = _rng.standard_normal((5, 2)) * 0.5
b2 = _rng.standard_normal(2) * 0.1
Wh = _rng.standard_normal((2, 2)) * 0.5
Wx = _rng.standard_normal((2, 3)) * 0.5
sequence = _rng.standard_normal((5, 3))
image = _rng.standard_normal((5, 5))
kernel = _rng.standard_normal((3, 3))
signal = _rng.standard_normal(8)
Q = _rng.standard_normal((3, 4))
K = _rng.standard_normal((3, 4))
V = _rng.standard_normal((3, 2))
samples = _rng.normal(1.0, 2.0, size=10)
points_a = _rng.standard_normal((3, 2))
points_b = _rng.standard_normal((4, 2)) + 0.5
grid = np.linspace(0.0, 1.0, 11)
dropout_mask = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0]) / 0.6


def T(a):  # a constant as a float64 torch tensor (for the twins)
    return torch.as_tensor(a, dtype=torch.float64)


# ==== building arrays from lists ================================================================
add("jacobian_textbook_np_array", lambda v: np.array([v[0] ** 2, v[0] * v[1]]), x2, expect=REFUSED,
    note="the textbook Jacobian example: np.array of traced pieces")
add("np_array_of_input", lambda x: np.array(x) * 2.0, x3, expect=REFUSED)
add("np_asarray_of_input", lambda x: np.sum(np.asarray(x) ** 2), x3, expect=REFUSED)
add("np_asarray_of_list", lambda x: np.asarray([x[0], x[1] * x[2]]), x3, expect=REFUSED)
add("np_array_mixed_constants", lambda x: np.array([x[0], 1.0, x[2] ** 2]), x3, expect=REFUSED)
add("np_array_comprehension", lambda x: np.array([xi ** 2 for xi in x]), x3, expect=REFUSED)
add("np_array_nested_rows", lambda x: np.array([[x[0], x[1]], [x[1], x[0]]]), x2, expect=REFUSED)
add("np_array_float_dtype", lambda x: np.array([x[0] * x[1], x[1]], dtype=float), x2, expect=REFUSED)
add("np_r_scalars", lambda x: np.r_[x[0] ** 2, x[1]], x2, expect=EITHER)
add("np_r_arrays", lambda x: np.r_[x, x ** 2], x3, expect=EITHER)
add("np_c_columns", lambda x: np.c_[x, x ** 2], x3, expect=EITHER)
add("np_sum_of_list", lambda x: np.sum([x[0], x[1]]), x3, expect=EITHER)
add("np_dot_list_weights", lambda x: np.dot([x[0], x[1]], np.array([2.0, -1.0])), x3, expect=EITHER)
add("np_vectorize", lambda x: np.vectorize(lambda a: a ** 2 + 1.0)(x), x3, expect=EITHER)
add("np_fromiter", lambda x: np.fromiter((xi ** 2 for xi in x), dtype=float), x3, expect=EITHER,
    numpy_refuses=True, note=SCALAR_INTO_ARRAY)
add("np_mean_of_list", lambda x: np.mean([x[0] ** 2, x[2]]), x3, expect=EITHER)
add("jacobian_textbook_np_stack", lambda v: np.stack([v[0] ** 2, v[0] * v[1]]), x2,
    torch_fn=lambda v: torch.stack([v[0] ** 2, v[0] * v[1]]))
add("stack_comprehension", lambda x: np.stack([xi ** 2 for xi in x]), x3)
add("stack_matrix_from_rows", lambda x: np.stack([np.stack([x[0], x[1]]), np.stack([x[1] ** 2, x[0]])]), x2)
add("concatenate_pieces", lambda x: np.concatenate([x, x ** 2, x[:1] * x[1:2]]), x3)
add("hstack_slices", lambda x: np.hstack([x[0:1] ** 2, x[1:]]), x3)
add("vstack_rows", lambda x: np.vstack([x, 2 * x, np.sin(x)]), x3)
add("column_stack_features", lambda x: np.column_stack([x, x ** 2, np.ones_like(x)]), x3)
add("stack_axis1", lambda x: np.stack([np.cos(x), np.sin(x)], axis=1), x3)
add("concatenate_scalars_via_atleast_1d", lambda x: np.concatenate([np.atleast_1d(x[0] * x[1]), x]), x3)
add("stack_then_sum", lambda x: np.stack([x[0] * x[1], x[1] * x[2], x[2] * x[0]]).sum(), x3)

# ==== assembling a result in place ===============================================================


@user(x2, expect=REFUSED, numpy_refuses=True, note=SCALAR_INTO_ARRAY)
def assemble_into_zeros(x):
    o = np.zeros(2)
    o[0] = x[0] ** 2
    o[1] = x[1]
    return o


@user(x3, expect=REFUSED, numpy_refuses=True, note=SCALAR_INTO_ARRAY)
def assemble_in_loop(x):
    o = np.zeros(3)
    for i in range(3):
        o[i] = np.sin(x[i]) * x[i]
    return o


@user(x3, expect=REFUSED, numpy_refuses=True, note=SCALAR_INTO_ARRAY)
def assemble_into_zeros_like(x):
    o = np.zeros_like(x)
    for i in range(len(x)):
        o[i] = x[i] ** 2
    return o


@user(x3, expect=REFUSED)
def assemble_into_empty(x):
    o = np.empty(3)
    o[:] = x * 2
    return o


@user(x2, expect=REFUSED, numpy_refuses=True, note=SCALAR_INTO_ARRAY)
def jacobian_by_hand_into_zeros(x):
    J = np.zeros((2, 2))
    J[0, 0] = 2 * x[0]
    J[0, 1] = x[1]
    J[1, 0] = x[1]
    J[1, 1] = x[0]
    return J


@user(x3, expect=REFUSED)
def accumulate_inplace_plain(x):
    acc = np.zeros(3)
    acc += x ** 2
    return acc


@user(x3, expect=REFUSED)
def multiply_inplace_plain(x):
    o = np.ones(3)
    o *= x
    return o


@user(x3, expect=REFUSED)
def overwrite_copy_of_input(x):
    out = x.copy()
    out[0] = 0.0
    return out


@user(x3, expect=REFUSED)
def fill_matrix_row_by_row(x):
    A = np.zeros((2, 3))
    A[0] = x
    A[1] = x ** 2
    return A


@user(x3)
def accumulate_by_rebinding(x):
    acc = 0.0
    acc = acc + x ** 2
    acc = acc + np.sin(x)
    return acc


@user(x3)
def update_with_where_instead_of_assignment(x):
    mask = np.arange(3) == 0
    return np.where(mask, 0.0, x)


# ==== math.* and conversions to Python numbers ===================================================
add("math_exp_times_x", lambda x: math.exp(x[0]) * x[1], x2, expect=REFUSED)
add("math_exp_of_one_element", lambda x: math.exp(x[0]) * x, np.array([0.7]), expect=REFUSED)
add("math_sin_plus_x", lambda x: math.sin(x[0]) + x[0], x2, expect=REFUSED)
add("math_sqrt_norm", lambda x: math.sqrt(x[0] ** 2 + x[1] ** 2), x2, expect=REFUSED)
add("math_log", lambda x: math.log(x[0]) * x[1], x2, expect=REFUSED)
add("math_pow", lambda x: math.pow(x[0], 2) + x[1], x2, expect=REFUSED)
add("math_tanh", lambda x: math.tanh(x[0]) * x, x2, expect=REFUSED)
add("float_of_element", lambda x: float(x[0]) * x, x3, expect=REFUSED)
add("item_of_element", lambda x: x[0].item() * x, x3, expect=REFUSED, tensor_api=DERIVATIVE,
    torch_fn=lambda x: x[0].item() * x,
    note="refused inside transforms; with the Tensor API .item() is the one deliberate escape (as in PyTorch, "
         "README), so the number is a constant there: the twin gives PyTorch's gradient")
add("int_of_element", lambda x: int(x[2]) * x, x3, expect=REFUSED)
add("np_float64_of_element", lambda x: np.float64(x[0]) * x, x3, expect=REFUSED)
add("tolist_then_sum", lambda x: sum(x.tolist()) * x, x3, expect=REFUSED)
add("float_of_sum", lambda x: float(np.sum(x)) + x[0], x3, expect=REFUSED)
add("round_trip_through_float_for_logging", lambda x: (f"{float(x.sum()):.3f}", x ** 2)[1], x3, expect=REFUSED)
add("np_exp_instead_of_math", lambda x: np.exp(x[0]) * x[1], x2,
    torch_fn=lambda x: torch.exp(x[0]) * x[1])
add("math_constants_are_fine", lambda x: math.pi * x ** 2 + math.e * x, x3)
add("math_e_power", lambda x: math.e ** x, x3, torch_fn=lambda x: math.e ** x)
add("math_on_constants_only", lambda x: x * math.exp(1.5) + math.sqrt(2.0), x3)

# ==== loops ======================================================================================


@user(x3)
def loop_sum_of_squares(x):
    s = 0.0
    for xi in x:
        s = s + xi ** 2
    return s


@user(x4)
def loop_neighbour_products(x):
    s = 0.0
    for i in range(1, len(x)):
        s += x[i] * x[i - 1]
    return s


@user(x3)
def loop_product(x):
    p = 1.0
    for xi in x:
        p = p * xi
    return p


@user(np.array(0.7))
def horner_polynomial(t):
    coefficients = [1.0, -2.0, 0.5, 3.0]
    y = 0.0
    for c in coefficients:
        y = y * t + c
    return y


@user(np.array(0.9))
def exp_power_series(t):
    total, term = 0.0, 1.0
    for k in range(1, 12):
        total = total + term
        term = term * t / k
    return total


@user(np.array(2.0))
def newton_sqrt_iterations(a):
    y = a
    for _ in range(6):
        y = 0.5 * (y + a / y)
    return y


@user(np.array(0.8))
def fixed_point_cosine(t):
    y = 0.0
    for _ in range(30):
        y = np.cos(t * y)
    return y


@user(x3)
def loop_rows_then_stack(x):
    rows = []
    for i in range(3):
        rows.append(x[i] * x)
    return np.stack(rows)


@user(x3, expect=REFUSED)
def loop_rows_then_np_array(x):
    rows = []
    for i in range(3):
        rows.append(x[i] * x)
    return np.array(rows)


@user(x4)
def loop_cumulative_product(x):
    out, p = [], 1.0
    for xi in x:
        p = p * xi
        out.append(p)
    return np.stack(out)


@user(x2)
def fibonacci_recurrence(x):
    a, b = x[0], x[1]
    for _ in range(6):
        a, b = b, a + 0.5 * b
    return b


@user(np.array([1.5, 0.7]))
def euler_decay(params):
    y0, k = params[0], params[1]
    y, h = y0, 0.1
    for _ in range(10):
        y = y + h * (-k * y)
    return y


@user(np.array([1.2, 0.6]))
def rk4_decay(params):
    y, k, h = params[0], params[1], 0.2
    f = lambda y: -k * y  # noqa: E731
    for _ in range(5):
        k1 = f(y)
        k2 = f(y + h / 2 * k1)
        k3 = f(y + h / 2 * k2)
        k4 = f(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


@user(x3)
def unrolled_gradient_descent(w):
    for _ in range(5):
        w = w - 0.1 * (2 * w + np.cos(w))
    return np.sum(w ** 2)


@user(np.array(1.3))
def trapezoid_by_loop(t):
    xs = grid
    total = 0.0
    for i in range(len(xs) - 1):
        h = xs[i + 1] - xs[i]
        total = total + 0.5 * h * (np.sin(t * xs[i]) + np.sin(t * xs[i + 1]))
    return total


@user(x3)
def builtin_sum_of_generator(x):
    return sum(xi ** 2 for xi in x)


@user(x4)
def running_max_with_builtin_max(x):
    m = x[0]
    for xi in x[1:]:
        m = max(m, xi)
    return m * x[0]


# ==== tuple, list and dict outputs ================================================================
add("tuple_output", lambda x: (x, 2 * x), x3, torch_fn=lambda x: (x, 2 * x))
add("list_output", lambda x: [x.sum(), x.prod()], x3, torch_fn=lambda x: [x.sum(), x.prod()])
add("dict_output", lambda x: {"mean": x.mean(), "var": x.var()}, x3,
    torch_fn=lambda x: {"mean": x.mean(), "var": x.var(unbiased=False)})
add("tuple_sin_cos", lambda x: (np.sin(x), np.cos(x)), x3, torch_fn=lambda x: (torch.sin(x), torch.cos(x)))
add("nested_tuple_dict_output", lambda x: (x ** 2, (x.sum(), {"first": x[0], "rest": x[1:] * 3})), x3)
add("polar_coordinates", lambda p: (np.hypot(p[0], p[1]), np.arctan2(p[1], p[0])), x2,
    torch_fn=lambda p: (torch.hypot(p[0], p[1]), torch.atan2(p[1], p[0])))
add("mean_and_std", lambda x: (np.mean(x), np.std(x)), x4)
add("list_of_matrix_products", lambda x: [M @ x, x @ M, np.outer(x, x)], x3)
add("loss_and_prediction", lambda w: (np.mean((X @ w - targets) ** 2), X @ w), w3,
    torch_fn=lambda w: (torch.mean((T(X) @ w - T(targets)) ** 2), T(X) @ w))
add("dict_of_layers", lambda x: {"hidden": np.tanh(x * 2.0), "out": np.sum(x ** 3)}, x3)
add("tuple_with_scalar_and_matrix", lambda x: (x[0] * x[1], np.diag(x)), x3)

Summary = collections.namedtuple("Summary", ["total", "scaled"])
add("namedtuple_output", lambda x: Summary(x.sum() ** 2, x * 3.0), x3)

# ==== control flow on values =====================================================================


@user(x3)
def branch_on_element(x):
    if x[0] > 0:
        return x ** 2
    return -x


@user(np.array([-0.5, -1.0, 2.0]))
def branch_on_element_other_side(x):
    if x[0] > 0:
        return x ** 2
    return -x * np.exp(x)


@user(x3)
def branch_on_sum(x):
    s = x.sum()
    if s > 5:
        return x
    elif s > 0:
        return x * s
    return -x


@user(np.array(2.0))
def while_newton_to_tolerance(a):
    y = a
    while np.abs(y * y - a) > 1e-13:
        y = y - (y * y - a) / (2 * y)
    return y


@user(np.array([3.0, 4.0]))
def normalize_if_long(x):
    n = np.linalg.norm(x)
    if n > 1:
        return x / n
    return x


@user(x2)
def ternary_larger(x):
    return x[0] ** 2 if x[0] > x[1] else x[1] ** 3


add("builtin_abs_of_element", lambda x: abs(x[1]) * x[0], x3)
add("builtin_max_relu", lambda x: max(x[2], 0.0) + max(x[1], 0.0), x3)
add("builtin_min_of_array", lambda x: min(x) * 2.0, x3)
add("builtin_sorted_then_stack", lambda x: np.stack(sorted(x)), x4)
add("branch_on_ndim", lambda x: x.sum() if x.ndim == 1 else x[0], x3)
add("np_where_piecewise", lambda x: np.where(x > 0, x ** 2, -x), x3,
    torch_fn=lambda x: torch.where(x > 0, x ** 2, -x))


@user(x6)
def clipped_values_counted(x):
    count = np.sum(np.abs(x) > 1.0)  # a count: piecewise constant, no gradient through it
    return np.sum(x ** 2) * count


# ==== array methods ==============================================================================
add("method_sum_squared", lambda x: x.sum() ** 2, x3, torch_fn=lambda x: x.sum() ** 2)
add("method_gram_matrix", lambda A: A.T @ A, M, torch_fn=lambda A: A.T @ A)
add("method_reshape_sum", lambda x: x.reshape(2, 3).sum(axis=0), x6,
    torch_fn=lambda x: x.reshape(2, 3).sum(0))
add("method_reshape_tuple", lambda x: x.reshape((3, 2)).T, x6)
add("method_mean_minus_max", lambda x: x.mean() - x.max(), x4)
add("method_trace_gram", lambda A: np.trace(A.T @ A), M)
add("method_dot_self", lambda x: x.dot(x), x3, torch_fn=lambda x: x.dot(x))
add("method_clip_sum", lambda x: x.clip(-0.5, 1.5).sum(), x6)
add("method_flatten", lambda A: A.flatten() * 2.0, M)
add("method_prod", lambda x: x.prod(), x4, torch_fn=lambda x: x.prod())
add("method_std", lambda x: x.std(), x4, torch_fn=lambda x: x.std(unbiased=False))
add("method_var_ddof", lambda x: x.var(ddof=1), x4, torch_fn=lambda x: x.var(unbiased=True))
add("method_cumsum", lambda x: x.cumsum(), x4, torch_fn=lambda x: x.cumsum(0))
add("method_transpose_property", lambda A: A.T * np.arange(3.0), M)
add("method_squeeze", lambda x: x.reshape(1, 3).squeeze() ** 2, x3)
add("method_outer_via_reshape", lambda x: x.reshape(-1, 1) * x, x3)
add("quadratic_form_matmul", lambda x: x @ M @ x, x3, torch_fn=lambda x: x @ T(M) @ x)
add("method_astype_float", lambda x: x.astype(np.float64) * 2.0, x3)
add("method_min", lambda x: x.min() * x.sum(), x4)
add("method_swapaxes", lambda A: A.swapaxes(0, 1) @ B, M)
add("method_mean_axis_keepdims", lambda A: A - A.mean(axis=1, keepdims=True), M)
add("method_max_axis", lambda A: A.max(axis=0), M)
add("method_transpose_args", lambda A: A.transpose(1, 0) @ A, M)
add("method_diagonal", lambda A: A.diagonal() * 2.0, M)
add("method_round_is_constant", lambda x: x.round(1) * x, x3)
add("method_cumprod", lambda x: x.cumprod(), x4)
add("method_flatten_fortran", lambda A: A.flatten("F") * np.arange(9.0), M)
add("method_len_and_shape", lambda A: A.sum() / len(A) + A.shape[1] * A[0, 0], M)

# ==== machine learning snippets ==================================================================


def _softmax_torch(z):
    return torch.softmax(z, dim=-1)


add("softmax_naive", lambda z: np.exp(z) / np.sum(np.exp(z)), x4, torch_fn=_softmax_torch)
add("softmax_max_shift", lambda z: np.exp(z - np.max(z)) / np.sum(np.exp(z - np.max(z))), x4,
    torch_fn=_softmax_torch)
add("softmax_rows_keepdims",
    lambda Z: np.exp(Z - Z.max(axis=1, keepdims=True)) / np.exp(Z - Z.max(axis=1, keepdims=True)).sum(
        axis=1, keepdims=True), logits, torch_fn=_softmax_torch)


def _log_softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


add("log_softmax_max_shift", _log_softmax, logits, torch_fn=lambda z: torch.log_softmax(z, dim=-1))
add("cross_entropy_one_hot", lambda Z: -np.sum(onehot * _log_softmax(Z)) / len(Z), logits,
    torch_fn=lambda Z: torch.nn.functional.cross_entropy(Z, torch.as_tensor(labels)))
add("cross_entropy_integer_labels", lambda Z: -np.mean(_log_softmax(Z)[np.arange(len(Z)), labels]), logits,
    torch_fn=lambda Z: torch.nn.functional.cross_entropy(Z, torch.as_tensor(labels)))
add("cross_entropy_probabilities_log", lambda Z: -np.mean(np.log(np.sum(
    onehot * np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True), axis=1))), logits,
    torch_fn=lambda Z: torch.nn.functional.cross_entropy(Z, torch.as_tensor(labels)))
add("mse_linear_regression", lambda w: np.mean((X @ w - targets) ** 2), w3,
    torch_fn=lambda w: torch.mean((T(X) @ w - T(targets)) ** 2))
add("mse_with_bias_two_args", lambda w, b: np.mean((X @ w + b - targets) ** 2), w3, np.array(0.3),
    torch_fn=lambda w, b: torch.mean((T(X) @ w + b - T(targets)) ** 2))
add("hinge_loss_maximum", lambda w: np.mean(np.maximum(0.0, 1.0 - signs * (X @ w))), w3,
    torch_fn=lambda w: torch.mean(torch.clamp(1.0 - T(signs) * (T(X) @ w), min=0.0)))
add("logistic_loss_log1p", lambda w: np.mean(np.log1p(np.exp(-signs * (X @ w)))), w3,
    torch_fn=lambda w: torch.mean(torch.log1p(torch.exp(-T(signs) * (T(X) @ w)))))


@user(w3, torch_fn=lambda w: torch.nn.functional.binary_cross_entropy(
    torch.sigmoid(T(X) @ w), T((signs + 1) / 2)))
def logistic_regression_sigmoid_bce(w):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    t = (signs + 1) / 2
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))


def _mlp_torch(W1_, b1_, W2_, b2_):
    h = torch.tanh(T(X) @ W1_ + b1_)
    return torch.mean((h @ W2_ + b2_ - T(targets)[:, None]) ** 2)


@user(W1, b1, W2, b2, torch_fn=_mlp_torch)
def two_layer_mlp_tanh(W1_, b1_, W2_, b2_):
    h = np.tanh(X @ W1_ + b1_)
    out = h @ W2_ + b2_
    return np.mean((out - targets[:, None]) ** 2)


@user(W1, W2, torch_fn=lambda W1_, W2_: torch.sum(torch.relu(T(X) @ W1_ + T(b1)) @ W2_))
def two_layer_mlp_relu(W1_, W2_):
    h = np.maximum(0.0, X @ W1_ + b1)
    return np.sum(h @ W2_)


@user(W1, W2)
def mlp_with_dict_params_inside(W1_, W2_):
    params = {"layers": [(W1_, b1), (W2_, b2)]}
    a = X
    for W, b in params["layers"]:
        a = np.tanh(a @ W + b)
    return np.sum(a ** 2)


def _rnn_torch(Wh_):
    h = torch.zeros(2, dtype=torch.float64)
    for x_t in T(sequence):
        h = torch.tanh(T(Wx) @ x_t + Wh_ @ h)
    return h.sum()


@user(Wh, torch_fn=_rnn_torch)
def rnn_loop(Wh_):
    h = np.zeros(2)
    for x_t in sequence:
        h = np.tanh(Wx @ x_t + Wh_ @ h)
    return h.sum()


@user(Wh, Wx)
def rnn_loop_collect_states(Wh_, Wx_):
    h, states = np.zeros(2), []
    for x_t in sequence:
        h = np.tanh(Wx_ @ x_t + Wh_ @ h)
        states.append(h)
    return np.sum(np.stack(states) ** 2)


@user(np.array([0.5, -0.2, 0.3]), torch_fn=lambda k: torch.nn.functional.conv1d(
    T(signal)[None, None], k[None, None]).sum() ** 2)
def conv1d_by_loops(k):
    out = []
    for i in range(len(signal) - len(k) + 1):
        acc = 0.0
        for j in range(len(k)):
            acc = acc + k[j] * signal[i + j]
        out.append(acc)
    return np.sum(np.stack(out)) ** 2


@user(kernel, torch_fn=lambda k: torch.sum(torch.nn.functional.conv2d(T(image)[None, None], k[None, None]) ** 2))
def conv2d_by_shifted_slices(k):
    H, W = image.shape[0] - 2, image.shape[1] - 2
    out = np.zeros((H, W))
    for a in range(3):
        for b in range(3):
            out = out + k[a, b] * image[a:a + H, b:b + W]
    return np.sum(out ** 2)


@user(kernel, expect=REFUSED, numpy_refuses=True, note=SCALAR_INTO_ARRAY)
def conv2d_into_preallocated_output(k):
    out = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            out[i, j] = np.sum(image[i:i + 3, j:j + 3] * k)
    return np.sum(out ** 2)


def _attention_torch(Q_):
    scores = Q_ @ T(K).T / math.sqrt(4)
    return torch.softmax(scores, dim=-1) @ T(V)


@user(Q, torch_fn=_attention_torch)
def attention_softmax(Q_):
    scores = Q_ @ K.T / np.sqrt(Q_.shape[-1])
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ V


@user(X, np.ones(3), np.zeros(3), torch_fn=lambda x, g, b: torch.nn.functional.layer_norm(x, (3,), g, b, eps=1e-5))
def layernorm(x, gamma, beta):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * gamma + beta


@user(X, torch_fn=lambda x: torch.nn.functional.batch_norm(x, None, None, training=True, eps=1e-5))
def batchnorm_training(x):
    mu = np.mean(x, axis=0)
    var = np.mean((x - mu) ** 2, axis=0)
    return (x - mu) / np.sqrt(var + 1e-5)


@user(np.array([0.8, 0.5]), torch_fn=lambda p: torch.distributions.Normal(p[0], torch.exp(p[1])).log_prob(
    T(samples)).sum())
def gaussian_log_likelihood(p):
    mu, log_sigma = p[0], p[1]
    sigma = np.exp(log_sigma)
    n = len(samples)
    return -0.5 * np.sum(((samples - mu) / sigma) ** 2) - n * log_sigma - 0.5 * n * np.log(2 * np.pi)


add("polynomial_features_regression", lambda w: np.mean((np.stack([x6 ** k for k in range(4)], axis=1) @ w
                                                         - np.sin(x6)) ** 2), np.array([0.1, 0.9, -0.2, 0.05]))
add("polynomial_features_of_input", lambda x: np.stack([x ** k for k in range(1, 4)], axis=-1), x3)
add("powers_by_arange", lambda x: np.sum(x[:, None] ** np.arange(4.0), axis=0), x3)
add("squared_distance_matrix", lambda P: np.sum((P[:, None, :] - P[None, :, :]) ** 2, axis=-1), points_a,
    torch_fn=lambda P: torch.sum((P[:, None, :] - P[None, :, :]) ** 2, dim=-1))
add("euclidean_distances_between_sets", lambda A: np.sqrt(np.sum((A[:, None, :] - points_b[None]) ** 2, -1)),
    points_a, torch_fn=lambda A: torch.sqrt(torch.sum((A[:, None, :] - T(points_b)[None]) ** 2, -1)),
    note="not torch.cdist: torch.func.jacrev of cdist is wrong in torch 2.13 (checked against differences)")
add("cosine_similarity", lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), x3, w3,
    torch_fn=lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim=0))
add("linalg_norm_vector", lambda x: np.linalg.norm(x), x3, torch_fn=lambda x: torch.linalg.norm(x))
add("linalg_norm_frobenius", lambda A: np.linalg.norm(A, "fro"), M, torch_fn=lambda A: torch.linalg.norm(A, "fro"))
add("linalg_norm_l1", lambda x: np.linalg.norm(x, 1), x3, torch_fn=lambda x: torch.linalg.norm(x, 1))
add("linalg_norm_rows", lambda A: np.linalg.norm(A, axis=1), X, torch_fn=lambda A: torch.linalg.norm(A, dim=1))
add("huber_loss_where", lambda r: np.sum(np.where(np.abs(r) < 1.0, 0.5 * r ** 2, np.abs(r) - 0.5)), x6,
    torch_fn=lambda r: torch.nn.functional.huber_loss(r, torch.zeros(6, dtype=torch.float64), reduction="sum"))
add("clip_gradient_style", lambda x: np.sum(np.clip(x, -1.0, 1.0) ** 2), x6,
    torch_fn=lambda x: torch.sum(torch.clamp(x, -1.0, 1.0) ** 2))
add("sort_top_k_loss", lambda x: np.sort(x)[-2:].sum(), x6, torch_fn=lambda x: torch.sort(x).values[-2:].sum())
add("sort_weighted_quantile_loss", lambda x: np.sort(x) @ np.linspace(0.0, 1.0, 6), x6,
    torch_fn=lambda x: torch.sort(x).values @ torch.linspace(0.0, 1.0, 6, dtype=torch.float64))
add("median_by_sort", lambda x: np.sort(x ** 2)[len(x) // 2], x6)
add("np_median", lambda x: np.median(x), np.array([0.3, -0.8, 1.7, 0.9, 0.1]),
    torch_fn=lambda x: torch.median(x))
add("cumsum_loss", lambda x: np.sum(np.cumsum(x) ** 2), x6, torch_fn=lambda x: torch.sum(torch.cumsum(x, 0) ** 2))
add("kl_divergence_softmaxes", lambda z: np.sum(
    np.exp(_log_softmax(z)) * (_log_softmax(z) - _log_softmax(x4[::-1]))), x4,
    torch_fn=lambda z: torch.sum(torch.softmax(z, 0) * (torch.log_softmax(z, 0) - torch.log_softmax(
        T(x4[::-1].copy()), 0))))
add("entropy_of_softmax", lambda z: -np.sum(np.exp(_log_softmax(z)) * _log_softmax(z)), x4)
add("loss_plus_weight_decay", lambda w: np.mean((X @ w - targets) ** 2) + 1e-2 * np.sum(w ** 2), w3)
add("dropout_fixed_mask", lambda x: np.sum((x * dropout_mask) ** 2), x6)
add("max_pool_by_reshape", lambda A: A.reshape(2, 2, 2, 2).max(axis=(1, 3)),
    np.arange(16.0).reshape(4, 4) * 0.37 % 1.9 + np.linspace(0, 0.1, 16).reshape(4, 4))
add("average_pool_by_reshape", lambda A: A.reshape(2, 2, 2, 2).mean(axis=(1, 3)), _rng.standard_normal((4, 4)))
add("gelu_tanh_approximation",
    lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))), x6,
    torch_fn=lambda x: torch.nn.functional.gelu(x, approximate="tanh"))
add("sigmoid", lambda x: 1 / (1 + np.exp(-x)), x6, torch_fn=torch.sigmoid)
add("softplus_logaddexp", lambda x: np.logaddexp(0.0, x), x6, torch_fn=torch.nn.functional.softplus)
add("logsumexp_by_hand", lambda x: np.log(np.sum(np.exp(x - np.max(x)))) + np.max(x), x6,
    torch_fn=lambda x: torch.logsumexp(x, 0))
add("triplet_margin_loss", lambda a: np.maximum(
    np.sum((a - points_b[0]) ** 2) - np.sum((a - points_b[1]) ** 2) + 0.5, 0.0), np.array([0.9, 0.2]))
add("ridge_closed_form_wrt_targets", lambda t: np.linalg.solve(X.T @ X + 0.1 * np.eye(3), X.T @ t), targets,
    torch_fn=lambda t: torch.linalg.solve(T(X).T @ T(X) + 0.1 * torch.eye(3, dtype=torch.float64), T(X).T @ t))
add("ridge_closed_form_wrt_data", lambda A: np.linalg.solve(A.T @ A + 0.1 * np.eye(3), A.T @ targets), X)
add("covariance_trace", lambda A: np.trace(np.cov(A, rowvar=False)), X, expect=EITHER,
    note="np.cov is not in the issue's list; a clear NoRuleError is acceptable")
add("mahalanobis_distance", lambda d: d @ np.linalg.inv(S) @ d, x3)
add("mahalanobis_wrt_covariance", lambda C: x3 @ np.linalg.solve(C, x3) + np.log(np.linalg.det(C)), S,
    torch_fn=lambda C: T(x3) @ torch.linalg.solve(C, T(x3)) + torch.log(torch.linalg.det(C)))


@user(np.array([0.7, 0.3]))
def gaussian_process_log_marginal(params):
    length, noise = np.exp(params[0]), np.exp(params[1])
    xs = x6
    Kmat = np.exp(-0.5 * (xs[:, None] - xs[None, :]) ** 2 / length ** 2) + noise * np.eye(6)
    L = np.linalg.cholesky(Kmat)
    alpha = np.linalg.solve(Kmat, np.sin(xs))
    return -0.5 * np.sin(xs) @ alpha - np.sum(np.log(np.diag(L)))


add("slogdet_logabsdet", lambda A: np.linalg.slogdet(A)[1], M, torch_fn=lambda A: torch.linalg.slogdet(A)[1])
add("one_hot_by_eye_indexing", lambda Z: np.sum(np.eye(3)[labels] * Z ** 2), logits)
add("label_smoothing_cross_entropy", lambda Z: -np.mean(np.sum((0.9 * onehot + 0.1 / 3) * _log_softmax(Z), 1)),
    logits, torch_fn=lambda Z: torch.nn.functional.cross_entropy(Z, torch.as_tensor(labels), label_smoothing=0.1))
add("focal_loss", lambda Z: -np.mean((1 - np.exp(_log_softmax(Z)[np.arange(4), labels])) ** 2
                                     * _log_softmax(Z)[np.arange(4), labels]), logits)
add("l2_normalize_rows", lambda A: A / np.sqrt(np.sum(A ** 2, axis=1, keepdims=True)), X,
    torch_fn=lambda A: torch.nn.functional.normalize(A, dim=1))
add("weighted_mse_average", lambda w: np.average((X @ w - targets) ** 2, weights=np.arange(1.0, 5.0)), w3)
add("einsum_bilinear", lambda A: np.einsum("ij,jk,ik->", X, A, X), M)
add("outer_product_update", lambda u: np.sum((M + np.outer(u, u)) ** 2), x3)
add("take_along_axis_labels", lambda Z: np.sum(np.take_along_axis(Z, labels[:, None], axis=1)), logits)
add("boolean_mask_selection", lambda x: np.sum(x[x > 0] ** 2), x6)
add("argmax_prediction_is_constant", lambda Z: np.sum(Z[np.arange(4), np.argmax(Z, axis=1)]), logits)

# ==== the functions of the issue that are not piecewise constant ==================================
add("full_like_traced_fill", lambda x: np.full_like(x, x[0]) * x, x3, note="issue 10: was zero")
add("full_traced_fill", lambda x: np.full(3, x[0]) + x, x3, expect=EITHER,
    note="issue 10: was zero; np.full does not dispatch on its fill value, so a clear refusal is acceptable")
add("mod_slope_one", lambda x: np.mod(x, 1.0), np.array([0.3, 1.6, 2.45]), torch_fn=lambda x: torch.remainder(x, 1.0))
add("remainder_operator", lambda x: np.sum((x % 0.7) ** 2), np.array([0.3, 1.6, 2.45]),
    torch_fn=lambda x: torch.sum(torch.remainder(x, 0.7) ** 2))
add("unique_values", lambda x: np.unique(x) * np.arange(4.0), np.array([2.0, -1.0, 0.5, 3.0]),
    note="distinct values: np.unique sorts them (with repeats the derivative is one-sided)")
add("fmax_with_constant", lambda x: np.fmax(x, 0.1), x3, torch_fn=lambda x: torch.fmax(x, T(0.1)))

# ==== calculus exercises =========================================================================
add("sin_times_exp", lambda t: np.sin(t) * np.exp(t), np.array(0.7), torch_fn=lambda t: torch.sin(t) * torch.exp(t))
add("x_to_the_x", lambda t: t ** t, np.array(1.3), torch_fn=lambda t: t ** t)
add("nested_chain", lambda x: np.sin(np.cos(np.exp(x))), x3, torch_fn=lambda x: torch.sin(torch.cos(torch.exp(x))))
add("newton_step_closed_form", lambda t: t - (t ** 2 - 2) / (2 * t), np.array(1.5))
add("arc_length_integrand", lambda t: np.sqrt(1 + np.cos(t) ** 2), x3)
add("power_with_integer_exponent", lambda x: np.power(x, 3) - 2 * x ** 2, x3)
add("tangent_line", lambda a: np.sin(a) + np.cos(a) * (0.3 - a), np.array(0.4))
add("trapezoid_quadrature_parameter", lambda t: np.trapezoid(np.sin(t * grid), grid), np.array(1.3))
add("quotient_rule", lambda x: (x ** 2 + 1) / (np.cos(x) + 2), x3)
add("log_of_sum_of_squares", lambda p: np.log(p[0] ** 2 + p[1] ** 2 + 1), x2)
add("rosenbrock", lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, np.array([-1.2, 1.0]),
    torch_fn=lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2)
add("implicit_circle_slope", lambda p: -p[0] / p[1], np.array([0.6, 0.8]))
add("gradient_field_potential", lambda p: np.stack([2 * p[0] * p[1], p[0] ** 2 + np.cos(p[1])]), x2)
add("linalg_det", lambda A: np.linalg.det(A), M, torch_fn=torch.linalg.det)
add("linalg_inv_sum", lambda A: np.linalg.inv(A).sum(), M, torch_fn=lambda A: torch.linalg.inv(A).sum())
add("linalg_solve_both", lambda A, b: np.linalg.solve(A, b), M, x3, torch_fn=torch.linalg.solve)
add("eigvalsh_symmetrized", lambda A: np.linalg.eigvalsh(A + A.T), M,
    torch_fn=lambda A: torch.linalg.eigvalsh(A + A.T))
add("singular_values", lambda A: np.linalg.svd(A, compute_uv=False), M, torch_fn=torch.linalg.svdvals)
add("pinv_of_tall", lambda A: np.linalg.pinv(A), X, torch_fn=torch.linalg.pinv)
add("matrix_power_cubed", lambda A: np.linalg.matrix_power(A, 3), M,
    torch_fn=lambda A: torch.linalg.matrix_power(A, 3))
add("multi_dot_chain", lambda A: np.linalg.multi_dot([A, B, A]), M, torch_fn=lambda A: A @ T(B) @ A)
add("kron_product", lambda A: np.kron(A[:2, :2], B[:2, :2]), M)
add("cross_product", lambda a, b: np.cross(a, b), x3, w3, torch_fn=lambda a, b: torch.linalg.cross(a, b))
add("finite_difference_by_diff", lambda x: np.diff(x ** 2), x6, torch_fn=lambda x: torch.diff(x ** 2))
add("roll_shift", lambda x: np.roll(x, 1) * x, x6, torch_fn=lambda x: torch.roll(x, 1) * x)
add("lower_triangle", lambda A: np.tril(A) @ A, M, torch_fn=lambda A: torch.tril(A) @ A)
add("hessian_by_hand_via_stack", lambda p: np.stack([np.stack([2 * p[1], 2 * p[0]]),
                                                     np.stack([2 * p[0], -np.cos(p[1])])]), x2)
add("power_at_zero_by_arange", lambda t: np.sum(t ** np.arange(3.0)), np.array(0.0),
    torch_fn=lambda t: torch.sum(t ** torch.arange(3.0, dtype=torch.float64)),
    note="issue 10: NaN at 0 (PyTorch gives 1)")

# ==== user code that calls calcml's own transforms =============================================
add("newton_step_with_cm_grad",
    lambda t: t - (t ** 3 - 2 * t - 5) / cm.grad(lambda s: s ** 3 - 2 * s - 5)(t), np.array(2.1))
add("gradient_penalty_functional",
    lambda w: np.sum(w ** 2) + np.sum(cm.grad(lambda x: np.sum(np.sin(w * x) * x))(x3) ** 2), w3)
add("jvp_inside_function", lambda x: cm.jvp(np.sin, (x,), (np.ones(3),))[1] * x, x3,
    note="forward mode inside the outer transforms: transforms compose to any depth (DESIGN.md)")
add("hessian_trace_inside_loss", lambda x: np.trace(cm.hessian(lambda y: np.sum(y ** 3) * np.sum(y))(x)), x3)
