// calcml lab: one page, five panels. Every number comes from the lab's own JSON API on this machine;
// every problem the API reports is shown next to the panel that asked.
"use strict";

const PLOT_CONFIG = { displaylogo: false, responsive: true };
const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  let data;
  try {
    data = await response.json();
  } catch (_) {
    throw new Error(`the lab answered ${response.status} without JSON`);
  }
  if (!response.ok) throw new Error(data.error || `the lab answered ${response.status}`);
  return data;
}

function showError(panel, error) {
  const box = $(`${panel}-error`);
  if (error) {
    box.textContent = error.message || String(error);
    box.hidden = false;
  } else {
    box.textContent = "";
    box.hidden = true;
  }
}

function number(id) {
  const value = parseFloat($(id).value);
  return Number.isFinite(value) ? value : null;
}

function fmt(value, digits = 6) {
  if (value === null || value === undefined) return "–";
  if (value === 0) return "0";
  const size = Math.abs(value);
  return size >= 1e-3 && size < 1e6 ? String(Number(value.toPrecision(digits))) : value.toExponential(Math.max(digits - 1, 1));
}

// ---- tabs ----------------------------------------------------------------------------------------
const opened = new Set();
function openPanel(name) {
  for (const button of document.querySelectorAll("nav button")) {
    button.classList.toggle("active", button.dataset.panel === name);
  }
  for (const section of document.querySelectorAll(".panel")) section.hidden = section.id !== `panel-${name}`;
  if (!opened.has(name)) {
    opened.add(name);
    PANELS[name]();
  }
  for (const plot of document.querySelectorAll(`#panel-${name} .js-plotly-plot`)) Plotly.Plots.resize(plot);
}

// ---- derivative explorer ---------------------------------------------------------------------------
let derivative = null;

async function runDerivative() {
  showError("derivative", null);
  try {
    derivative = await api("/api/derivative", {
      expr: $("derivative-expr").value, x_min: number("derivative-xmin"), x_max: number("derivative-xmax"),
      points: 401,
    });
  } catch (error) {
    showError("derivative", error);
    return;
  }
  const d = derivative;
  $("derivative-result").textContent = `d/d${d.var} [${d.expr}] = ${d.result}`;
  const steps = $("derivative-steps");
  steps.replaceChildren();
  for (const step of d.steps) {
    const item = document.createElement("li");
    item.style.marginLeft = `${1.5 * step.depth}em`;
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = `${step.title}: `;
    item.append(title, step.text);
    if (step.where) {
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = `   where ${step.where}`;
      item.append(where);
    }
    steps.append(item);
  }
  $("derivative-check").textContent = d.autodiff_agreement === null
    ? "calcml's autodiff cannot differentiate this function yet, so only the symbolic derivative is shown."
    : `calcml's autodiff agrees with the symbolic derivative to ${fmt(d.autodiff_agreement, 2)} (largest relative difference on the grid).`;
  const slider = $("tangent-slider");
  slider.max = d.x.length - 1;
  slider.value = Math.floor(d.x.length / 3);
  Plotly.newPlot("derivative-plot", [
    { x: d.x, y: d.f, name: `f(${d.var}) = ${d.expr}`, mode: "lines" },
    { x: d.x, y: d.df, name: `f'(${d.var}) = ${d.result}`, mode: "lines", line: { dash: "dash" } },
    { x: [], y: [], name: "tangent", mode: "lines", line: { color: "#b91c1c" } },
    { x: [], y: [], name: "point", mode: "markers", marker: { size: 9, color: "#b91c1c" }, showlegend: false },
  ], { margin: { t: 20, r: 10 }, legend: { orientation: "h" }, xaxis: { title: { text: d.var } },
       yaxis: { range: yRange(d.f.concat(d.df)) } }, PLOT_CONFIG);
  drawTangent();
}

function yRange(values) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (!finite.length) return [-1, 1];
  const low = finite[Math.floor(0.02 * (finite.length - 1))], high = finite[Math.ceil(0.98 * (finite.length - 1))];
  const pad = 0.15 * (high - low || 1);
  return [low - pad, high + pad];
}

function drawTangent() {
  if (!derivative) return;
  const d = derivative, i = Number($("tangent-slider").value);
  const a = d.x[i], fa = d.f[i], slope = d.df[i];
  $("tangent-label").textContent = `${fmt(a, 4)}: f = ${fmt(fa, 4)}, slope f' = ${fmt(slope, 4)}`;
  if (fa === null || slope === null) {
    Plotly.restyle("derivative-plot", { x: [[], []], y: [[], []] }, [2, 3]);
    return;
  }
  const x0 = d.x[0], x1 = d.x[d.x.length - 1];
  Plotly.restyle("derivative-plot", {
    x: [[x0, x1], [a]], y: [[fa + slope * (x0 - a), fa + slope * (x1 - a)], [fa]],
  }, [2, 3]);
}

