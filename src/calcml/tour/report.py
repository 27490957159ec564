"""``calcml tour --out DIR``: the book as a folder — each chapter's pictures and an ``index.html`` that holds
every chapter's text, tables and checks, opens offline and fetches nothing (pictures are files beside it).

Pictures are keyed by the title of a chapter or of one of its sections in ``PICTURES``; a part without an entry
is written without pictures.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from calcml.tour import pictures
from calcml.tour.chapter import Chapter, chapter_html, chapter_slug

Drawing = Callable[[Path], list[Path]]  # draws into a folder, returns the files it wrote


def _limit_definition(folder: Path) -> list[Path]:
    from calcml.viz import derivative

    derivative(np.sin, 1.0, secants=(1.0, 0.5, 0.25, 0.1), path=folder / "secants.svg")
    return [folder / "secants.svg"]


def _rules(folder: Path) -> list[Path]:
    from calcml.viz import derivative

    derivative(lambda x: np.tanh(x ** 3), 1.3, xlim=(-2.0, 2.0), secants=(0.5, 0.2, 0.05),
               path=folder / "chain-rule.svg")
    return [folder / "chain-rule.svg"]


def _gradients(folder: Path) -> list[Path]:
    from calcml.viz import vector_field

    vector_field("x**2*y + 3*x*y**2", bounds=((-1.0, 3.0), (-1.0, 4.0)), path=folder / "negative-gradient.svg")
    return [folder / "negative-gradient.svg"]


def _hessian(folder: Path) -> list[Path]:
    from calcml.viz import loss_surface

    loss_surface("rosenbrock", ["gd", "newton"], steps=300, path=folder / "rosenbrock.svg")
    return [folder / "rosenbrock.svg"]


def _gradient_descent(folder: Path) -> list[Path]:
    from calcml.optim.race import race
    from calcml.viz import loss_surface

    loss_surface(race("quadratic", ["gd"], start=(-4.5, 1.5), lr=0.05, steps=40), path=folder / "descent-path.svg")
    return [folder / "descent-path.svg"]


def _regression(folder: Path) -> list[Path]:
    from calcml import data, nn, optim
    from calcml.train import fit
    from calcml.viz import training_curves

    sample = data.linear_regression(n=100, n_features=2, noise=0.2, seed=0)
    model = nn.Linear(2, 1, rng=0, dtype=np.float64)
    history = fit(model, nn.losses.mse, optim.SGD(model.parameters(), lr=0.1), (sample.X, sample.y[:, None]),
                  epochs=80, batch_size=None, progress=False)
    training_curves(history, path=folder / "loss.svg")
    return [folder / "loss.svg"]


def _one_neuron(folder: Path) -> list[Path]:
    import calcml as cm
    from calcml.tour.derivatives import neuron_loss
    from calcml.viz import graph

    graph(cm.trace(neuron_loss, 0.5, -1.0), folder / "neuron-graph.svg")
    return [folder / "neuron-graph.svg"]


def _critical_points(folder: Path) -> list[Path]:
    from calcml.viz import vector_field

    vector_field("x**3 - 3*x + y**2", bounds=((-2.0, 2.0), (-1.5, 1.5)), path=folder / "critical-points.svg")
    return [folder / "critical-points.svg"]


def _losses(folder: Path) -> list[Path]:
    from calcml.viz import losses

    losses(["mse", "huber", "logistic", "hinge"], path=folder / "losses.svg")
    return [folder / "losses.svg"]


def _matrix_backpropagation(folder: Path) -> list[Path]:
    import calcml as cm
    from calcml.apps import backprop_three_ways
    from calcml.viz import graph

    params = backprop_three_ways.init_params()
    X, y = backprop_three_ways.toy_batch()
    traced = cm.trace(lambda W1, b1, W2, b2: backprop_three_ways.loss(W1, b1, W2, b2, X, y), *params.values())
    graph(traced, folder / "matrix-graph.svg")
    return [folder / "matrix-graph.svg"]


def _activation_derivatives(folder: Path) -> list[Path]:
    from calcml.nn import sigmoid
    from calcml.viz import derivative

    derivative(sigmoid, 0.0, xlim=(-6.0, 6.0), secants=(2.0, 1.0, 0.25), path=folder / "sigmoid.svg")
    return [folder / "sigmoid.svg"]


def _convolution(folder: Path) -> list[Path]:
    from calcml.viz import convolution_as_integral

    convolution_as_integral(path=folder / "convolution.svg")
    return [folder / "convolution.svg"]


def _digits(folder: Path) -> list[Path]:
    from calcml import data, nn, no_grad, optim
    from calcml.train import fit
    from calcml.viz import classifier

    digits = data.digits()
    model = nn.Sequential(nn.Linear(64, 32, rng=0, dtype=np.float64), nn.ReLU(),
                          nn.Linear(32, 10, rng=1, dtype=np.float64))
    history = fit(model, nn.losses.cross_entropy, optim.Adam(model.parameters(), lr=1e-2), digits, epochs=3,
                  batch_size=64, validation=digits, progress=False)
    with no_grad():
        predicted = np.asarray(model(digits.X_test)).argmax(axis=1)
    classifier(history, digits.y_test, predicted, path=folder / "digits-classifier.svg")
    return [folder / "digits-classifier.svg"]


def _learning_rates_bowl(folder: Path) -> list[Path]:
    from calcml.optim.race import learning_rate_comparison
    from calcml.viz import learning_rates

    learning_rates(learning_rate_comparison("bowl", steps=40), path=folder / "learning-rates.svg")
    return [folder / "learning-rates.svg"]


def _two_layer_network(folder: Path) -> list[Path]:
    import calcml as cm
    from calcml.viz import graph

    x, y = np.array([[0.5, -1.0]]), np.array([[0.8]])

    def loss(W1, b1, W2):
        return np.sum((np.tanh(x @ W1 + b1) @ W2 - y) ** 2)

    traced = cm.trace(loss, np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]]), np.array([0.05, -0.05, 0.1]),
                      np.array([[0.7], [-0.6], [0.2]]))
    graph(traced, folder / "graph.svg")
    return [folder / "graph.svg"]


def _optimizers_compared(folder: Path) -> list[Path]:
    from calcml.optim.race import Surface
    from calcml.viz import loss_surface

    quadratic = Surface("quadratic", "½ θᵀAθ − bᵀθ, A = diag(10, 1), b = (1, 1)",
                        lambda x, y: 5.0 * x ** 2 + 0.5 * y ** 2 - x - y, bounds=((-1.5, 1.5), (-1.0, 3.0)),
                        start=(-1.0, 2.0), minima=((0.1, 1.0),), minimum_value=-0.55, lr=0.1, adaptive_lr=0.1)
    loss_surface(quadratic, ["gd", "momentum", "adam", "newton"], steps=50, path=folder / "race.svg")
    return [folder / "race.svg"]


def _riemann_to_gauss(folder: Path) -> list[Path]:
    from calcml.viz import integral

    integral(np.exp, 0.0, 1.0, ns=(4, 16), exact=float(np.e - 1), path=folder / "riemann.svg")
    return [folder / "riemann.svg"]


def _ode_solvers(folder: Path) -> list[Path]:
    from calcml.ode import problems
    from calcml.viz import phase_portrait, solution_curves

    vdp = problems.van_der_pol(mu=1.0, t_end=20.0)
    solution_curves(vdp.f, vdp.y0, vdp.t_span, labels=("x", "x'"), path=folder / "van-der-pol.svg")
    phase_portrait(vdp.f, [(2.0, 0.0), (0.1, 0.0), (-3.0, 3.0)], vdp.t_span, labels=("x", "x'"),
                   title="Van der Pol (μ = 1): every start winds onto the limit cycle",
                   path=folder / "van-der-pol-phase.svg")
    return [folder / "van-der-pol.svg", folder / "van-der-pol-phase.svg"]


def _gradient_flow(folder: Path) -> list[Path]:
    from calcml.viz import phase_portrait

    phase_portrait(lambda t, p: -np.array([p[0], 4.0 * p[1]]), [(-2.5, 2.0), (2.5, 1.0), (1.0, -2.5)], (0.0, 4.0),
                   bounds=((-3.0, 3.0), (-3.0, 3.0)), title="gradient flow θ' = −∇f for f = ½(x² + 4y²)",
                   path=folder / "gradient-flow.svg")
    return [folder / "gradient-flow.svg"]


def _drawn(draw: Callable[..., object], name: str) -> Drawing:
    """A drawing of ``calcml.tour.pictures`` saved as ``name`` in the chapter's folder."""

    def drawing(folder: Path) -> list[Path]:
        draw(path=folder / name)
        return [folder / name]

    return drawing


