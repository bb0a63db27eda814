/**
 * @file The page: controls, uPlot charts and the telemetry panel; training runs in `worker.ts`.
 * URL parameters (used by the browser test): `task=spirals|adding`, `clip=…`, `threshold=…`,
 * `lr=…`, `stopAt=N` (pause after step N).
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { CLIP_METHODS, DEFAULT_LR, type ClipMethod, type EngineStatus, type FromWorker, type Settings, type StepBatch, type TaskName, type ToWorker, type WebGlobal } from "./protocol.js";

declare global {
  /** Read-only view of the page's state for tests and the console. */
  interface Window extends WebGlobal {}
}

/** Steps kept by the charts (older ones scroll out). */
const KEEP = 10_000;
/** Window of the clip-rate moving average, in steps. */
const RATE_WINDOW = 50;
const CLASS_RGB: [number, number, number][] = [[230, 97, 1], [38, 120, 178], [94, 60, 153], [27, 158, 119]];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const taskSel = $<HTMLSelectElement>("task"), clipSel = $<HTMLSelectElement>("clip");
const thrInput = $<HTMLInputElement>("threshold"), lrInput = $<HTMLInputElement>("lr");
const startBtn = $<HTMLButtonElement>("start"), pauseBtn = $<HTMLButtonElement>("pause"), resetBtn = $<HTMLButtonElement>("reset");
const note = $("note");

const TASK_INFO: Record<TaskName, string> = {
  spirals: "3 interleaved spirals, 600 points; MLP 2-64-64-3, SGD with momentum 0.9, batches of 64.",
  adding: "Adding problem, sequences of 20; tanh RNN with 32 units, plain SGD, batches of 32. Predicting the mean gives MSE 0.167; unclipped, the gradient norm spikes and the loss can blow up.",
};

// --- state -----------------------------------------------------------------------------------
const series = { step: [] as number[], loss: [] as number[], pre: [] as number[], post: [] as number[], thr: [] as number[], rate: [] as number[] };
let clipWindow: boolean[] = [];
let clipSum = 0;
let status: EngineStatus | null = null;
let running = false;
let step = 0;
let stepsPerSec = 0;
let noteText: string | null = null;
let dirty = false;
const errors: string[] = [];
window.addEventListener("error", (e) => errors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => errors.push(String(e.reason)));

const params = new URLSearchParams(location.search);
const stopAtParam = params.get("stopAt");
const stopAt = stopAtParam === null ? null : Number(stopAtParam);
const initialTask = (params.get("task") ?? "spirals") as TaskName;
taskSel.value = initialTask in DEFAULT_LR ? initialTask : "spirals";
clipSel.value = params.get("clip") ?? "norm";
thrInput.value = params.get("threshold") ?? String(CLIP_METHODS[clipSel.value as ClipMethod].default);
lrInput.value = params.get("lr") ?? String(DEFAULT_LR[taskSel.value as TaskName]);

function settings(): Settings {
  const clip = clipSel.value as ClipMethod;
  const threshold = Number(thrInput.value);
  const lr = Number(lrInput.value);
  return {
    task: taskSel.value as TaskName, clip,
    threshold: threshold > 0 ? threshold : CLIP_METHODS[clip].default,
    lr: lr > 0 ? lr : DEFAULT_LR[taskSel.value as TaskName],
  };
}

