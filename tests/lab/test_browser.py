"""The lab's page in Debian's Chromium (Playwright, headless): each panel loads, reacts to what a person
does, and draws what the API computed. The ``lab_page`` fixture fails a test whose page sent a request
anywhere but 127.0.0.1 or logged a console error."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from tests.lab.pages import ANIMATION_MS, open_panel, plot_data, wait_until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_derivative_explorer_steps_plot_and_tangent(lab_page, lab_server):
    page = lab_page
    open_panel(page, lab_server.url, "derivative")
    page.wait_for_selector("#derivative-steps li")
    page.fill("#derivative-expr", "x^3 - 2x")
    page.fill("#derivative-xmin", "-2")
    page.fill("#derivative-xmax", "2")
    page.click("#derivative-go")
    wait_until(page, "document.getElementById('derivative-result').textContent.includes('3*x**2 - 2')")
    steps = page.locator("#derivative-steps li").all_inner_texts()
    assert any("sum rule" in s for s in steps) and any("power rule" in s for s in steps)
    assert "autodiff agrees" in page.inner_text("#derivative-check")
    traces = plot_data(page, "derivative-plot")
    assert len(traces) == 4
    x = np.array(traces[0]["x"])
    assert x[0] == -2 and x[-1] == 2
    np.testing.assert_allclose(traces[0]["y"], x**3 - 2 * x, atol=1e-12)
    np.testing.assert_allclose(traces[1]["y"], 3 * x**2 - 2, atol=1e-12)
    page.locator("#tangent-slider").fill("300")  # x = -2 + 4·300/400 = 1: f(1) = −1, f'(1) = 1
    wait_until(page, "document.getElementById('derivative-plot').data[3].x[0] === 1")
    tangent, point = plot_data(page, "derivative-plot")[2:]
    assert point["x"] == [1] and point["y"] == [pytest.approx(-1)]
    np.testing.assert_allclose(tangent["y"], [-1 + 1 * (-2 - 1), -1 + 1 * (2 - 1)], atol=1e-12)
    assert "slope f' = 1" in page.inner_text("#tangent-label")


def test_derivative_explorer_shows_a_syntax_error_inline(lab_page, lab_server):
    page = lab_page
    page.watch.expected_errors.append("422")  # the browser logs the API's 422 answer; that is the point here
    open_panel(page, lab_server.url, "derivative")
    page.wait_for_selector("#derivative-steps li")
    page.fill("#derivative-expr", "sin(x")
    page.click("#derivative-go")
    error = page.wait_for_selector("#derivative-error:not([hidden])")
    assert "cannot read the expression" in error.inner_text() and "column" in error.inner_text()
    page.fill("#derivative-expr", "cos(x)")
    page.click("#derivative-go")
    wait_until(page, "document.getElementById('derivative-result').textContent.endsWith('= -sin(x)')")
    assert page.locator("#derivative-error").is_hidden()


def test_optimizer_race_click_start_and_animate(lab_page, lab_server):
    page = lab_page
    open_panel(page, lab_server.url, "race")
    page.wait_for_selector("#race-plot[data-state=surface]")
    page.select_option("#race-surface", "quadratic")
    wait_until(page, "document.getElementById('race-plot').data[0].x[0] === -5")
    before = page.inner_text("#race-start")
    box = page.locator("#race-plot").bounding_box()
    area = page.evaluate("() => document.getElementById('race-plot')._fullLayout._size")  # the axes' pixels
    target = (box["x"] + area["l"] + 0.75 * area["w"], box["y"] + area["t"] + 0.25 * area["h"])  # x, y > 0
    page.mouse.move(*target)
    page.wait_for_timeout(150)  # Plotly finds the point under the mouse on hover, then reports the click
    page.mouse.click(*target)
    wait_until(page, f"document.getElementById('race-start').textContent !== {before!r}")
    start = [float(v) for v in page.inner_text("#race-start").strip("()").split(",")]
    assert 0 < start[0] < 5 and 0 < start[1] < 2.5
    page.fill("#race-steps", "200")
    page.click("#race-go")
    page.wait_for_selector("#race-plot[data-state=done]", timeout=ANIMATION_MS)
    traces = plot_data(page, "race-plot")
    assert [t["type"] for t in traces[:1]] == ["contour"] and len(traces) == 3 + 4  # contour, minimum, start, runs
    names = [t["name"].split()[0] for t in traces[3:]]
    assert names == ["gd", "momentum", "adam", "newton"]
    for trace in traces[3:]:
        assert trace["x"][0] == pytest.approx(start[0], abs=0.01) and trace["y"][0] == pytest.approx(start[1], abs=0.01)
    newton = traces[-1]  # on a quadratic, one damped Newton step lands (almost) on the minimum (0, 0)
    assert abs(newton["x"][-1]) < 1e-3 and abs(newton["y"][-1]) < 1e-3
    rows = page.locator("#race-table tbody tr").all_inner_texts()
    assert len(rows) == 4 and rows[3].startswith("newton")


def test_optimizer_race_shows_divergence_and_bad_surfaces(lab_page, lab_server):
    page = lab_page
    page.watch.expected_errors.append("422")
    open_panel(page, lab_server.url, "race")
    page.wait_for_selector("#race-plot[data-state=surface]")
    page.select_option("#race-surface", "quadratic")
    wait_until(page, "document.getElementById('race-plot').data[0].x[0] === -5")
    page.fill("input[data-lr=gd]", "0.5")
    page.click("#race-go")
    page.wait_for_selector("#race-plot[data-state=done]", timeout=ANIMATION_MS)
    assert "diverged" in page.locator("#race-table tbody tr").first.inner_text()
    page.select_option("#race-surface", "custom")
    page.fill("#race-expr", "x + z")
    page.locator("#race-expr").dispatch_event("change")
    error = page.wait_for_selector("#race-error:not([hidden])")
    assert "may only use x and y" in error.inner_text()


def test_backprop_stepper_forward_loss_backward_update(lab_page, lab_server):
    page = lab_page
    open_panel(page, lab_server.url, "backprop")
    page.wait_for_selector("#backprop-graph g.node")
    assert page.locator("#backprop-graph g.node").count() == 14
    assert page.locator("#backprop-graph line").count() == 13
    page.click("#backprop-step")
    assert page.inner_text("#backprop-phase").startswith("forward (1 of")
    assert page.inner_text("#backprop-detail").startswith("forward: v5 = v4 @ v0")
    assert page.locator("#backprop-graph g.current").get_attribute("data-node") == "v5"
    for _ in range(7):  # the other forward nodes: v6 … v13
        page.click("#backprop-step")
    assert page.inner_text("#backprop-phase").startswith("forward (8 of")
    page.click("#backprop-step")
    assert page.get_attribute("#backprop-phase", "data-kind") == "loss"
    loss = float(page.inner_text("#backprop-loss-value"))
    page.click("#backprop-step")
    assert page.get_attribute("#backprop-phase", "data-kind") == "backward"
    assert page.inner_text("#backprop-detail").startswith("backward: ∂L/∂v13 = 1")
    page.click("#backprop-iteration")
    assert page.get_attribute("#backprop-phase", "data-kind") == "update"
    assert page.inner_text("#backprop-detail").startswith("update: b2 ← b2 − 0.5 · ∂L/∂b2")
    page.click("#backprop-step")  # the next iteration starts from the updated weights
    wait_until(page, "document.getElementById('backprop-iteration-count').textContent === '2'")
    assert plot_data(page, "backprop-loss-plot")[0]["y"] == [pytest.approx(loss, rel=1e-4)]
    for _ in range(3):
        page.click("#backprop-iteration")
        page.click("#backprop-step")
    wait_until(page, "document.getElementById('backprop-iteration-count').textContent === '5'")
    losses = plot_data(page, "backprop-loss-plot")[0]["y"]
    assert len(losses) == 4 and losses[-1] < losses[0]


def test_integral_explorer_rectangles_and_convergence(lab_page, lab_server):
    page = lab_page
    open_panel(page, lab_server.url, "integral")
    wait_until(page, "document.getElementById('integral-result').textContent.startsWith('S_8')")
    page.fill("#integral-expr", "x^2")
    page.fill("#integral-a", "0")
    page.fill("#integral-b", "1")
    page.select_option("#integral-method", "left")
    page.locator("#integral-n").fill("10")
    wait_until(page, "document.getElementById('integral-result').textContent.startsWith('S_10 = 0.285')")
    text = page.inner_text("#integral-result")
    assert "∫ = 0.3333333333 = 1/3" in text  # left sum of x² with n = 10: 0.285 = (0·1 + … + 9²)/1000
    rectangles, curve = plot_data(page, "integral-plot")
    assert rectangles["x"].count(None) == 10 and len(curve["x"]) == 400
    assert max(v for v in rectangles["y"] if v is not None) == pytest.approx(0.81)
    convergence = plot_data(page, "integral-convergence")[0]
    assert convergence["x"][:3] == [1, 2, 4]
    errors = np.array(convergence["y"])
    assert np.all(np.diff(errors) < 0) and errors[-1] < 1e-3  # |S_n − 1/3| falls as 1/(2n)
    assert errors[-1] == pytest.approx(1 / (2 * 4096) - 1 / (6 * 4096**2), rel=1e-6)


def test_training_panel_live_loss_and_gradient_norms(lab_page, lab_server):
    page = lab_page
    open_panel(page, lab_server.url, "training")
    page.wait_for_selector("#training-optimizer option[value=adam]", state="attached")
    page.fill("#training-epochs", "2")
    page.fill("#training-hidden", "32")
    page.click("#training-start")
    page.wait_for_selector("#training-status[data-status=finished]", timeout=30_000)
    status = page.inner_text("#training-status")
    assert "finished after 2 epochs and 90 steps" in status and "test accuracy" in status
    loss = plot_data(page, "training-loss")[0]
    assert loss["x"] == list(range(90)) and all(math.isfinite(v) for v in loss["y"])
    assert np.mean(loss["y"][-10:]) < np.mean(loss["y"][:10])
    norms = plot_data(page, "training-norms")
    assert [t["name"] for t in norms] == ["hidden layer (module 1)", "output layer (module 3)"]
    assert all(len(t["y"]) == 90 and min(t["y"]) > 0 for t in norms)


# ---- a page on another local port cannot stop a run (issue 11) --------------------------------------------------
ATTACK_PAGE = """<!doctype html><title>another page</title>
<form id="form" method="post" enctype="text/plain" action="{stop}" target="sink">
  <input name='{{"a":' value='1}}'></form>