function setupDerivative() {
  $("derivative-form").addEventListener("submit", (event) => { event.preventDefault(); runDerivative(); });
  $("tangent-slider").addEventListener("input", drawTangent);
  runDerivative();
}

// ---- optimizer race --------------------------------------------------------------------------------
const race = { catalog: null, start: null, timer: null };
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#db2777"];

async function setupRace() {
  try {
    race.catalog = await api("/api/surfaces");
  } catch (error) {
    showError("race", error);
    return;
  }
  const select = $("race-surface");
  for (const surface of race.catalog.surfaces) select.add(new Option(surface.title, surface.name));
  select.add(new Option("your own f(x, y)…", "custom"));
  const box = $("race-optimizers");
  const chosen = new Set(["gd", "momentum", "adam", "newton"]);
  for (const opt of race.catalog.optimizers) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" data-optimizer="${opt.name}"${chosen.has(opt.name) ? " checked" : ""}> ` +
      `${opt.name} lr <input type="number" step="any" min="0" data-lr="${opt.name}" value="${opt.lr}">`;
    box.append(label);
  }
  select.addEventListener("change", () => {
    $("race-expr-label").hidden = select.value !== "custom";
    loadSurface();
  });
  $("race-expr").addEventListener("change", loadSurface);
  $("race-form").addEventListener("submit", (event) => { event.preventDefault(); runRace(); });
  await loadSurface();
}

function surfaceRequest() {
  const name = $("race-surface").value;
  return name === "custom" ? { expr: $("race-expr").value } : { name };
}

function setStart(point) {
  race.start = point;
  $("race-start").textContent = `(${fmt(point[0], 3)}, ${fmt(point[1], 3)})`;
  const plot = $("race-plot");
  if (plot.data) Plotly.restyle(plot, { x: [[point[0]]], y: [[point[1]]] }, [1]);
}

async function loadSurface() {
  showError("race", null);
  clearInterval(race.timer);
  let grid;
  try {
    grid = await api("/api/surface", { ...surfaceRequest(), points: 90 });
  } catch (error) {
    showError("race", error);
    return;
  }
  const plot = $("race-plot");
  await Plotly.newPlot(plot, [
    { type: "contour", x: grid.x, y: grid.y, z: grid.display, ncontours: 30, colorscale: "Viridis",
      showscale: false, name: "log(1 + f − min f)", hovertemplate: "x %{x:.3f}<br>y %{y:.3f}<extra></extra>" },
    { x: [grid.start[0]], y: [grid.start[1]], mode: "markers", name: "start",
      marker: { size: 12, color: "white", line: { color: "black", width: 2 } } },
  ], { margin: { t: 20, r: 10 }, xaxis: { range: grid.x_range, title: { text: "x" } },
       yaxis: { range: grid.y_range, title: { text: "y" } }, legend: { orientation: "h" } }, PLOT_CONFIG);
  plot.dataset.state = "surface";
  setStart(grid.start);
  plot.on("plotly_click", (event) => {
    const point = event.points && event.points[0];
    if (point) setStart([point.x, point.y]);
  });
}