// --- charts ----------------------------------------------------------------------------------
function chartWidth(): number {
  return Math.max(320, $("charts").clientWidth - 12);
}
const axisFmt = (digits: number) => (_u: uPlot, vals: number[]) => vals.map((v) => (v == null ? "" : Number(v.toPrecision(digits)).toString()));
const base = (title: string, height: number): Omit<uPlot.Options, "series"> => ({
  title, width: chartWidth(), height, legend: { live: false },
  cursor: { drag: { x: false, y: false } },
  scales: { x: { time: false } },
  axes: [{ label: "step" }, { values: axisFmt(3) }],
});
const lossChart = new uPlot({ ...base("loss", 200), series: [{}, { label: "loss", stroke: "#1d2330", width: 1 }] }, [[], []], $("chart-loss"));
const normChart = new uPlot({
  ...base("gradient norm (log scale)", 220),
  scales: { x: { time: false }, y: { distr: 3 } },
  series: [{}, { label: "pre-clip norm", stroke: "#d1495b", width: 1 }, { label: "post-clip norm", stroke: "#2e86ab", width: 1 }, { label: "threshold", stroke: "#111", width: 1.5, dash: [6, 4] }],
}, [[], [], [], []], $("chart-norm"));
const rateChart = new uPlot({
  ...base(`clip rate (moving average over ${RATE_WINDOW} steps)`, 160),
  scales: { x: { time: false }, y: { auto: false, range: [0, 1] } },
  series: [{}, { label: "clipped fraction", stroke: "#edae49", fill: "rgba(237,174,73,0.2)", width: 1 }],
}, [[], []], $("chart-rate"));
window.addEventListener("resize", () => {
  for (const c of [lossChart, normChart, rateChart]) c.setSize({ width: chartWidth(), height: c.height });
});

const finite = (v: number) => (Number.isFinite(v) ? v : null);
const positive = (v: number) => (Number.isFinite(v) && v > 0 ? v : null);

function redraw(): void {
  if (!dirty) return;
  dirty = false;
  const x = series.step;
  lossChart.setData([x, series.loss.map(finite)] as uPlot.AlignedData);
  normChart.setData([x, series.pre.map(positive), series.post.map(positive), series.thr.map(positive)] as uPlot.AlignedData);
  rateChart.setData([x, series.rate] as uPlot.AlignedData);
}
setInterval(redraw, 50);

// --- telemetry and status --------------------------------------------------------------------
const fmt = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4)) : String(v));

function addSteps(b: StepBatch): void {
  for (let i = 0; i < b.step.length; i++) {
    series.step.push(b.step[i]!);
    series.loss.push(b.loss[i]!);
    series.pre.push(b.preClipNorm[i]!);
    series.post.push(b.postClipNorm[i]!);
    series.thr.push(b.normThreshold[i]!);
    const c = b.clipped[i]!;
    clipWindow.push(c);
    clipSum += c ? 1 : 0;
    if (clipWindow.length > RATE_WINDOW) clipSum -= clipWindow.shift() ? 1 : 0;
    series.rate.push(clipSum / clipWindow.length);
  }
  const extra = series.step.length - KEEP;
  if (extra > 0) for (const s of Object.values(series)) s.splice(0, extra);
  const last = b.step.length - 1;
  if (last >= 0) {
    step = b.step[last]!;
    $("t-step").textContent = String(step);
    $("t-loss").textContent = fmt(b.loss[last]!);
    $("t-pre").textContent = fmt(b.preClipNorm[last]!);
    $("t-post").textContent = fmt(b.postClipNorm[last]!);
    $("t-coef").textContent = fmt(b.coef[last]!);
    $("t-clipped").textContent = String(b.clipped[last]);
  }
  dirty = true;
}

function clearSeries(): void {
  for (const s of Object.values(series)) s.length = 0;
  clipWindow = [];
  clipSum = 0;
  step = 0;
  stepsPerSec = 0;
  for (const id of ["t-loss", "t-pre", "t-post", "t-coef", "t-clipped", "t-rate"]) $(id).textContent = "—";
  $("t-step").textContent = "0";
  dirty = true;
}

function yesNo(id: string, v: boolean, text = v ? "yes" : "no"): void {
  const el = $(id);
  el.textContent = text;
  el.className = v ? "yes" : "no";
}

function showStatus(s: EngineStatus): void {
  $("st-kernels").textContent = s.kernels;
  yesNo("st-simd", s.simd, s.simd ? (s.relaxedSimd ? "yes (+relaxed)" : "yes") : "no");
  yesNo("st-threads", s.threadsReady > 1, `${s.threadsReady} (numThreads ${s.numThreads})`);
  yesNo("st-isolated", s.crossOriginIsolated);
  if (s.wasmError) errors.push(`wasm: ${s.wasmError}`);
}

