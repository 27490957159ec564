"""The public face of DESIGN.md, written as a user writes it: type-checked by mypy (tests/test_typing.py),
never run. With ``py.typed`` shipped, a user's own mypy sees calcml's annotations; this file is what it must
accept. Everything sits inside functions, so importing the file (pytest's doctest collection does) runs nothing.
"""

from __future__ import annotations

import numpy as np

import calcml as cm


def show(*values: object) -> None:
    """Stands in for print: the values are only type-checked."""


def automatic_differentiation() -> None:
    x = np.ones(3)

    def f(x: cm.Tensor) -> cm.Tensor:
        return np.sum(np.tanh(x) ** 2)

    value, gradient = cm.value_and_grad(f)(x)
    out, vjp_fn = cm.vjp(f, x)
    show(cm.grad(f)(x), value, gradient, out, vjp_fn(1.0), cm.jvp(f, (x,), (x,)))
    show(cm.jacobian(f, mode="rev")(x), cm.hessian(f)(x), cm.hvp(f, x, x))
    report = cm.check_grad(f, x)
    passed: bool = report.passed
    t = cm.Tensor(np.ones(3), requires_grad=True)
    y = (t * t).sum()
    y.backward()
    show(passed, t.grad, t + 1.0, 2.0 * t - t / 3.0, t @ t, -t, t ** 2, t[0], t.T, t.shape, abs(t), t > 0)
    g = cm.trace(f, x)
    show(g.explain(), g.to_dot())
    leaves, treedef = cm.tree.flatten({"w": x, "b": 0.0})
    show(cm.tree.unflatten(treedef, leaves), cm.tree.leaves({"w": x}), cm.tree.map(lambda a: a * 2, {"w": x}))
    per_example = cm.vmap(cm.grad(lambda w, xi: np.sum(w * xi)), in_axes=(None, 0))(x, np.ones((4, 3)))
    show(per_example, cm.stop_gradient(x), cm.checkpoint, cm.custom_vjp, cm.custom_jvp)
    with cm.no_grad():
        show(cm.supported_functions())


def symbolic_calculus() -> None:
    d = cm.derive("sin(x**2)", "x")
    show(d.result, d.steps, d.text(), d.latex(), d.html())
    show(cm.symbolic.gradient("x**2*y + 3*x*y**2", ["x", "y"], at={"x": 2, "y": 3}))
    show(cm.symbolic.jacobian, cm.symbolic.hessian, cm.symbolic.critical_points, cm.symbolic.is_convex)
    show(cm.symbolic.limit, cm.symbolic.taylor, cm.symbolic.integrate("x", "x").result)
    show(cm.symbolic.summation("k**2", ("k", 1, 10)).result, cm.symbolic.product("i", ("i", 1, 5)).result)
    exercise = cm.exercises.generate("power-rule", seed=0)
    show(cm.exercises.check("2*x", exercise).correct)


def integrals_probability_equations() -> None:
    q = cm.integrate.quad(np.sin, 0, 1, rtol=1e-10)
    show(q.value, q.error, q.evals)
    show(cm.integrate.nquad(lambda a, b: a * b, [(0, 1), (0, 1)]))
    show(cm.integrate.montecarlo(lambda a: a, [(0, 1)]).value, cm.integrate.qmc(lambda a: a, [(0, 1)]).value)
    show(cm.prob.normalize(lambda a: np.exp(-a), (0, np.inf)), cm.prob.expectation, cm.prob.cdf)
    show(cm.prob.grad_expectation)
    solution = cm.ode.solve(lambda t, y: -y, np.ones(1), (0.0, 1.0), method="dopri5")
    show(solution.t, solution.y)
    show(cm.ode.odeint(lambda t, y, p: -p * y, np.ones(1), np.linspace(0, 1, 5), 1.0, adjoint=True))
    show(cm.sde.euler_maruyama, cm.sde.langevin)


def learning() -> None:
    model = cm.nn.Sequential(cm.nn.Linear(64, 32), cm.nn.ReLU(), cm.nn.Linear(32, 10))
    show(cm.nn.Conv2d, cm.nn.MaxPool2d, cm.nn.RNN, cm.nn.Sigmoid(), cm.nn.Tanh(), cm.nn.Softmax())
    optimizer = cm.optim.Adam(model.parameters(), lr=1e-3)
    show(cm.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True), cm.optim.Adagrad,
         cm.optim.RMSprop, cm.optim.AdamW, cm.optim.Newton)
    show(cm.data.spirals(), cm.data.mnist, cm.data.batches)
    history = cm.train.fit(model, cm.nn.losses.cross_entropy, optimizer, cm.data.digits(), epochs=1,
                           callbacks=[cm.train.GradNormMonitor()])
    show(history.summary(), cm.viz.grad_norms(history))
    show(cm.curvature.hessian_eigs, cm.curvature.SharpnessMonitor, cm.sensitivity.saliency,
         cm.sensitivity.integrated_gradients, cm.sensitivity.smoothgrad)
    solved = cm.curvature.newton_cg(lambda w: np.sum(w ** 2) / 2, np.ones(2), tol=1e-8)
    show(solved.params, solved.iterations, solved.cg_iterations)
    weights = np.array([2.0, -0.5, 0.0])
    sensitivity = cm.sensitivity.feature_sensitivity(lambda x: x @ weights, np.ones((4, 3)), names=["a", "b", "c"])
    ranking: list[str] = sensitivity.ranking()
    show(ranking, sensitivity.mean_abs, sensitivity.mean)
    topics: tuple[str, ...] = cm.exercises.for_chapter(2)
    show(cm.exercises.generate(topics[0], seed=1))


def beyond_one_machine() -> None:
    def final_loss(lr: float, optimizer: str, seed: int) -> float:
        return lr * seed

    runs = cm.sweep(final_loss, {"lr": [1e-3, 1e-2], "optimizer": ["sgd", "adam"]}, seeds=3, backend="serial",
                    progress=False)
    show(runs.records, runs.failures, runs.table, runs.summary("value"), cm.viz.sweep(runs, "value", "lr"))


def pictures() -> None:
    show(cm.viz.derivative("sin(x)"), cm.viz.loss_surface("rosenbrock"), cm.viz.vector_field("himmelblau"))
    with cm.viz.theme():
        show(cm.viz.losses(["mse", "hinge"]))
    show(cm.viz.graph(cm.trace(lambda x: np.sum(x * x), np.ones(2))), cm.__version__)