PICTURES: dict[str, Drawing] = {
    "The derivative as a limit": _limit_definition,
    "The rules of differentiation, computed": _rules,
    "Partial derivatives and the gradient": _gradients,
    "Checking a gradient": _drawn(pictures.gradient_check_v, "difference-errors.svg"),
    "One neuron, node by node": _one_neuron,
    "Second derivatives: the Hessian": _hessian,
    "Critical points, classified by the Hessian": _critical_points,
    "MSE, cross-entropy and hinge, differentiated": _losses,
    "By hand and by the engine": _matrix_backpropagation,
    "The activations' derivatives": _activation_derivatives,
    "Convolution as an integral": _convolution,
    "Gradients through time": _drawn(pictures.gradients_through_time, "gradients-through-time.svg"),
    "A multilayer perceptron on the digits": _digits,
    "Learning rates from the Hessian": _learning_rates_bowl,
    "Gradient descent": _gradient_descent,
    "Linear regression: gradient descent meets the normal equations": _regression,
    "A two-layer network, traced step by step": _two_layer_network,
    "Optimizers compared on one problem": _optimizers_compared,
    "Areas: from Riemann sums to Gauss": _riemann_to_gauss,
    "Adaptive quadrature with an honest error": _drawn(pictures.adaptive_quadrature, "adaptive-quadrature.svg"),
    "Differentiating an integral": _drawn(pictures.leibniz_rule, "leibniz-rule.svg"),
    "Probability by quadrature": _drawn(pictures.normalized_density, "normalized-density.svg"),
    "Gradients of expectations: reparameterization vs score": _drawn(pictures.estimator_histograms,
                                                                      "estimator-histograms.svg"),
    "Solving an ODE: steps, orders and adaptivity": _ode_solvers,
    "Stiffness": _drawn(pictures.stiffness_steps, "stiffness-steps.svg"),
    "Gradient flow and the step-size bound of gradient descent": _gradient_flow,
    "Differentiating through an ODE solve": _drawn(pictures.ode_sensitivity, "ode-sensitivity.svg"),
    "Stochastic differential equations and Langevin sampling": _drawn(pictures.ou_and_langevin,
                                                                       "ou-and-langevin.svg"),
}

