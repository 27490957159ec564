"""The lab's JSON API through FastAPI's TestClient: every endpoint's answers, checked against the math, and
every kind of bad request answered with a 4xx and a clear JSON message."""

from __future__ import annotations

import json
import math
import re
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from calcml.lab import backprop, derivative, guard, optimizer_race, schemas  # noqa: E402
from calcml.optim import race  # noqa: E402
from tests.lab.answers import problem  # noqa: E402


# ---- the page and its files ---------------------------------------------------------------------------
def test_index_and_assets_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>calcml lab</title>" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere
    assert "default-src 'self'" in page.headers["content-security-policy"]
    js = client.get("/static/lab.js")
    assert js.status_code == 200 and "https://" not in js.text
    plotly = client.get("/vendor/plotly.min.js")
    assert plotly.status_code == 200 and b"plotly.js" in plotly.content[:200]
    assert client.get("/api/health").json() == {"status": "ok", "plotly": True}


PAGE_BOUNDS = [  # (input on the page, request model, field): the page checks what the server checks
    ("backprop-lr", schemas.BackpropRequest, "lr"), ("race-steps", schemas.RaceRequest, "steps"),
    ("training-epochs", schemas.TrainRequest, "epochs"), ("training-hidden", schemas.TrainRequest, "hidden"),
    ("training-lr", schemas.TrainRequest, "lr"),
    *[(f"curvature-{name}", schemas.CurvatureRequest, name)
      for name in ("examples", "hidden", "lr", "steps", "every", "k")],
]


def bounds(model, field: str) -> tuple[float, float]:
    """(lower, upper) of a request field, from its pydantic constraints (ge or gt, le)."""
    found = {name: getattr(rule, name) for rule in model.model_fields[field].metadata for name in ("ge", "gt", "le")
             if hasattr(rule, name)}
    return found.get("ge", found.get("gt")), found["le"]


@pytest.mark.parametrize("input_id, model, field", PAGE_BOUNDS)
def test_the_pages_inputs_have_the_servers_bounds(client, input_id, model, field):
    tag = re.search(rf'<input id="{input_id}"[^>]*>', client.get("/").text).group(0)
    shown = tuple(float(re.search(rf'{side}="([^"]+)"', tag).group(1)) for side in ("min", "max"))
    assert shown == bounds(model, field)


def test_the_race_learning_rate_bound_is_served(client):
    assert client.get("/api/surfaces").json()["max_lr"] == bounds(schemas.RaceRun, "lr")[1] == 10


