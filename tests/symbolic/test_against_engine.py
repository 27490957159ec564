"""The symbolic derivative, lambdified, agrees with calcml's autodiff engine at random points."""

import numpy as np
import pytest

from calcml.symbolic import derive, lambdify

cm = pytest.importorskip("calcml")
if not hasattr(cm, "grad"):
    pytest.skip("the autodiff engine is not available", allow_module_level=True)

SMOOTH = [
    "sin(x^2)",
    "x*exp(-x^2/2)",
    "tanh(3x + 1)^2",
    "sigmoid(2x)",
    "softplus(x)",
    "log(1 + x^2)",
    "x^3 - 2x + 1",
    "sqrt(1 + x^2)",
    "exp(sin(x))",
    "x*sigmoid(x)",
    "cos(x)/(2 + sin(x))",
]


@pytest.mark.parametrize("text", SMOOTH)
def test_symbolic_and_automatic_derivatives_agree(text):
    f = lambdify(text, ["x"])
    df = lambdify(derive(text, "x").result, ["x"])
    xs = np.random.default_rng(0).uniform(-2, 2, size=7)
    for x in xs:
        automatic = cm.grad(lambda t: f(t))(np.float64(x))
        assert np.allclose(automatic, df(x), rtol=1e-10, atol=1e-12), (text, x)
