"""Every script of the example gallery runs with its CI settings, writes its picture and prints its key number.

The gallery follows the book's 20 chapters: ``examples/chNN_topic.py`` belongs to chapter NN, and a chapter may have
several scripts. Each example is run once, as a learner would run it: ``python examples/chNN_topic.py --fast --out DIR``
in a fresh process. The test then checks that it exited cleanly, that its picture ``DIR/name.png`` (or ``.svg``) was
written, and that one number it printed equals what the mathematics says — a closed form computed here, not a
value copied from the script's own output.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("ch[0-9][0-9]_*.py"))
BOOK_CHAPTERS = 20
# Scripts that need data a user supplies (real MNIST's IDX files are not shipped): not run here.
NEEDS_USER_DATA = {"ch18_mnist_cnn_real"}
RUN = [script for script in SCRIPTS if script.stem not in NEEDS_USER_DATA]
NUMBER = r"([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


@dataclass(frozen=True)
class KeyNumber:
    """The first number matched by ``pattern`` (its ``{}`` stands for the number) must lie in [low, high]."""

    pattern: str
    low: float
    high: float
    why: str

    def value_in(self, stdout: str) -> float:
        match = re.search(self.pattern.replace("{}", NUMBER), stdout)
        assert match, f"the example no longer prints {self.pattern!r}"
        return float(match.group(1))


def near(pattern: str, exact: float, tol: float, why: str) -> KeyNumber:
    return KeyNumber(pattern, exact - tol, exact + tol, why)


def at_most(pattern: str, bound: float, why: str) -> KeyNumber:
    return KeyNumber(pattern, -math.inf, bound, why)


KEY_NUMBERS = {
    "ch01_limits_and_continuity": near(r"σ'\(0\) from secants: {}", 0.25, 1e-9, "σ'(0) = σ(0)(1 − σ(0)) = 1/4"),
    "ch02_derivative_rules": near(r"d/dx sin\(x²\) at x = 1: {} \(cm\.grad\)", 2 * math.cos(1), 1e-10,
                                  "d/dx sin(x²) = 2x cos(x²)"),
    "ch02_checked_exercises": near(r"{}/33 expected answers checked as equivalent", 33, 0,
                                   "every expected answer passes, one per topic"),
    "ch03_partial_derivatives_and_gradients": near(r"u = \(3, 4\)/5: 277/5 \(symbolic\), {} \(cm\.jvp\)", 277 / 5,
                                                   1e-9, "∇f(2, 3)·(3, 4)/5 = (39·3 + 40·4)/5"),
    "ch04_chain_rule_as_backpropagation": near(r"∂L/∂w = \S+ by hand, {} by backpropagation", -0.5, 1e-12,
                                               "2(σ(0) − 1)·σ′(0)·x = 2(−½)(¼)(2)"),
    "ch05_jacobians_hessians_newton": near(r"det J = {}", 2.0, 1e-12, "det ∂(r cos θ, r sin θ)/∂(r, θ) = r"),
    "ch05_network_curvature": KeyNumber(r"λ_max / \(2/η\) = {}", 0.9, 1.2,
                                        "at the edge of stability the sharpness hovers at 2/η (Cohen et al., 2021)"),
    "ch05_newton_cg_digits": at_most(r"max \|Gv − Hv\| = {}", 1e-10,
                                     "Gauss–Newton = Hessian when the model is linear in θ"),
    "ch06_critical_points_and_convexity": near(r"minimum at \(1\.000000, 0\.000000\), f = {}", -2.0, 1e-9,
                                               "f(1, 0) = 1 − 3 + 0"),
    "ch07_integrals": near(r"area of the unit disc .* = {}, π", math.pi, 1e-9, "the area of the unit disc is π"),
    "ch08_probability_by_integration": near(r"∫ e\^\(−x²/2\) dx = Z = {}", math.sqrt(2 * math.pi), 1e-10,
                                            "the Gaussian integral √(2π)"),
    "ch09_odes_and_neural_odes": near(r"backprop through the steps\s+∂y\(2\)/∂w = {}", -2 * math.exp(-1), 1e-8,
                                      "∂/∂w e^(−2w) at w = ½"),
    "ch10_losses_and_their_derivatives": near(r"∂CE/∂z₀ = {}", math.exp(2) / (math.exp(2) + math.e + 1) - 1, 1e-10,
                                              "softmax(2, 1, 0)₀ − 1"),
    "ch11_batch_stochastic_minibatch": near(r"GD measured contraction per step: {}", 0.95, 1e-9,
                                            "1 − ηλ_min = 1 − 0.05·1"),
    "ch12_momentum_adagrad_rmsprop_adam": near(r"Adam's first step per coordinate: \|Δθ₂\| = {}", 0.01, 1e-6,
                                               "m̂/(√v̂ + ε) = g/|g| = ±1 on the first step, so |Δθ| = η"),
    "ch13_backprop_three_ways": at_most(r"largest disagreement between any two methods: {}", 1e-12,
                                        "by hand, calcml and PyTorch compute the same gradient"),
    "ch14_two_layer_network": at_most(r"max \|backprop − by hand\| = {}", 1e-12, "the hand-derived δ formulas"),
    "ch15_vanishing_and_exploding_gradients": near(r"sigmoid\s+max φ′ = {}", 0.25, 1e-9, "max σ′ = σ′(0) = 1/4"),
    "ch16_convolution_as_integral": near(r"observed orders \(finest grids\): trapezoid {}", 2.0, 0.05,
                                         "the trapezoidal rule has order 2"),
    "ch16_cnn_digits": KeyNumber(r"test accuracy {}%", 80.0, 100.0, "one epoch of the CNN recipe"),
    "ch17_rnn_gradients_through_time": near(r"\n\s+0\.80\s+{}", 0.8, 1e-3,
                                            "in the linear range each step back multiplies by ρ = 0.8"),
    "ch18_digit_attributions": at_most(r"with 128 steps: {} \(the trapezoid", 1e-4,
                                       "integrated gradients are complete: Σ IG = f(x) − f(0), up to quadrature error"),
    "ch18_digits_mlp": KeyNumber(r"test accuracy {}%", 90.0, 100.0, "10 epochs of the MLP recipe"),
    "ch19_loss_surfaces": near(r"η\* = 2/\(λ_min \+ λ_max\) = {}", 0.4, 1e-9, "2/(1 + 4) for ½(x² + 4y²)"),
    "ch20_policy_gradients": at_most(r"theorem vs cm\.grad: max difference {}", 1e-10,
                                     "the policy-gradient theorem is exact"),
    "ch20_stochastic_calculus": near(r"T → 0: from x = 0\.3 it is gradient descent, ending at x = {}", 1.0, 1e-6,
                                     "the minimum of (x² − 1)² nearest 0.3"),
    "ch20_quantum_parameter_shift": at_most(r"max \|shift − engine\| = {}", 1e-10,
                                            "the parameter-shift rule is exact"),
}


def chapter_of(script: Path) -> int:
    """``ch05_network_curvature.py`` belongs to chapter 5."""
    return int(script.stem[2:4])


def test_every_example_of_the_gallery_has_a_key_number():
    assert set(KEY_NUMBERS) <= {script.stem for script in SCRIPTS}, "a key number names a script that is gone"


def test_every_book_chapter_has_an_example_and_no_example_is_outside_the_book():
    chapters = {chapter_of(script) for script in SCRIPTS}
    assert chapters == set(range(1, BOOK_CHAPTERS + 1)), sorted(set(range(1, BOOK_CHAPTERS + 1)) ^ chapters)
    assert all(script.stem[4] == "_" for script in SCRIPTS), "names are chNN_topic.py"


@pytest.mark.parametrize("script", RUN, ids=[script.stem for script in RUN])
def test_example_runs_fast_writes_its_picture_and_prints_its_key_number(script, tmp_path):
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(script), "--fast", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    name = script.stem.split("_", 1)[1]
    pictures = [p for p in (tmp_path / "out").glob(f"{name}.*") if p.suffix in (".png", ".svg")]
    assert len(pictures) == 1, f"expected {name}.png or {name}.svg in --out, found {list((tmp_path / 'out').iterdir())}"
    assert pictures[0].stat().st_size > 5_000
    assert f"picture: {pictures[0]}" in done.stdout
    key = KEY_NUMBERS.get(script.stem)
    if key is None:  # a script added by another chapter's author without its key number yet: it still must run
        return
    value = key.value_in(done.stdout)
    assert key.low <= value <= key.high, f"{script.stem}: printed {value}, expected [{key.low}, {key.high}]: {key.why}"
