// calcml lab: one page, six panels. Every number comes from the lab's own JSON API on this machine;
// every problem the API reports is shown next to the panel that asked, and clears what that panel showed.
"use strict";

const PLOT_CONFIG = { displaylogo: false, responsive: true };
const $ = (id) => document.getElementById(id);

// Legends sit above the plotting area, so they never cover an axis title below or beside it.
const LEGEND = { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" };
function plotLayout(extra = {}) {
  return { margin: { t: 50, r: 10 }, legend: LEGEND, ...extra };
}

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

// While a panel waits for the server: aria-busy on the panel, its "computing…" shown, its submit button off.
const pending = {};
async function busy(panel, work) {
  const section = $(`panel-${panel}`), flag = $(`${panel}-busy`);
  const submit = section.querySelector("button[type=submit]");
  pending[panel] = (pending[panel] || 0) + 1;
  section.setAttribute("aria-busy", "true");
  if (flag) flag.hidden = false;
  if (submit) submit.disabled = true;
  try {
    return await work();
  } finally {
    pending[panel] -= 1;
    if (!pending[panel]) {
      section.setAttribute("aria-busy", "false");
      if (flag) flag.hidden = true;
      if (submit) submit.disabled = false;
    }
  }
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

// A learning rate from an input: a number in (0, input.max]; otherwise the input is marked and an Error says why.
function learningRate(input, name) {
  const max = Number(input.max), text = input.value.trim(), value = Number(text);
  let problem = null;
  if (text === "" || !Number.isFinite(value)) {
    problem = `${name} must be a number greater than 0 and at most ${max}; got "${input.value}".`;
  } else if (value <= 0) {
    problem = `${name} must be greater than 0 (a step downhill); got ${value}.`;
  } else if (value > max) {
    problem = `${name} must be at most ${max} (larger steps only overshoot); got ${value}.`;
  }
  input.setAttribute("aria-invalid", problem ? "true" : "false");
  if (problem) throw new Error(problem);
  return value;
}

// A whole number from an input, within its min and max.
function wholeNumber(input, name) {
  const min = Number(input.min), max = Number(input.max), value = Number(input.value);
  const ok = input.value.trim() !== "" && Number.isInteger(value) && value >= min && value <= max;
  input.setAttribute("aria-invalid", ok ? "false" : "true");
  if (!ok) throw new Error(`${name} must be a whole number from ${min} to ${max}; got "${input.value}".`);
  return value;
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
let derivative = null, derivativeAsked = 0;  // only the answer to the latest request is drawn

function clearDerivative() {
  derivative = null;
  $("derivative-result").textContent = "";
  $("derivative-steps").replaceChildren();
  $("derivative-check").textContent = "";
  $("tangent-label").textContent = "–";
  Plotly.purge("derivative-plot");
}

async function runDerivative() {
  showError("derivative", null);
  const asked = ++derivativeAsked;
  let answer;
  try {
    answer = await busy("derivative", () => api("/api/derivative", {
      expr: $("derivative-expr").value, x_min: number("derivative-xmin"), x_max: number("derivative-xmax"),
      points: 401,
    }));
  } catch (error) {
    if (asked !== derivativeAsked) return;
    clearDerivative();
    showError("derivative", error);
    return;
  }
  if (asked !== derivativeAsked) return;
  const d = derivative = answer;
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
  ], plotLayout({ xaxis: { title: { text: d.var } }, yaxis: { range: yRange(d.f.concat(d.df)) } }), PLOT_CONFIG);
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
// The plot's traces: the contour, the minima, the start, then one path per run.
const race = { catalog: null, start: null, timer: null, view: null };
const CONTOUR = 0, MINIMA = 1, START = 2, FIRST_RUN = 3;
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#db2777"];

async function setupRace() {
  try {
    race.catalog = await busy("race", () => api("/api/surfaces"));
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
      `${opt.name} lr <input type="number" step="any" min="0" max="${race.catalog.max_lr}" data-lr="${opt.name}" ` +
      `value="${opt.lr}">`;
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
  if (plot.data) Plotly.restyle(plot, { x: [[point[0]]], y: [[point[1]]] }, [START]);
}

function clearRace() {
  clearInterval(race.timer);
  $("race-table").tBodies[0].replaceChildren();
  const plot = $("race-plot");
  if (plot.data && plot.data.length > FIRST_RUN) {
    Plotly.deleteTraces(plot, plot.data.map((_, i) => i).slice(FIRST_RUN));
  }
}

function contourTrace(grid) {
  return { type: "contour", x: grid.x, y: grid.y, z: grid.display, ncontours: 30, colorscale: "Viridis",
           showscale: false, name: "log(1 + f − min f)", hovertemplate: "x %{x:.3f}<br>y %{y:.3f}<extra></extra>" };
}

async function loadSurface() {
  showError("race", null);
  clearRace();
  let grid;
  try {
    grid = await busy("race", () => api("/api/surface", { ...surfaceRequest(), points: 90 }));
  } catch (error) {
    Plotly.purge("race-plot");
    $("race-plot").dataset.state = "empty";
    showError("race", error);
    return;
  }
  const plot = $("race-plot");
  race.view = { x_range: grid.x_range, y_range: grid.y_range };
  await Plotly.newPlot(plot, [
    contourTrace(grid),
    { x: grid.minima.map((m) => m[0]), y: grid.minima.map((m) => m[1]), mode: "markers",
      name: grid.minima.length > 1 ? "minima" : "minimum", showlegend: grid.minima.length > 0,
      marker: { symbol: "star", size: 15, color: "#facc15", line: { color: "black", width: 1 } } },
    { x: [grid.start[0]], y: [grid.start[1]], mode: "markers", name: "start",
      marker: { size: 12, color: "white", line: { color: "black", width: 2 } } },
  ], plotLayout({ xaxis: { range: grid.x_range, title: { text: "x" } },
                  yaxis: { range: grid.y_range, title: { text: "y" } } }), PLOT_CONFIG);
  plot.dataset.state = "surface";
  setStart(grid.start);
  plot.on("plotly_click", (event) => {
    const point = event.points && event.points[0];
    if (point) setStart([point.x, point.y]);
  });
}

// Redraw the contour on the race's view when it differs from the one drawn (a path went outside it).
async function showView(view) {
  const same = (a, b) => a[0] === b[0] && a[1] === b[1];
  if (same(view.x_range, race.view.x_range) && same(view.y_range, race.view.y_range)) return;
  const grid = await api("/api/surface", { ...surfaceRequest(), ...view, points: 90 });
  const plot = $("race-plot");
  await Plotly.restyle(plot, { x: [grid.x], y: [grid.y], z: [grid.display] }, [CONTOUR]);
  await Plotly.relayout(plot, { "xaxis.range": grid.x_range, "yaxis.range": grid.y_range });
  race.view = view;
}

function raceRequest() {
  const runs = [];
  for (const box of document.querySelectorAll("#race-optimizers input[data-optimizer]")) {
    const input = document.querySelector(`input[data-lr="${box.dataset.optimizer}"]`);
    if (!box.checked) {
      input.setAttribute("aria-invalid", "false");
      continue;
    }
    runs.push({ optimizer: box.dataset.optimizer, lr: learningRate(input, `${box.dataset.optimizer}'s lr`) });
  }
  if (!runs.length) throw new Error("choose at least one optimizer.");
  return { ...surfaceRequest(), start: race.start, runs, steps: wholeNumber($("race-steps"), "steps") };
}

async function runRace() {
  showError("race", null);
  const plot = $("race-plot");
  let result;
  try {
    const request = raceRequest();
    result = await busy("race", async () => {
      const answer = await api("/api/race", request);
      clearRace();
      await showView(answer.view);
      return answer;
    });
  } catch (error) {
    clearRace();
    showError("race", error);
    return;
  }
  const traces = result.runs.map((run, i) => ({
    x: [run.path[0][0]], y: [run.path[0][1]], mode: "lines+markers", name: `${run.optimizer} (lr ${run.lr})`,
    line: { color: COLORS[i % COLORS.length], width: 2 }, marker: { size: 3 },
  }));
  await Plotly.addTraces(plot, traces);
  const body = $("race-table").tBodies[0];
  for (const run of result.runs) {
    const row = body.insertRow();
    for (const text of [run.optimizer, run.lr, run.steps, fmt(run.final_loss, 4), run.message || run.status]) {
      row.insertCell().textContent = text;
    }
    row.cells[4].className = run.status;
  }
  plot.dataset.state = "animating";
  const longest = Math.max(...result.runs.map((run) => run.path.length));
  const frames = 60, indices = traces.map((_, i) => i + FIRST_RUN);
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
// bp.weights produced bp.step (null: the seed's); bp.losses[i] is L of iteration i + 1, once its loss phase is seen.
const bp = { step: null, weights: null, phases: [], index: -1, iteration: 0, losses: [] };
const GRAPH_HEIGHT = 360, BOX_WIDTH = 100, BOX_HEIGHT = 36;

function stepperRate() {
  return learningRate($("backprop-lr"), "η");
}

function setStepping(enabled) {
  $("backprop-step").disabled = !enabled;
  $("backprop-iteration").disabled = !enabled;
}

// One step of the network at ``weights`` with the η in the box; false (and the error shown) when refused.
async function fetchBackprop(weights) {
  showError("backprop", null);
  try {
    bp.step = await busy("backprop", () => api("/api/backprop", { weights, lr: stepperRate(), seed: 0 }));
  } catch (error) {
    showError("backprop", error);
    return false;
  }
  bp.weights = weights;
  bp.phases = phasesOf(bp.step);
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

// Where each node sits: a column per depth, spread over the drawing's width in CSS pixels (so text keeps its size).
function graphPlaces(step, width) {
  const columns = {};
  for (const node of step.nodes) (columns[node.depth] ||= []).push(node);
  const depths = Object.keys(columns).map(Number);
  const maxDepth = Math.max(...depths), place = {}, pad = BOX_WIDTH / 2 + 8;
  for (const depth of depths) {
    const column = columns[depth];
    column.forEach((node, i) => {
      place[node.id] = { x: pad + ((width - 2 * pad) * depth) / Math.max(maxDepth, 1),
                         y: (GRAPH_HEIGHT * (i + 0.5)) / column.length };
    });
  }
  return place;
}

function drawGraph() {
  const svg = $("backprop-graph"), step = bp.step, ns = "http://www.w3.org/2000/svg";
  const width = Math.max(svg.clientWidth, 600);
  svg.setAttribute("viewBox", `0 0 ${width} ${GRAPH_HEIGHT}`);
  const place = graphPlaces(step, width);
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
    rect.setAttribute("x", place[node.id].x - BOX_WIDTH / 2); rect.setAttribute("y", place[node.id].y - BOX_HEIGHT / 2);
    rect.setAttribute("width", BOX_WIDTH); rect.setAttribute("height", BOX_HEIGHT); rect.setAttribute("rx", 6);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", place[node.id].x); label.setAttribute("y", place[node.id].y + 5);
    label.textContent = node.name ? `${node.id} ${node.name}` : `${node.id} ${node.op}`;
    group.append(rect, label);
    svg.append(group);
  }
}

function drawLosses() {
  Plotly.react("backprop-loss-plot", [{ y: bp.losses, x: bp.losses.map((_, i) => i + 1), mode: "lines+markers",
    name: "loss" }], plotLayout({ margin: { t: 10, r: 10 }, xaxis: { title: { text: "iteration" } },
    yaxis: { title: { text: "L" } } }), PLOT_CONFIG);
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
  const lossSeen = seen.some((done) => done.kind === "loss");  // "Finish this iteration" passes over it too
  $("backprop-loss-value").textContent = lossSeen ? fmt(bp.step.loss, 5) : "–";
  if (lossSeen && bp.losses.length < bp.iteration) {
    bp.losses.push(bp.step.loss);
    drawLosses();
  }
}

async function advance(toEnd) {
  if (!bp.step) return;
  if (bp.index >= bp.phases.length - 1) {  // this iteration is done: start the next from the updated weights
    if (bp.step.diverged || !bp.step.weights) {
      showError("backprop", new Error("the weights diverged (not finite): lower η and press Reset."));
      return;
    }
    if (!(await fetchBackprop(bp.step.weights))) return;
    bp.iteration += 1;
    bp.index = -1;
    $("backprop-iteration-count").textContent = bp.iteration;
  }
  bp.index = toEnd ? bp.phases.length - 1 : bp.index + 1;
  showPhase();
}

// A new η: refused at once when out of range; otherwise this iteration is recomputed with it, at the same phase.
async function changeRate() {
  try {
    stepperRate();
  } catch (error) {
    setStepping(false);
    showError("backprop", error);
    return;
  }
  setStepping(true);
  if (bp.step && (await fetchBackprop(bp.weights)) && bp.index >= 0) showPhase();
}

async function setupBackprop() {
  $("backprop-step").addEventListener("click", () => advance(false));
  $("backprop-iteration").addEventListener("click", () => advance(true));
  $("backprop-reset").addEventListener("click", resetBackprop);
  $("backprop-lr").addEventListener("change", changeRate);
  await resetBackprop();
}

async function resetBackprop() {
  bp.iteration = 0;
  bp.losses = [];
  bp.index = -1;
  drawLosses();
  $("backprop-loss-value").textContent = "–";
  $("backprop-detail").textContent = "";
  if (await fetchBackprop(null)) {
    bp.iteration = 1;
    $("backprop-iteration-count").textContent = bp.iteration;
    $("backprop-phase").textContent = "Press Step to start the forward pass.";
  }
}

// ---- integral explorer -------------------------------------------------------------------------------
let integralTimer = null, integralAsked = 0;  // only the answer to the latest request is drawn

function clearIntegral() {
  $("integral-result").textContent = "";
  Plotly.purge("integral-plot");
  Plotly.purge("integral-convergence");
}

async function runIntegral() {
  showError("integral", null);
  const asked = ++integralAsked;
  let r;
  try {
    r = await busy("integral", () => api("/api/integral", {
      expr: $("integral-expr").value, a: number("integral-a"), b: number("integral-b"),
      n: parseInt($("integral-n").value, 10), method: $("integral-method").value }));
  } catch (error) {
    if (asked !== integralAsked) return;
    clearIntegral();
    showError("integral", error);
    return;
  }
  if (asked !== integralAsked) return;
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
  ], plotLayout({ xaxis: { title: { text: "x" } } }), PLOT_CONFIG);
  const conv = r.convergence.filter((c) => c.error !== null && c.error !== 0);
  Plotly.react("integral-convergence", [
    { x: conv.map((c) => c.n), y: conv.map((c) => Math.abs(c.error)), mode: "lines+markers",
      name: `|S_n − ∫| (${r.method})` },
  ], plotLayout({ xaxis: { type: "log", title: { text: "n (slices)" } },
                  yaxis: { type: "log", title: { text: "error" }, exponentformat: "e" }, showlegend: true }), PLOT_CONFIG);
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
  let snapshot;
  try {
    const lr = $("training-lr").value.trim() === "" ? null : learningRate($("training-lr"), "lr");
    snapshot = await api("/api/train", { epochs: wholeNumber($("training-epochs"), "epochs"),
      hidden: wholeNumber($("training-hidden"), "hidden units"), optimizer: $("training-optimizer").value, lr });
  } catch (error) {
    Plotly.purge("training-loss");
    Plotly.purge("training-norms");
    showError("training", error);
    return;
  }
  clearTimeout(training.timer);
  Object.assign(training, { id: snapshot.id, steps: 0, layers: [] });
  $("training-stop").disabled = false;
  $("training-start").disabled = true;
  await Plotly.newPlot("training-loss", [{ x: [], y: [], mode: "lines", name: "batch loss" }],
    plotLayout({ xaxis: { title: { text: "step" } }, yaxis: { title: { text: "cross-entropy" } }, showlegend: true }),
    PLOT_CONFIG);
  await Plotly.newPlot("training-norms", [], plotLayout({ xaxis: { title: { text: "step" } },
    yaxis: { type: "log", title: { text: "‖∂L/∂θ‖ per layer" } } }), PLOT_CONFIG);
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

// ---- curvature ----------------------------------------------------------------------------------------------
// A curvature run is a training run on the server: started at /api/curvature, polled and stopped at /api/train.
const curvature = { id: null, steps: 0, timer: null, measured: 0 };

function setupCurvature() {
  $("curvature-form").addEventListener("submit", (event) => { event.preventDefault(); startCurvature(); });
  $("curvature-stop").addEventListener("click", async () => {
    try {
      await api(`/api/train/${curvature.id}/stop`, {});
    } catch (error) {
      showError("curvature", error);
    }
  });
}

function curvatureRequest() {
  return {
    examples: wholeNumber($("curvature-examples"), "examples"), hidden: wholeNumber($("curvature-hidden"), "hidden units"),
    lr: learningRate($("curvature-lr"), "η"), steps: wholeNumber($("curvature-steps"), "steps"),
    every: wholeNumber($("curvature-every"), "every"), k: wholeNumber($("curvature-k"), "top k"),
  };
}

function clearCurvature() {
  clearTimeout(curvature.timer);
  Plotly.purge("curvature-lambda");
  Plotly.purge("curvature-spectrum");
  $("curvature-eigenvalues").textContent = "";
}

async function startCurvature() {
  showError("curvature", null);
  let snapshot, request;
  try {
    request = curvatureRequest();
    snapshot = await api("/api/curvature", request);
  } catch (error) {
    clearCurvature();
    const status = $("curvature-status");
    status.dataset.status = "idle";
    status.textContent = "Not started.";
    showError("curvature", error);
    return;
  }
  clearCurvature();
  Object.assign(curvature, { id: snapshot.id, steps: 0, measured: 0 });
  $("curvature-stop").disabled = false;
  $("curvature-start").disabled = true;
  const edge = 2 / request.lr;
  await Plotly.newPlot("curvature-lambda", [
    { x: [], y: [], mode: "lines+markers", name: "λ_max (Lanczos)" },
    { x: [0, request.steps], y: [edge, edge], mode: "lines", name: `2/η = ${fmt(edge, 4)} (edge of stability)`,
      line: { dash: "dash", color: "#b91c1c" } },
    { x: [], y: [], mode: "lines", name: "training loss", yaxis: "y2", line: { color: "#94a3b8", width: 1 } },
  ], plotLayout({ xaxis: { title: { text: "step" } }, yaxis: { title: { text: "λ_max of the Hessian" } },
                  yaxis2: { title: { text: "loss" }, overlaying: "y", side: "right", showgrid: false },
                  margin: { t: 50, r: 60 } }), PLOT_CONFIG);
  pollCurvature();
}

async function pollCurvature() {
  let s;
  try {
    s = await api(`/api/train/${curvature.id}?since=${curvature.steps}`);
  } catch (error) {
    showError("curvature", error);
    finishCurvature();
    return;
  }
  const records = s.records || {};
  const steps = records.lambda_steps || [], values = records.lambda_max || [];
  if (s.step_loss.length) {
    Plotly.extendTraces("curvature-lambda", { x: [s.step_loss.map((_, i) => curvature.steps + i + 1)],
                                              y: [s.step_loss] }, [2]);
    curvature.steps = s.steps;
  }
  if (values.length > curvature.measured) {
    Plotly.extendTraces("curvature-lambda", { x: [steps.slice(curvature.measured)], y: [values.slice(curvature.measured)] },
                        [0]);
    curvature.measured = values.length;
  }
  const status = $("curvature-status");
  status.dataset.status = s.status;
  const last = values.length ? `, λ_max ${fmt(values.at(-1), 4)} at step ${steps.at(-1)} (2/η = ${fmt(records.edge, 4)})` : "";
  status.textContent = s.status === "running" ? `step ${s.steps} of ${s.epochs}${last}`
    : `${s.status} after ${s.steps} steps (${fmt(s.seconds, 3)} s): ${s.message}`;
  if (records.density) drawSpectrum(records);
  if (s.status === "running") curvature.timer = setTimeout(pollCurvature, 250);
  else finishCurvature();
}

function drawSpectrum(records) {
  const density = records.density, top = records.eigenvalues, peak = Math.max(...density.density.filter(Number.isFinite));
  $("curvature-eigenvalues").textContent = `top ${top.length} eigenvalues (Lanczos): ${top.map((v) => fmt(v, 5)).join(", ")}`;
  Plotly.newPlot("curvature-spectrum", [
    { x: density.grid, y: density.density, mode: "lines", name: "spectral density (SLQ)", fill: "tozeroy" },
    { x: top, y: top.map(() => peak), mode: "markers", name: `top ${top.length} eigenvalues`,
      marker: { symbol: "triangle-down", size: 11, color: "#dc2626" } },
    { x: [records.edge, records.edge], y: [peak * 1e-6, peak], mode: "lines", name: "2/η",
      line: { dash: "dash", color: "#b91c1c" } },
  ], plotLayout({ xaxis: { title: { text: "eigenvalue λ of the Hessian" } },  // log: the outliers beside the bulk
                  yaxis: { title: { text: "density φ(λ)" }, type: "log", exponentformat: "e",
                           range: [Math.log10(peak) - 6, Math.log10(peak) + 0.3] } }), PLOT_CONFIG);
}

function finishCurvature() {
  $("curvature-stop").disabled = true;
  $("curvature-start").disabled = false;
}

// ---- start ------------------------------------------------------------------------------------------------
const PANELS = { derivative: setupDerivative, race: setupRace, backprop: setupBackprop, integral: setupIntegral,
                 training: setupTraining, curvature: setupCurvature };

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => openPanel(button.dataset.panel));
  }
  const wanted = location.hash.slice(1);
  openPanel(PANELS[wanted] ? wanted : "derivative");
});