# ---- derivative ---------------------------------------------------------------------------------------
def test_derivative_steps_values_and_autodiff_agree(client):
    r = client.post("/api/derivative", json={"expr": "sin(x^2)", "x_min": -2, "x_max": 2, "points": 41})
    assert r.status_code == 200
    d = r.json()
    assert d["result"] == "2*x*cos(x**2)"
    assert d["steps"][0]["title"] == "chain rule" and d["steps"][0]["depth"] == 0
    assert {step["title"] for step in d["steps"][1:]} >= {"power rule"}
    x = np.array(d["x"])
    assert len(x) == 41 and x[0] == -2 and x[-1] == 2
    np.testing.assert_allclose(d["f"], np.sin(x**2), rtol=1e-12)
    np.testing.assert_allclose(d["df"], 2 * x * np.cos(x**2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d["df_autodiff"], d["df"], rtol=1e-12, atol=1e-15)
    assert d["autodiff_agreement"] < 1e-12


def test_derivative_pole_is_a_gap_not_a_failure(client):
    d = client.post("/api/derivative", json={"expr": "1/x", "x_min": -1, "x_max": 1, "points": 3}).json()
    assert d["f"] == [-1.0, None, 1.0] and d["df"] == [-1.0, None, -1.0]


@pytest.mark.parametrize("body, kind, words", [
    ({"expr": "sin(x"}, "parse", "column"),
    ({"expr": "x*y"}, "domain", "may only use x"),
    ({"expr": "x^2", "x_min": 3, "x_max": 1}, "domain", "x_min < x_max"),
    ({"expr": "x", "var": "xx"}, "validation", "var"),
    ({"expr": "x", "points": 10_000}, "validation", "points"),
    ({"expr": ""}, "validation", "expr"),
    ({"expr": "x", "surprise": 1}, "validation", "surprise"),
    ({}, "validation", "expr"),
])
def test_derivative_bad_input_is_a_422_that_says_what(client, body, kind, words):
    assert words in problem(client.post("/api/derivative", json=body), 422, kind)


def test_derivative_time_limit_is_reported(client, monkeypatch):
    monkeypatch.setattr(derivative, "DERIVE_SECONDS", 1e-4)
    started = time.perf_counter()
    message = problem(client.post("/api/derivative", json={"expr": "sin(cos(tan(x^3 + exp(x))))^5 * ln(x^2 + 1)"}),
                      422, "timeout")
    assert "did not finish" in message and time.perf_counter() - started < 5


# ---- malformed requests ---------------------------------------------------------------------------------
def test_malformed_requests_get_clear_4xx_json(client):
    assert "not valid JSON" in problem(
        client.post("/api/derivative", content=b"{bad", headers={"content-type": "application/json"}), 400, "json")
    assert "JSON" in problem(client.post("/api/derivative", content=b"x=1", headers={"content-type": "text/plain"}),
                             415, "media_type")
    problem(client.post("/api/derivative", content=b"[1, 2]", headers={"content-type": "application/json"}), 422)
    nan = b'{"expr": "x", "x_min": NaN}'
    assert "x_min" in problem(client.post("/api/derivative", content=nan,
                                          headers={"content-type": "application/json"}), 422, "validation")
    huge = json.dumps({"expr": "x" + "+x" * 40_000}).encode()
    assert "KiB" in problem(client.post("/api/derivative", content=huge,
                                        headers={"content-type": "application/json"}), 413, "too_large")
    assert "/api/nothing" in problem(client.get("/api/nothing"), 404, "http")
    assert "GET" in problem(client.get("/api/derivative"), 405, "http")
    assert "127.0.0.1" in problem(client.get("/api/health", headers={"host": "evil.example"}), 400, "host")


def test_a_chunked_body_over_the_limit_is_refused():
    app = guard.LocalOnly(lambda scope, receive, send: None, max_body=10)
    sent = []
    chunks = iter([{"type": "http.request", "body": b"x" * 8, "more_body": True},
                   {"type": "http.request", "body": b"x" * 8, "more_body": False}])

    async def receive():
        return next(chunks)

    async def send(message):
        sent.append(message)

    import asyncio
    scope = {"type": "http", "method": "POST", "path": "/",
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413


# ---- optimizer race ------------------------------------------------------------------------------------
def test_surfaces_list_and_grid(client):
    catalog = client.get("/api/surfaces").json()
    names = [s["name"] for s in catalog["surfaces"]]
    assert names == ["quadratic", "rosenbrock", "himmelblau", "beale", "bowl", "saddle"]
    assert {o["name"] for o in catalog["optimizers"]} == {"gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                                          "newton"}
    grid = client.post("/api/surface", json={"name": "rosenbrock", "points": 11}).json()
    x, y, z = np.array(grid["x"]), np.array(grid["y"]), np.array(grid["z"])
    assert z.shape == (11, 11)
    np.testing.assert_allclose(z, (1 - x[None, :]) ** 2 + 100 * (y[:, None] - x[None, :] ** 2) ** 2)
    assert min(map(min, grid["display"])) == 0.0


def test_race_trajectories_follow_the_update_rules(client):
    body = {"name": "rosenbrock", "start": [-1.2, 1.0], "steps": 100,
            "runs": [{"optimizer": "newton", "lr": 1.0}, {"optimizer": "gd", "lr": 1e-3}]}
    newton, gd = client.post("/api/race", json=body).json()["runs"]
    np.testing.assert_allclose(newton["path"][-1], [1.0, 1.0], atol=1e-6)
    assert newton["status"] == "converged" and newton["final_loss"] < 1e-10
    # the first gradient-descent step is w − η ∇f(w), ∇f computed by hand
    x, y = -1.2, 1.0
    gradient = np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])
    np.testing.assert_allclose(gd["path"][1], np.array([x, y]) - 1e-3 * gradient, rtol=1e-12)
    assert len(gd["path"]) == len(gd["loss"]) == 101 and gd["loss"][-1] < gd["loss"][0]


def test_divergent_and_failing_runs_are_reported_in_the_answer(client):
    body = {"name": "quadratic", "start": [-3.5, 1.5], "steps": 200,
            "runs": [{"optimizer": "gd", "lr": 0.5}, {"optimizer": "newton", "lr": 1.0}]}
    gd, newton = client.post("/api/race", json=body).json()["runs"]
    assert gd["status"] == "diverged" and "lower the learning rate" in gd["message"]
    assert all(math.isfinite(v) for point in gd["path"] for v in point)
    saddle = client.post("/api/race", json={**body, "name": "saddle", "runs": [{"optimizer": "newton", "lr": 1.0}]})
    run = saddle.json()["runs"][0]
    assert run["status"] == "failed" and "not positive definite" in run["message"]


def test_race_view_takes_in_every_path_that_did_not_diverge(client):
    body = {"name": "rosenbrock", "start": [-1.2, 1.0], "steps": 100,
            "runs": [{"optimizer": "newton", "lr": 1.0}, {"optimizer": "gd", "lr": 10}]}
    answer = client.post("/api/race", json=body).json()
    newton, gd = answer["runs"]
    assert gd["status"] == "diverged"
    lowest = min(y for _, y in newton["path"])
    assert lowest == pytest.approx(-3.175, abs=1e-3)  # Newton's second step, below the view's −1
    (x0, x1), (y0, y1) = answer["view"]["x_range"], answer["view"]["y_range"]
    assert (x0, x1) == (-2.0, 2.0)  # every x stays inside [−2, 2]: the view keeps it
    assert y0 == pytest.approx(lowest - 0.05 * (3.0 - lowest)) and y1 == 3.0  # a 5% margin, only where needed
    quadratic = client.post("/api/race", json={**body, "name": "quadratic"}).json()
    assert quadratic["view"] == {"x_range": [-5.0, 5.0], "y_range": [-2.5, 2.5]}  # all inside: the surface's own


def test_race_view_grows_at_most_tenfold():
    square = race.Surface("square", "x^2 + y^2", lambda x, y: x**2 + y**2, ((-1.0, 1.0), (-1.0, 1.0)), (0.5, 0.5))
    far = [{"status": "converged", "path": [[0.5, 0.5], [100.0, 0.5], [0.0, 0.0]]},
           {"status": "diverged", "path": [[0.5, 0.5], [0.5, -1e5]]}]
    assert optimizer_race.race_view(square, far) == {"x_range": [-1.0, 10.0], "y_range": [-1.0, 1.0]}


def test_race_on_a_typed_surface(client):
    body = {"expr": "(x - 1)^2 + 2 (y + 0.5)^2", "x_range": [-3, 3], "y_range": [-3, 3], "start": [2, 2],
            "steps": 300, "runs": [{"optimizer": "adam", "lr": 0.1}]}
    run = client.post("/api/race", json=body).json()["runs"][0]
    np.testing.assert_allclose(run["path"][-1], [1.0, -0.5], atol=1e-2)


@pytest.mark.parametrize("change, status, words", [
    ({"runs": [{"optimizer": "lbfgs", "lr": 0.1}]}, 422, "no optimizer 'lbfgs'"),
    ({"runs": []}, 422, "runs"),
    ({"runs": [{"optimizer": "gd", "lr": 0.1}] * 9}, 422, "runs"),
    ({"runs": [{"optimizer": "gd", "lr": -1}]}, 422, "lr"),
    ({"runs": [{"optimizer": "gd", "lr": 50}]}, 422, "less than or equal to 10"),
    ({"steps": 100_000}, 422, "steps"),
    ({"start": [1e300, 0]}, 422, "start"),
    ({"name": None, "expr": "x + z"}, 422, "may only use x and y"),
    ({"expr": "x"}, 422, "exactly one"),
    ({"name": "everest"}, 422, "no built-in surface 'everest'"),
    ({"name": "x^2 + y^2"}, 422, "no built-in surface"),
])
def test_race_bad_input(client, change, status, words):
    body = {"name": "quadratic", "start": [1, 1], "steps": 10, "runs": [{"optimizer": "gd", "lr": 0.1}], **change}
    body = {k: v for k, v in body.items() if v is not None}
    assert words in problem(client.post("/api/race", json=body), status)


def test_surface_grid_size_is_bounded(client):
    assert "points" in problem(client.post("/api/surface", json={"name": "beale", "points": 5000}), 422)


# ---- backprop -----------------------------------------------------------------------------------------------
def test_backprop_graph_values_gradients_and_update(client):
    step = client.post("/api/backprop", json={"lr": 0.5, "seed": 0}).json()
    nodes = {n["id"]: n for n in step["nodes"]}
    names = {n["name"] for n in step["nodes"] if n["name"]}
    assert names == {"W1", "b1", "W2", "b2", "X", "y"}
    assert [n["op"] for n in step["nodes"] if n["op"] not in ("input", "constant")] == [
        "matmul", "add", "tanh", "matmul", "add", "subtract", "power", "mean"]
    w = {k: np.array(v) for k, v in zip(("W1", "b1", "W2", "b2"),
                                       (u["before"] for u in step["updates"]))}
    assert step["loss"] == pytest.approx(float(backprop.network_loss(**w)), rel=1e-12)
    assert nodes[step["output"]]["grad"] == 1.0
    for update in step["updates"]:  # each gradient against central differences, each update is w − η g
        before, grad = np.array(update["before"]), np.array(update["grad"])
        numeric = np.zeros_like(before)
        for index in np.ndindex(before.shape):
            for sign in (1, -1):
                shifted = {**w, update["name"]: before.copy()}
                shifted[update["name"]][index] += sign * 1e-6
                numeric[index] += sign * float(backprop.network_loss(**shifted)) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(update["after"], before - 0.5 * grad, rtol=1e-14)
        np.testing.assert_allclose(step["weights"][update["name"]], update["after"])
    assert "Backward pass" in step["explanation"]


def test_backprop_rules_are_formulas_without_docstring_prose(client):
    step = client.post("/api/backprop", json={"lr": 0.5, "seed": 0}).json()
    rules = {node["op"]: node["derivative"] for node in step["nodes"]}
    assert rules["mean"] == "∂ mean(x)/∂x_i = 1/n" and rules["tanh"] == "d/dx tanh x = 1 − tanh² x"
    assert not any("``" in rule or "Average" in rule for rule in rules.values())
    assert "(mean: ∂ mean(x)/∂x_i = 1/n)" in step["explanation"] and "Average over" not in step["explanation"]


def test_backprop_steps_learn_xor(client):
    weights, losses = None, []
    for _ in range(300):
        step = client.post("/api/backprop", json={"weights": weights, "lr": 0.5}).json()
        weights = step["weights"]
        losses.append(step["loss"])
    assert losses[-1] < 0.01 < 0.5 < losses[0]


@pytest.mark.parametrize("weights, kind, words", [
    ({"W1": [[1, 2, 3]], "b1": [0, 0, 0], "W2": [[1], [1], [1]], "b2": [0]}, "input", "shape (2, 3)"),
    ({"W1": [[1, 2, 3], [1, 2, 3]], "b1": [0, 0, 0], "W2": [[1], [1], [1]]}, "input", "exactly"),
    ({"W1": [[1e9, 2, 3], [1, 2, 3]], "b1": [0, 0, 0], "W2": [[1], [1], [1]], "b2": [0]}, "diverged", "diverged"),
    ({"W1": [["a", 2, 3], [1, 2, 3]], "b1": [0, 0, 0], "W2": [[1], [1], [1]], "b2": [0]}, "input", "numbers"),
])
def test_backprop_bad_weights(client, weights, kind, words):
    assert words in problem(client.post("/api/backprop", json={"weights": weights}), 422, kind)


# ---- integral --------------------------------------------------------------------------------------------------
def test_integral_midpoint_error_is_the_textbook_one(client):
    r = client.post("/api/integral", json={"expr": "x^2", "a": 0, "b": 1, "n": 8, "method": "midpoint"}).json()
    assert r["value"] == pytest.approx(1 / 3, rel=1e-15) and r["closed_form"] == "1/3"
    assert r["status"] == "symbolic"
    assert r["error"] == pytest.approx(-2 / (24 * 64), rel=1e-9)  # −(b − a) h² f''/24 with h = 1/8, f'' = 2
    errors = [c["error"] for c in r["convergence"]]
    np.testing.assert_allclose(np.array(errors[:-1]) / np.array(errors[1:]), 4.0, rtol=1e-6)  # O(h²)
    assert len(r["edges"]) == 9 and len(r["heights_left"]) == 8


@pytest.mark.parametrize("method, order", [("left", 2.0), ("right", 2.0), ("trapezoid", 4.0)])
def test_integral_methods_converge_at_their_order(client, method, order):
    r = client.post("/api/integral", json={"expr": "exp(x)", "a": 0, "b": 1, "n": 4, "method": method}).json()
    assert r["value"] == pytest.approx(math.e - 1, rel=1e-14)
    errors = np.array([c["error"] for c in r["convergence"]])
    assert abs(errors[-2] / errors[-1]) == pytest.approx(order, rel=1e-3)


def test_integral_without_closed_form_uses_quadrature(client):
    r = client.post("/api/integral", json={"expr": "exp(sin(x^3))*relu(x)", "a": 0, "b": 2, "n": 8}).json()
    assert r["status"] == "unknown" and r["source"].startswith("numeric")
    assert abs(r["convergence"][-1]["error"]) < 1e-6


def test_divergent_integral_says_so(client):
    r = client.post("/api/integral", json={"expr": "1/x^2", "a": -1, "b": 1, "n": 8}).json()
    assert r["status"] == "diverges" and r["value"] is None and "does not exist" in r["source"]


@pytest.mark.parametrize("body, words", [
    ({"expr": "x", "a": 1, "b": 0}, "a < b"),
    ({"expr": "x", "method": "simpson"}, "unknown method"),
    ({"expr": "x", "n": 0}, "n"),
    ({"expr": "x", "n": 10**6}, "n"),
    ({"expr": "2 ^^ x"}, "cannot read"),
])
def test_integral_bad_input(client, body, words):
    assert words in problem(client.post("/api/integral", json=body), 422)


# ---- training -----------------------------------------------------------------------------------------------------
def wait_for(client, job_id: str, seconds: float = 30.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        snapshot = client.get(f"/api/train/{job_id}").json()
        if snapshot["status"] != "running":
            return snapshot
        time.sleep(0.05)
    raise AssertionError(f"training run {job_id} did not end in {seconds} s")


def test_training_runs_in_the_background_and_records_everything(client):
    started = client.post("/api/train", json={"epochs": 3, "hidden": 32, "optimizer": "adam"})
    assert started.status_code == 202 and started.json()["status"] == "running"
    done = wait_for(client, started.json()["id"])
    assert done["status"] == "finished" and done["epoch"] == 3
    assert done["steps"] == 3 * math.ceil(1438 / 32) == len(done["step_loss"])
    assert list(done["grad_norms"]) == ["1", "3"] and all(len(v) == done["steps"] for v in done["grad_norms"].values())
    assert done["epoch_loss"][-1] < done["epoch_loss"][0] and done["test_accuracy"][-1] > 0.8
    assert "test accuracy" in done["message"]
    later = client.get(f"/api/train/{done['id']}?since=100").json()
    assert later["step_loss"] == done["step_loss"][100:]


def test_training_can_be_stopped_and_is_bounded(client):
    ids = [client.post("/api/train", json={"epochs": 30, "hidden": 256, "batch_size": 8}).json()["id"]
           for _ in range(2)]
    busy = client.post("/api/train", json={"epochs": 1})
    assert "stop one first" in problem(busy, 409, "busy")
    for job_id in ids:
        assert client.post(f"/api/train/{job_id}/stop", json={}).status_code == 200
    for job_id in ids:
        snapshot = wait_for(client, job_id, 10)
        assert snapshot["status"] == "stopped" and snapshot["epoch"] < 30
    problem(client.get("/api/train/run999"), 404, "not_found")
    problem(client.post("/api/train/run999/stop", json={}), 404, "not_found")
    assert "epochs" in problem(client.post("/api/train", json={"epochs": 1000}), 422, "validation")
    assert "unknown optimizer" in problem(client.post("/api/train", json={"optimizer": "lion"}), 422)


# ---- curvature -----------------------------------------------------------------------------------------------------
def test_curvature_run_records_lambda_max_eigenvalues_and_density(client):
    started = client.post("/api/curvature", json={"examples": 60, "hidden": 8, "lr": 0.4, "steps": 40, "every": 10,
                                                  "k": 4, "seed": 3})
    assert started.status_code == 202 and started.json()["status"] == "running"
    done = wait_for(client, started.json()["id"])
    assert done["status"] == "finished" and done["steps"] == 40 == len(done["step_loss"])
    records = done["records"]
    assert records["edge"] == pytest.approx(2 / 0.4) and records["lambda_steps"] == [0, 10, 20, 30, 40]
    assert all(value > 0 for value in records["lambda_max"])
    top = records["eigenvalues"]
    assert len(top) == 4 and top == sorted(top, reverse=True)
    assert top[0] == pytest.approx(records["lambda_max"][-1], rel=1e-3)  # 40 and 20 Lanczos steps agree on λ_max
    grid, density = np.array(records["density"]["grid"]), np.array(records["density"]["density"])
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3) and grid[-1] > top[0]
    assert "Hessian-vector products" in done["message"]


def test_curvature_run_can_be_stopped_and_shares_the_training_cap(client):
    ids = [client.post("/api/curvature", json={"examples": 500, "hidden": 64, "steps": 1000, "every": 20}).json()["id"]
           for _ in range(2)]
    assert "stop one first" in problem(client.post("/api/train", json={"epochs": 1}), 409, "busy")
    for job_id in ids:
        client.post(f"/api/train/{job_id}/stop", json={})
    for job_id in ids:
        snapshot = wait_for(client, job_id, 30)
        assert snapshot["status"] == "stopped" and snapshot["steps"] < 1000


@pytest.mark.parametrize("body, words", [
    ({"steps": 1000, "every": 1}, "1001 measurements"),
    ({"examples": 10_000}, "examples"),
    ({"hidden": 1000}, "hidden"),
    ({"lr": 0}, "lr"),
    ({"lr": 5}, "lr"),
    ({"k": 0}, "k"),
    ({"steps": 10**6}, "steps"),
    ({"optimizer": "adam"}, "optimizer"),
])
def test_curvature_bad_input(client, body, words):
    assert words in problem(client.post("/api/curvature", json=body), 422, "validation")


# ---- fuzzing: whatever arrives, the answer is JSON and never a 500 ------------------------------------------------
MATH_TEXT = st.text(alphabet="xy0123456789+-*/^().,e sinctaqrlog", max_size=40)
SCALARS = (st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
           | MATH_TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(["x", "W1", "lr"]), inner, max_size=3), max_leaves=8)
ENDPOINTS = {
    "/api/derivative": ["expr", "var", "x_min", "x_max", "points"],
    "/api/integral": ["expr", "a", "b", "n", "method"],
    "/api/race": ["name", "expr", "start", "runs", "steps"],
    "/api/surface": ["name", "expr", "points", "x_range"],
    "/api/backprop": ["weights", "lr", "seed"],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_requests_get_json_answers_and_never_a_500(client, data):
    path = data.draw(st.sampled_from(sorted(ENDPOINTS)))
    fields = data.draw(st.lists(st.sampled_from(ENDPOINTS[path]), unique=True))
    body = {name: data.draw(MATH_TEXT if name in ("expr",) else JSON_VALUES) for name in fields}
    response = client.post(path, json=body)
    assert response.status_code in (200, 400, 409, 413, 422), (body, response.text)
    answer = response.json()
    if response.status_code != 200:
        assert answer["error"]