function showButtons(): void {
  const ok = status !== null;
  startBtn.disabled = !ok || running;
  pauseBtn.disabled = !ok || !running;
  resetBtn.disabled = !ok;
}

function drawBoundary(m: Extract<FromWorker, { type: "boundary" }>): void {
  const canvas = $<HTMLCanvasElement>("boundary");
  const ctx = canvas.getContext("2d")!;
  const img = ctx.createImageData(m.size, m.size);
  for (let g = 0; g < m.size * m.size; g++) {
    const [r, gr, b] = CLASS_RGB[m.label[g]! % CLASS_RGB.length]!;
    // confidence 1/classes → pale, 1 → full colour
    const a = Math.max(0, (m.confidence[g]! - 1 / m.classes) / (1 - 1 / m.classes));
    const mix = (c: number) => Math.round(255 - (255 - c) * (0.15 + 0.55 * a));
    img.data.set([mix(r), mix(gr), mix(b), 255], g * 4);
  }
  const tmp = new OffscreenCanvas(m.size, m.size);
  tmp.getContext("2d")!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
  const scale = canvas.width / 2.4;
  for (let k = 0; k < m.pointLabels.length; k++) {
    const [r, gr, b] = CLASS_RGB[m.pointLabels[k]! % CLASS_RGB.length]!;
    ctx.fillStyle = `rgb(${r},${gr},${b})`;
    ctx.fillRect((m.points[2 * k]! + 1.2) * scale - 1.5, (1.2 - m.points[2 * k + 1]!) * scale - 1.5, 3, 3);
  }
}

// --- worker ----------------------------------------------------------------------------------
const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "tapegrad-trainer" });
const send = (m: ToWorker) => worker.postMessage(m);
worker.addEventListener("error", (e) => {
  errors.push(`worker: ${e.message}`);
  note.textContent = `worker error: ${e.message}`;
});
worker.addEventListener("message", (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case "ready":
      status = m.status;
      showStatus(m.status);
      showButtons();
      break;
    case "steps":
      addSteps(m.batch);
      stepsPerSec = m.stepsPerSec;
      $("t-rate").textContent = stepsPerSec.toFixed(0);
      break;
    case "state":
      running = m.running;
      noteText = m.note;
      note.textContent = m.note ?? "";
      if (m.step === 0 && !m.running) clearSeries();
      showButtons();
      break;
    case "boundary":
      drawBoundary(m);
      break;
    case "error":
      errors.push(m.message);
      note.textContent = m.message;
      break;
  }
});

function showTask(): void {
  const task = taskSel.value as TaskName;
  $("task-info").textContent = TASK_INFO[task];
  $("boundary-box").hidden = task !== "spirals";
}
function showThreshold(): void {
  const c = clipSel.value as ClipMethod;
  $("threshold-label").textContent = `threshold: ${CLIP_METHODS[c].threshold}`;
  thrInput.disabled = c === "none";
}

taskSel.addEventListener("change", () => {
  lrInput.value = String(DEFAULT_LR[taskSel.value as TaskName]);
  showTask();
  clearSeries();
  send({ type: "reset", settings: settings() });
});
clipSel.addEventListener("change", () => {
  thrInput.value = String(CLIP_METHODS[clipSel.value as ClipMethod].default);
  showThreshold();
  send({ type: "settings", settings: settings() });
});
for (const input of [thrInput, lrInput]) input.addEventListener("change", () => send({ type: "settings", settings: settings() }));
startBtn.addEventListener("click", () => send({ type: "start", stopAt: stopAt !== null && stopAt > 0 ? stopAt : null }));
pauseBtn.addEventListener("click", () => send({ type: "pause" }));
resetBtn.addEventListener("click", () => {
  clearSeries();
  send({ type: "reset", settings: settings() });
});

showTask();
showThreshold();
send({ type: "reset", settings: settings() });

window.tapegradWeb = {
  snapshot: () => ({ status, running, task: taskSel.value as TaskName, step, losses: series.loss.slice(), normThresholds: series.thr.slice(), stepsPerSec, note: noteText, errors: errors.slice() }),
};