async function runRace() {
  showError("race", null);
  const runs = [];
  for (const box of document.querySelectorAll("#race-optimizers input[data-optimizer]")) {
    if (!box.checked) continue;
    const lr = parseFloat(document.querySelector(`input[data-lr="${box.dataset.optimizer}"]`).value);
    runs.push({ optimizer: box.dataset.optimizer, lr });
  }
  if (!runs.length) {
    showError("race", new Error("choose at least one optimizer."));
    return;
  }
  const plot = $("race-plot");
  let result;
  try {
    result = await api("/api/race", { ...surfaceRequest(), start: race.start, runs,
                                      steps: parseInt($("race-steps").value, 10) });
  } catch (error) {
    showError("race", error);
    return;
  }
  clearInterval(race.timer);
  Plotly.deleteTraces(plot, plot.data.map((_, i) => i).slice(2));
  const traces = result.runs.map((run, i) => ({
    x: [run.path[0][0]], y: [run.path[0][1]], mode: "lines+markers", name: `${run.optimizer} (lr ${run.lr})`,
    line: { color: COLORS[i % COLORS.length], width: 2 }, marker: { size: 3 },
  }));
  await Plotly.addTraces(plot, traces);
  const body = $("race-table").tBodies[0];
  body.replaceChildren();
  for (const run of result.runs) {
    const row = body.insertRow();
    for (const text of [run.optimizer, run.lr, run.steps, fmt(run.final_loss, 4), run.message || run.status]) {
      row.insertCell().textContent = text;
    }
    row.cells[4].className = run.status;
  }
  plot.dataset.state = "animating";
  const longest = Math.max(...result.runs.map((run) => run.path.length));
  const frames = 60, indices = traces.map((_, i) => i + 2);
  let frame = 0;
  race.timer = setInterval(() => {
    frame += 1;
    const k = Math.ceil((frame / frames) * longest);
    Plotly.restyle(plot, {
      x: result.runs.map((run) => run.path.slice(0, k).map((p) => p[0])),
      y: result.runs.map((run) => run.path.slice(0, k).map((p) => p[1])),
    }, indices);
    if (frame >= frames) {
      clearInterval(race.timer);
      plot.dataset.state = "done";
    }
  }, 30);
}

// ---- backprop stepper --------------------------------------------------------------------------------
const bp = { step: null, phases: [], index: -1, iteration: 0, losses: [] };

async function fetchBackprop(weights) {
  showError("backprop", null);
  try {
    bp.step = await api("/api/backprop", { weights, lr: number("backprop-lr") ?? 0.5, seed: 0 });
  } catch (error) {
    showError("backprop", error);
    return false;
  }
  bp.iteration += 1;
  bp.phases = phasesOf(bp.step);
  bp.index = -1;
  $("backprop-iteration-count").textContent = bp.iteration;
  $("backprop-explain").textContent = bp.step.explanation;
  drawGraph();
  return true;
}

function phasesOf(step) {
  const phases = [];
  const byId = Object.fromEntries(step.nodes.map((n) => [n.id, n]));
  for (const node of step.nodes) {
    if (node.op === "input" || node.op === "constant") continue;
    phases.push({ kind: "forward", id: node.id,
      text: `forward: ${node.id} = ${node.expression} = ${node.value_text}` });
  }
  phases.push({ kind: "loss", id: step.output, text: `loss: L = ${byId[step.output].expression} = ${fmt(step.loss)}` });
  for (const node of [...step.nodes].reverse()) {
    if (node.grad === null) continue;
    const rule = node.derivative ? `\n(rule: ${node.derivative})` : "";
    phases.push({ kind: "backward", id: node.id,
      text: `backward: ∂L/∂${node.name || node.id} = ${node.grad_text}${rule}` });
  }
  for (const update of step.updates) phases.push({ kind: "update", id: update.id, text: `update: ${update.text}` });
  return phases;
}

function layout(step) {
  const columns = {};
  for (const node of step.nodes) (columns[node.depth] ||= []).push(node);
  const depths = Object.keys(columns).map(Number);
  const maxDepth = Math.max(...depths), place = {};
  for (const depth of depths) {
    const column = columns[depth];
    column.forEach((node, i) => {
      place[node.id] = { x: 50 + (800 * depth) / Math.max(maxDepth, 1), y: (360 * (i + 0.5)) / column.length };
    });
  }
  return place;
}

function drawGraph() {
  const svg = $("backprop-graph"), step = bp.step, place = layout(step), ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  for (const node of step.nodes) {
    for (const parent of node.parents) {
      const line = document.createElementNS(ns, "line");
      line.setAttribute("x1", place[parent].x); line.setAttribute("y1", place[parent].y);
      line.setAttribute("x2", place[node.id].x); line.setAttribute("y2", place[node.id].y);
      svg.append(line);
    }
  }
  for (const node of step.nodes) {
    const group = document.createElementNS(ns, "g");
    group.setAttribute("class", `node ${node.op === "input" || node.op === "constant" ? node.op : "op"}`);
    group.dataset.node = node.id;
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", place[node.id].x - 42); rect.setAttribute("y", place[node.id].y - 17);
    rect.setAttribute("width", 84); rect.setAttribute("height", 34); rect.setAttribute("rx", 6);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", place[node.id].x); label.setAttribute("y", place[node.id].y + 4);
    label.textContent = node.name ? `${node.id} ${node.name}` : `${node.id} ${node.op}`;
    group.append(rect, label);
    svg.append(group);
  }
}