PAGE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #1f2937; line-height: 1.45; }
h1 { border-bottom: 2px solid #e5e7eb; }
section { margin: 2.5em 0; }
pre { background: #f9fafb; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #d1d5db; padding: 0.25em 0.6em; text-align: right; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3em; }
img { max-width: 100%; border: 1px solid #e5e7eb; margin: 0.5em 0; }
.pass { color: #15803d; } .fail { color: #b91c1c; }
nav li { margin: 0.15em 0; }
"""


def write_report(out: str | Path, chapters: Sequence[Chapter], pictures: bool = True) -> Path:
    """Write ``out/index.html`` for ``chapters`` (as ``calcml tour`` computed them) and each chapter's
    pictures into ``out/<number-title>/``; returns the path of index.html.

    A picture that fails to draw is named on the page instead of stopping the report.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sections, contents = [], []
    for position, chapter in enumerate(chapters, 1):
        number = getattr(chapter, "number", 0) or position
        drawn: dict[str, list[str]] = {}
        problems: dict[str, list[str]] = {}
        for part in chapter.parts():
            drawing = PICTURES.get(part.title) if pictures else None
            if drawing is None:
                continue
            folder = out / chapter_slug(number, chapter)
            folder.mkdir(exist_ok=True)
            try:
                drawn[part.title] = [path.relative_to(out).as_posix() for path in drawing(folder)]
            except Exception as error:  # one broken picture must not hide the rest of the book
                problems[part.title] = [f"{type(error).__name__}: {error}"]
        sections.append(chapter_html(number, chapter, drawn, problems))
        mark = "✓" if chapter.passed else "✗"
        contents.append(f'<li><a href="#{chapter_slug(number, chapter)}">{number}. {html.escape(chapter.title)}</a> '
                        f"{mark}</li>")
    checks = [c for chapter in chapters for c in chapter.all_checks]
    failed = sum(not c.passed for c in checks)
    verdict = (f'<p class="pass">All {len(checks)} checks agreed with their closed forms.</p>' if not failed else
               f'<p class="fail">{failed} of {len(checks)} checks failed.</p>')
    page = "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>calcml — the tour</title>", f"<style>{PAGE_STYLE}</style></head><body>",
        "<h1>calcml — the tour</h1>",
        "<p>Calculus for machine learning, computed: each chapter's key idea computed, explained, drawn and "
        "checked against its closed form.</p>", verdict,
        f"<nav><ul>{''.join(contents)}</ul></nav>", *sections, "</body></html>",
    ])
    index = out / "index.html"
    index.write_text(page + "\n", encoding="utf-8")
    return index
