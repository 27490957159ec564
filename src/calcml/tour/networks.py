"""The book's chapters 16–18: convolutional networks, recurrent networks and backpropagation through time, and
digit classification — each made of sections checked against closed forms or a second computation."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml import nn, optim
from calcml.apps import convolution, rnn_dynamics
from calcml.tour.chapter import Chapter


def convolutional_networks() -> Chapter:
    """Chapter 16: a convolution is a discrete integral, and its filter's gradient is another convolution."""
    ch = Chapter("Convolutional networks")
    ch.say("A convolutional layer slides one small filter over the image: a sum of products that approximates the "
           "integral ∫ f(τ) g(t − τ) dτ. Its gradient with respect to the filter is again such a sum — a correlation "
           "of the input with the gradient arriving from above.")
    ch.include(convolution_as_integral())
    ch.include(filter_gradient())
    return ch


def convolution_as_integral() -> Chapter:
    """h·Σ f g for a Gaussian convolved with a box, against the exact integral: the trapezoidal rule's order 2."""
    ch = Chapter("Convolution as an integral")
    study = convolution.convergence_study(hs=(0.1, 0.05, 0.025))
    ch.lines.extend("  " + line for line in str(study).splitlines())
    orders = study.orders("trapezoid")
    ch.say("N(0, ½²) ∗ box[−1, 1] sampled with spacing h: the discrete convolution is the trapezoidal rule of the "
           "integral, so halving h divides the error by 4.")
    ch.check("measured order of the discrete convolution = 2", orders[-1], 2.0, 0.05)
    return ch


def filter_gradient() -> Chapter:
    """∂L/∂w and ∂L/∂x of a strided, padded 2-D convolution by the engine, against the sums written by hand."""
    ch = Chapter("The gradient of a filter")
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3))
    g = rng.standard_normal(np.shape(nn.convolve2d(x, w, stride=2, padding=1)))
    dx, dw = cm.grad(lambda x, w: np.sum(g * nn.convolve2d(x, w, stride=2, padding=1)), argnums=(0, 1))(x, w)
    hand_w = convolution.filter_grad2d(x, g, (3, 3), stride=2, padding=1)
    hand_x = convolution.input_grad2d(g, w, (9, 9), stride=2, padding=1)
    ch.say("2 images of 3 channels, 4 filters of 3×3, stride 2, padding 1; L = Σ g ⊙ y. By hand: ∂L/∂w[o, c, a, b] = "
           "Σ g[n, o, i, j] x_p[n, c, 2i + a, 2j + b], and ∂L/∂x is the transposed convolution.")
    ch.check("∂L/∂w: engine = sum by hand", np.max(np.abs(dw - hand_w)), 0.0, 1e-12)
    ch.check("∂L/∂x: engine = transposed convolution by hand", np.max(np.abs(dx - hand_x)), 0.0, 1e-12)
    return ch


def recurrent_networks() -> Chapter:
    """Chapter 17: backpropagation through time multiplies one Jacobian per step."""
    ch = Chapter("Recurrent networks and backpropagation through time")
    ch.say("An RNN applies the same weights at every step, h_t = tanh(W h_{t−1} + U x_t). Backpropagation through "
           "time multiplies the gradient by Wᵀ diag(tanh′) once per step back, so it shrinks or grows geometrically "
           "with the spectral radius ρ of W.")
    ch.include(gradients_through_time())
    return ch


def gradients_through_time() -> Chapter:
    """‖∂L/∂h_t‖ over 50 steps for ρ = 0.8 and 1.2 in the linear range of tanh: the rate per step is ρ."""
    ch = Chapter("Gradients through time")
    studies = rnn_dynamics.through_time_study(radii=(0.8, 1.2), scale=1e-6)
    rows = [(f"{s.radius:.2f}", f"{s.rate:.8f}", f"{s.norms[0] / s.norms[-1]:.3e}") for s in studies]
    ch.table("50 steps, tiny inputs (tanh′ ≈ 1)", ("ρ", "measured rate per step", "‖∂L/∂h₁‖/‖∂L/∂h₅₀‖"), rows)
    ch.say("Below ρ = 1 the gradient of early steps vanishes, above it explodes — the reason for gated cells and "
           "gradient clipping.")
    for study in studies:
        ch.check(f"rate per step back = ρ = {study.radius:.1f}", study.rate, study.radius, 1e-5)
    return ch


def digit_classification() -> Chapter:
    """Chapter 18: the whole pipeline on the embedded handwritten digits."""
    ch = Chapter("Digit classification")
    ch.say("Everything together: a multilayer perceptron, softmax cross-entropy, backpropagation and Adam on 1,797 "
           "real 8×8 handwritten digits (embedded in calcml, no download).")
    ch.include(digits_mlp())
    return ch


def digits_mlp(epochs: int = 3) -> Chapter:
    """A 64–32–10 MLP: its gradient checked by finite differences, then trained, its accuracy recounted in NumPy."""
    ch = Chapter("A multilayer perceptron on the digits")
    digits = cm.data.digits()
    model = nn.Sequential(nn.Linear(64, 32, rng=0, dtype=np.float64), nn.ReLU(),
                          nn.Linear(32, 10, rng=1, dtype=np.float64))
    loss_of, weights = cm.curvature.model_loss(model, nn.losses.cross_entropy, digits.X_train[:32],
                                               digits.y_train[:32])
    report = cm.check_grad(lambda b1, W2, b2: loss_of({**weights, "0.bias": b1, "2.weight": W2, "2.bias": b2}),
                           weights["0.bias"], weights["2.weight"], weights["2.bias"])
    history = cm.train.fit(model, nn.losses.cross_entropy, optim.Adam(model.parameters(), lr=1e-2), digits,
                           epochs=epochs, batch_size=64, progress=False)
    result = cm.train.evaluate(model, nn.losses.cross_entropy, digits.X_test, digits.y_test)
    with cm.no_grad():
        logits = np.asarray(model(digits.X_test).value)
    recount = float(np.mean(np.argmax(logits, axis=1) == digits.y_test))
    ch.table("training", ("epoch", "loss"), [(str(k + 1), f"{loss:.4f}") for k, loss in enumerate(history.loss)])
    ch.say(f"After {epochs} epochs of Adam: test accuracy {100 * result.accuracy:.1f}% on {len(digits.y_test)} "
           "unseen digits.")
    ch.check("backpropagated ∂L/∂(b₁, W₂, b₂) = finite differences (max relative error ≤ 1e-6)",
             report.max_rel_error, 0.0, 1e-6)
    ch.check("evaluate's accuracy = argmax of the logits, recounted", result.accuracy, recount, 1e-15)
    ch.check("test accuracy ≥ 90%", min(result.accuracy, 0.9), 0.9, 0.0)
    return ch