function showPhase() {
  const phase = bp.phases[bp.index];
  for (const group of $("backprop-graph").querySelectorAll("g.node")) group.classList.remove("current");
  const seen = bp.phases.slice(0, bp.index + 1);
  for (const done of seen) {
    const group = $("backprop-graph").querySelector(`g[data-node="${done.id}"]`);
    if (!group) continue;
    if (done.kind === "forward" || done.kind === "loss") group.classList.add("forward-done");
    if (done.kind === "backward") group.classList.add("backward-done");
  }
  const current = $("backprop-graph").querySelector(`g[data-node="${phase.id}"]`);
  if (current) current.classList.add("current");
  $("backprop-phase").textContent = `${phase.kind} (${bp.index + 1} of ${bp.phases.length})`;
  $("backprop-phase").dataset.kind = phase.kind;
  $("backprop-detail").textContent = phase.text;
  if (phase.kind === "loss") $("backprop-loss-value").textContent = fmt(bp.step.loss, 5);
}

async function advance(toEnd) {
  if (!bp.step) return;
  if (bp.index >= bp.phases.length - 1) {  // this iteration is done: start the next from the updated weights
    if (bp.step.diverged || !bp.step.weights) {
      showError("backprop", new Error("the weights diverged (not finite): lower η and press Reset."));
      return;
    }
    bp.losses.push(bp.step.loss);
    if (!(await fetchBackprop(bp.step.weights))) return;
    Plotly.react("backprop-loss-plot", [{ y: bp.losses, x: bp.losses.map((_, i) => i + 1), mode: "lines+markers",
      name: "loss" }], { margin: { t: 10, r: 10 }, xaxis: { title: { text: "iteration" } },
      yaxis: { title: { text: "L" } } }, PLOT_CONFIG);
  }
  bp.index = toEnd ? bp.phases.length - 1 : bp.index + 1;
  showPhase();
}

async function setupBackprop() {
  $("backprop-step").addEventListener("click", () => advance(false));
  $("backprop-iteration").addEventListener("click", () => advance(true));
  $("backprop-reset").addEventListener("click", resetBackprop);
  await resetBackprop();
}

async function resetBackprop() {
  bp.iteration = 0;
  bp.losses = [];
  Plotly.react("backprop-loss-plot", [], { margin: { t: 10, r: 10 } }, PLOT_CONFIG);
  if (await fetchBackprop(null)) {
    $("backprop-phase").textContent = "Press Step to start the forward pass.";
    $("backprop-detail").textContent = "";
    $("backprop-loss-value").textContent = "–";
  }
}

// ---- integral explorer -------------------------------------------------------------------------------
let integralTimer = null;

async function runIntegral() {
  showError("integral", null);
  let r;
  try {
    r = await api("/api/integral", { expr: $("integral-expr").value, a: number("integral-a"), b: number("integral-b"),
                                     n: parseInt($("integral-n").value, 10), method: $("integral-method").value });
  } catch (error) {
    showError("integral", error);
    return;
  }
  const xs = [], ys = [];
  for (let i = 0; i < r.n; i++) {
    const left = r.edges[i], right = r.edges[i + 1];
    xs.push(left, left, right, right, left, null);
    ys.push(0, r.heights_left[i], r.heights_right[i], 0, 0, null);
  }
  Plotly.react("integral-plot", [
    { x: xs, y: ys, fill: "toself", mode: "lines", name: `${r.method} sum, n = ${r.n}`, line: { width: 1 },
      fillcolor: "rgba(37, 99, 235, 0.25)" },
    { x: r.x, y: r.f, mode: "lines", name: `f(x) = ${r.expr}`, line: { color: "#111827" } },
  ], { margin: { t: 20, r: 10 }, legend: { orientation: "h" } }, PLOT_CONFIG);
  const conv = r.convergence.filter((c) => c.error !== null && c.error !== 0);
  Plotly.react("integral-convergence", [
    { x: conv.map((c) => c.n), y: conv.map((c) => Math.abs(c.error)), mode: "lines+markers",
      name: `|S_n − ∫| (${r.method})` },
  ], { margin: { t: 20, r: 10 }, xaxis: { type: "log", title: { text: "n (slices)" } },
       yaxis: { type: "log", title: { text: "error" }, exponentformat: "e" }, legend: { orientation: "h" },
       showlegend: true }, PLOT_CONFIG);
  const exact = r.value === null ? `no finite value: ${r.source}`
    : `∫ = ${fmt(r.value, 10)}${r.closed_form ? ` = ${r.closed_form}` : ""} (${r.source})`;
  $("integral-result").textContent = `S_${r.n} = ${fmt(r.sum, 10)};  ${exact};  error ${fmt(r.error, 3)}`;
}

