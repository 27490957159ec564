"""The README's API tour must run as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_python_blocks_run_and_compute_what_they_say():
    blocks = python_blocks()
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # our own documentation, not user input
    x = namespace["x"]
    np.testing.assert_allclose(namespace["gradient"], 2 * np.tanh(x) * (1 - np.tanh(x) ** 2))
    np.testing.assert_allclose(namespace["d2"], -np.sin(0.3))
    np.testing.assert_allclose(namespace["t"].grad, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(namespace["jv"], np.cos(x))
    assert str(namespace["d"].result) == "2*x*cos(x**2)"
    assert [float(v) for v in namespace["g"].value] == [39.0, 40.0]
    assert abs(namespace["r"].value + np.pi / 15) < 1e-10
    assert abs(float(namespace["area"]) - 1 / 8) < 1e-10
    assert abs(namespace["leibniz"] - np.e) < 1e-10
    assert abs(float(namespace["mean_sq"]) - 1.0) < 1e-8
    assert abs(namespace["sol"].y[-1, 0] - np.exp(-2.0)) < 1e-5
    assert abs(namespace["dy_dk"] - (-np.exp(-0.5))) < 1e-5
    assert namespace["accuracy"] > 0.8
    t = np.tanh(0.3)
    assert abs(namespace["third"] - (-2 * (1 - t ** 2) * (1 - 3 * t ** 2))) < 1e-12
    per_example, w0, X, Y = namespace["per_example"], namespace["w0"], namespace["X"], namespace["Y"]
    for i in range(3):
        residual = np.tanh(X[i] @ w0) - Y[i]
        np.testing.assert_allclose(per_example[i], 2 * residual * (1 - np.tanh(X[i] @ w0) ** 2) * X[i])
    np.testing.assert_allclose(namespace["fixed"], w0)
