"""Issue 16's lab fixes, each seen in Chromium the way a person meets it: the stepper's loss, its labels and
rules, learning rates out of range, legends against axis titles, stale results after an error, a busy
indicator, and the race's view and minimum markers."""

from __future__ import annotations

import pytest

from tests.lab.pages import ANIMATION_MS, open_panel, plot_data, wait_until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def open_backprop(page, url: str) -> None:
    open_panel(page, url, "backprop")
    page.wait_for_selector("#backprop-graph g.node")


# ---- backprop stepper ------------------------------------------------------------------------------------------
def test_backprop_header_loss_follows_finish_this_iteration(lab_page, lab_server):
    page = lab_page
    open_backprop(page, lab_server.url)
    page.click("#backprop-iteration")  # straight to the update: the loss phase is passed over, not skipped
    first = float(page.inner_text("#backprop-loss-value"))
    assert first == pytest.approx(0.85905, abs=1e-5)  # L at the seed-0 weights
    for iteration in range(2, 12):
        page.click("#backprop-step")
        wait_until(page, f"document.getElementById('backprop-iteration-count').textContent === '{iteration}'")
        page.click("#backprop-iteration")
    shown = float(page.inner_text("#backprop-loss-value"))
    plotted = plot_data(page, "backprop-loss-plot")[0]["y"]
    assert len(plotted) == 11 and shown == pytest.approx(plotted[-1], abs=1e-5)  # the header is the plot's last L
    assert shown < first - 0.1


def test_backprop_node_labels_are_readable_and_fit_their_boxes(lab_page, lab_server):
    page = lab_page
    open_backprop(page, lab_server.url)
    labels = page.evaluate("""() => Array.from(document.querySelectorAll('#backprop-graph g.node')).map(g => {
        const text = g.querySelector('text'), box = g.querySelector('rect').getBoundingClientRect();
        const size = parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a;
        const t = text.getBoundingClientRect();
        return {label: text.textContent, px: size, inside: t.left >= box.left && t.right <= box.right};
    })""")
    assert len(labels) == 14
    for label in labels:
        assert label["px"] >= 13, label  # rendered size in CSS pixels, whatever the viewBox's scale
        assert label["inside"], label


def test_backprop_rules_show_formulas_not_docstring_prose(lab_page, lab_server):
    page = lab_page
    open_backprop(page, lab_server.url)
    for _ in range(10):  # 8 forward nodes, the loss, then the first backward node: mean, the output
        page.click("#backprop-step")
    detail = page.inner_text("#backprop-detail")
    assert detail.startswith("backward: ∂L/∂v13 = 1") and "(rule: ∂ mean(x)/∂x_i = 1/n)" in detail
    page.click("#panel-backprop details summary")
    text = page.inner_text("#panel-backprop")
    assert "(mean: ∂ mean(x)/∂x_i = 1/n)" in text
    assert "Average over" not in text and "``" not in text


# ---- learning rates ---------------------------------------------------------------------------------------------
def test_backprop_learning_rate_out_of_range_is_refused_at_once(lab_page, lab_server):
    page = lab_page
    open_backprop(page, lab_server.url)
    for bad, words in (("-3", "greater than 0"), ("50", "at most 10"), ("", "a number")):
        page.fill("#backprop-lr", bad)
        page.locator("#backprop-lr").dispatch_event("change")
        error = page.wait_for_selector("#backprop-error:not([hidden])")
        assert "η" in error.inner_text() and words in error.inner_text()
        assert page.is_disabled("#backprop-step") and page.is_disabled("#backprop-iteration")
        assert page.get_attribute("#backprop-lr", "aria-invalid") == "true"
    page.fill("#backprop-lr", "0.1")
    page.locator("#backprop-lr").dispatch_event("change")
    wait_until(page, "!document.getElementById('backprop-step').disabled")
    assert page.locator("#backprop-error").is_hidden()
    page.click("#backprop-iteration")  # this iteration's update uses the η now in the box
    wait_until(page, "document.getElementById('backprop-detail').textContent.startsWith('update: b2 ← b2 − 0.1 ·')")


def test_race_learning_rate_out_of_range_is_refused_before_racing(lab_page, lab_server):
    page = lab_page
    page.watch.expected_errors.append("422")  # what the server would answer if the page sent the race (it must not)
    open_panel(page, lab_server.url, "race")
    page.wait_for_selector("#race-plot[data-state=surface]")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if request.url.endswith("/api/race") else None)
    for bad, words in (("50", "at most 10"), ("-3", "greater than 0")):
        page.fill("input[data-lr=gd]", bad)
        page.click("#race-go")
        error = page.wait_for_selector("#race-error:not([hidden])")
        assert "gd" in error.inner_text() and words in error.inner_text()
        assert page.get_attribute("input[data-lr=gd]", "aria-invalid") == "true"
    assert sent == [] and page.locator("#race-table tbody tr").count() == 0


def test_training_learning_rate_out_of_range_is_refused_before_starting(lab_page, lab_server):
    page = lab_page
    page.watch.expected_errors.append("422")  # what the server would answer if the page sent the run (it must not)
    open_panel(page, lab_server.url, "training")
    page.wait_for_selector("#training-optimizer option[value=adam]", state="attached")
    page.fill("#training-lr", "50")
    page.click("#training-start")
    error = page.wait_for_selector("#training-error:not([hidden])")
    assert "lr" in error.inner_text() and "at most 1" in error.inner_text()
    assert page.get_attribute("#training-status", "data-status") == "idle"