<iframe name="sink"></iframe>
<script>
window.outcomes = [];
async function attack() {{
  const tries = [
    {{method: "POST", mode: "no-cors", body: "{{}}"}},
    {{method: "POST", mode: "no-cors", headers: {{"content-type": "application/json"}}, body: "{{}}"}},
    {{method: "POST", mode: "no-cors", headers: {{"content-type": "text/plain"}}, body: "{{}}"}},
    {{method: "POST", mode: "cors", headers: {{"content-type": "application/json"}}, body: "{{}}"}},
  ];
  for (const init of tries) {{
    try {{ const r = await fetch("{stop}", init); window.outcomes.push("answered " + r.type); }}
    catch (error) {{ window.outcomes.push("failed " + error); }}
  }}
  document.getElementById("form").submit();
  window.outcomes.push("form sent");
}}
attack();
</script>"""


@pytest.fixture
def other_local_site():
    """A second HTTP server on 127.0.0.1 (another port: the same site as the lab, another origin) that
    serves ``page`` (set ``site.page`` before loading it)."""
    import http.server
    import threading

    class Site(http.server.BaseHTTPRequestHandler):
        page = ""

        def do_GET(self):  # noqa: N802 (the name http.server calls)
            body = Site.page.encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.site = Site
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def test_a_page_on_another_port_cannot_stop_a_training_run(browser_context, lab_server, other_local_site):
    import httpx

    with httpx.Client(base_url=lab_server.url, timeout=30) as http:
        run_id = http.post("/api/train", json={"epochs": 30, "hidden": 256, "batch_size": 8}).json()["id"]
        try:
            stop = f"{lab_server.url}/api/train/{run_id}/stop"  # the attacker even knows the (unguessable) id
            other_local_site.site.page = ATTACK_PAGE.format(stop=stop)
            page = browser_context.new_page()
            answers = []
            page.on("response", lambda response: answers.append((response.request.method, response.url,
                                                                 response.status)))
            page.goto(other_local_site.url + "/")
            wait_until(page, "window.outcomes && window.outcomes.length === 5")
            page.wait_for_timeout(500)  # the form's navigation of the frame
            outcomes = page.evaluate("() => window.outcomes")
            page.close()
            assert outcomes[:3] == ["answered opaque"] * 3 and outcomes[3].startswith("failed")  # CORS said no
            to_lab = [(method, status) for method, url, status in answers if url == stop]
            # every POST that reached the lab was refused; the CORS one stopped at its preflight
            assert [status for method, status in to_lab if method == "POST"] == [403] * 4, to_lab
            snapshot = http.get(f"/api/train/{run_id}").json()
            assert snapshot["status"] == "running" and snapshot["message"] == ""
            time.sleep(0.5)
            assert http.get(f"/api/train/{run_id}").json()["steps"] > snapshot["steps"]  # still training
        finally:
            http.post(f"/api/train/{run_id}/stop", json={})