function setupIntegral() {
  $("integral-form").addEventListener("submit", (event) => { event.preventDefault(); runIntegral(); });
  $("integral-n").addEventListener("input", () => {
    $("integral-n-label").textContent = $("integral-n").value;
    clearTimeout(integralTimer);
    integralTimer = setTimeout(runIntegral, 120);
  });
  $("integral-method").addEventListener("change", runIntegral);
  runIntegral();
}

// ---- training -----------------------------------------------------------------------------------------
const training = { id: null, steps: 0, timer: null, layers: [] };

async function setupTraining() {
  try {
    const { optimizers } = await api("/api/train/optimizers");
    for (const name of optimizers) $("training-optimizer").add(new Option(name, name));
  } catch (error) {
    showError("training", error);
  }
  $("training-form").addEventListener("submit", (event) => { event.preventDefault(); startTraining(); });
  $("training-stop").addEventListener("click", async () => {
    try {
      await api(`/api/train/${training.id}/stop`, {});
    } catch (error) {
      showError("training", error);
    }
  });
}

async function startTraining() {
  showError("training", null);
  const lr = number("training-lr");
  let snapshot;
  try {
    snapshot = await api("/api/train", { epochs: parseInt($("training-epochs").value, 10),
      hidden: parseInt($("training-hidden").value, 10), optimizer: $("training-optimizer").value,
      lr: lr === null ? null : lr });
  } catch (error) {
    showError("training", error);
    return;
  }
  clearTimeout(training.timer);
  Object.assign(training, { id: snapshot.id, steps: 0, layers: [] });
  $("training-stop").disabled = false;
  $("training-start").disabled = true;
  await Plotly.newPlot("training-loss", [{ x: [], y: [], mode: "lines", name: "batch loss" }],
    { margin: { t: 20, r: 10 }, xaxis: { title: { text: "step" } }, yaxis: { title: { text: "cross-entropy" } },
      legend: { orientation: "h" }, showlegend: true }, PLOT_CONFIG);
  await Plotly.newPlot("training-norms", [], { margin: { t: 20, r: 10 }, xaxis: { title: { text: "step" } },
    yaxis: { type: "log", title: { text: "‖∂L/∂θ‖ per layer" } }, legend: { orientation: "h" } }, PLOT_CONFIG);
  poll();
}

async function poll() {
  let s;
  try {
    s = await api(`/api/train/${training.id}?since=${training.steps}`);
  } catch (error) {
    showError("training", error);
    finishTraining();
    return;
  }
  const fresh = s.step_loss.length;
  if (fresh) {
    const steps = s.step_loss.map((_, i) => training.steps + i);
    Plotly.extendTraces("training-loss", { x: [steps], y: [s.step_loss] }, [0]);
    const layers = Object.keys(s.grad_norms);
    if (training.layers.length !== layers.length) {
      training.layers = layers;
      await Plotly.addTraces("training-norms", layers.map((layer) => ({ x: [], y: [], mode: "lines",
        name: s.layers[layer] || layer })));
    }
    Plotly.extendTraces("training-norms", { x: layers.map(() => steps), y: layers.map((l) => s.grad_norms[l]) },
                        layers.map((_, i) => i));
    training.steps = s.steps;
  }
  const accuracy = s.test_accuracy.length ? `, test accuracy ${(100 * s.test_accuracy.at(-1)).toFixed(1)}%` : "";
  const status = $("training-status");
  status.dataset.status = s.status;
  status.textContent = s.status === "running"
    ? `epoch ${s.epoch} of ${s.epochs}, ${s.steps} steps${accuracy}`
    : `${s.status} after ${s.epoch} epochs and ${s.steps} steps (${fmt(s.seconds, 3)} s): ${s.message}` +
      (s.notes.length ? `\n${s.notes.join("\n")}` : "");
  if (s.status === "running") training.timer = setTimeout(poll, 250);
  else finishTraining();
}

function finishTraining() {
  $("training-stop").disabled = true;
  $("training-start").disabled = false;
}

// ---- start ------------------------------------------------------------------------------------------------
const PANELS = { derivative: setupDerivative, race: setupRace, backprop: setupBackprop, integral: setupIntegral,
                 training: setupTraining };

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => openPanel(button.dataset.panel));
  }
  const wanted = location.hash.slice(1);
  openPanel(PANELS[wanted] ? wanted : "derivative");
});