# ---- plots: legends clear of axis titles ------------------------------------------------------------------------
OVERLAPS = """(id) => {
    const plot = document.getElementById(id);
    const legend = plot.querySelector('g.legend').getBoundingClientRect();
    return Array.from(plot.querySelectorAll('.xtitle, .ytitle')).map(t => t.getBoundingClientRect())
        .filter(t => t.width > 0)
        .some(t => t.left < legend.right && legend.left < t.right && t.top < legend.bottom && legend.top < t.bottom);
}"""


def test_legends_do_not_cover_axis_titles(lab_page, lab_server):
    page = lab_page
    open_panel(page, lab_server.url, "derivative")
    page.wait_for_selector("#derivative-plot g.legend")
    assert page.evaluate(OVERLAPS, "derivative-plot") is False
    page.click("nav button[data-panel=integral]")
    page.wait_for_selector("#integral-convergence g.legend")
    for plot in ("integral-plot", "integral-convergence"):
        assert page.evaluate(OVERLAPS, plot) is False, plot


# ---- an error clears the old result -------------------------------------------------------------------------------
def test_an_error_clears_the_previous_result(lab_page, lab_server):
    page = lab_page
    page.watch.expected_errors.append("422")
    open_panel(page, lab_server.url, "derivative")
    page.wait_for_selector("#derivative-steps li")
    page.fill("#derivative-expr", "sin(x")
    page.click("#derivative-go")
    page.wait_for_selector("#derivative-error:not([hidden])")
    assert page.inner_text("#derivative-result") == "" and page.locator("#derivative-steps li").count() == 0
    assert page.inner_text("#derivative-check") == "" and plot_data(page, "derivative-plot") == []
    page.click("nav button[data-panel=integral]")
    wait_until(page, "document.getElementById('integral-result').textContent.startsWith('S_8')")
    page.fill("#integral-expr", "2 ^^ x")
    page.click("#integral-go")
    page.wait_for_selector("#integral-error:not([hidden])")
    assert page.inner_text("#integral-result") == ""
    assert plot_data(page, "integral-plot") == [] and plot_data(page, "integral-convergence") == []


# ---- a busy indicator while the server works ---------------------------------------------------------------------
def test_busy_indicator_while_symbolic_work_runs(lab_page, lab_server):
    page = lab_page
    open_panel(page, lab_server.url, "derivative")
    page.wait_for_selector("#derivative-steps li")
    held = []
    page.route("**/api/derivative", lambda route: held.append(route))  # the request waits, as on a slow SymPy call
    page.fill("#derivative-expr", "x^5")
    page.click("#derivative-go")
    wait_until(page, "document.getElementById('panel-derivative').getAttribute('aria-busy') === 'true'")
    assert page.is_visible("#derivative-busy") and page.is_disabled("#derivative-go")
    page.unroute("**/api/derivative")
    held[0].fallback()
    wait_until(page, "document.getElementById('derivative-result').textContent.includes('5*x**4')")
    assert page.get_attribute("#panel-derivative", "aria-busy") == "false"
    assert page.is_hidden("#derivative-busy") and page.is_enabled("#derivative-go")


# ---- the race: every path in view, minima marked -----------------------------------------------------------------
def open_rosenbrock(page, url: str) -> None:
    open_panel(page, url, "race")
    page.wait_for_selector("#race-plot[data-state=surface]")
    page.select_option("#race-surface", "rosenbrock")
    wait_until(page, "document.getElementById('race-plot').data[0].x[0] === -2")


def test_race_marks_the_minimum(lab_page, lab_server):
    page = lab_page
    open_rosenbrock(page, lab_server.url)
    minimum = [t for t in plot_data(page, "race-plot") if t["name"] == "minimum"]
    assert len(minimum) == 1 and minimum[0]["x"] == [1] and minimum[0]["y"] == [1]
    page.select_option("#race-surface", "himmelblau")  # four minima, one trace
    wait_until(page, "document.getElementById('race-plot').data[0].x[0] === -5")
    minima = [t for t in plot_data(page, "race-plot") if t["name"] == "minima"]
    assert len(minima) == 1 and len(minima[0]["x"]) == 4
    assert (3, 2) in zip(minima[0]["x"], minima[0]["y"])


def test_race_keeps_newtons_path_in_view(lab_page, lab_server):
    page = lab_page
    open_rosenbrock(page, lab_server.url)
    page.click("#race-go")
    page.wait_for_selector("#race-plot[data-state=done]", timeout=ANIMATION_MS)
    traces = plot_data(page, "race-plot")
    newton = next(t for t in traces if t["name"].startswith("newton"))
    assert min(newton["y"]) < -3  # its second step lands at y ≈ −3.18, below Rosenbrock's view [−1, 3]
    (x0, x1), (y0, y1) = page.evaluate("""() => {
        const layout = document.getElementById('race-plot')._fullLayout;
        return [layout.xaxis.range, layout.yaxis.range]; }""")
    assert all(x0 <= x <= x1 for x in newton["x"]) and all(y0 <= y <= y1 for y in newton["y"])
    contour = traces[0]
    assert contour["y"][0] <= y0 + 0.1 and contour["y"][-1] >= y1 - 0.1  # the surface is drawn on the whole view
