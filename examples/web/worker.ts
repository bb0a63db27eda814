/**
 * @file The training worker (a module Web Worker started by `main.ts`): builds the model of the
 * chosen task, steps the optimizer in short slices (so messages from the page are handled between
 * them), applies new settings at the next step (clip chain rebuilt, learning rate set, model kept),
 * and posts telemetry in batches about 20 times a second, plus the spirals decision boundary.
 */
import { Rng, Tensor, initWasm, kernels, numThreads, setNumThreads, simdSupported, softmax, threadsReady, wasmStatus } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { AutoClip, SGD, ZClip, clipGradAgc, clipGradNorm, clipGradValue, type GradTransform } from "@tapegrad/optim";
import { addingBatch, addingDataRng, addingModel } from "../lib/adding.js";
import { spirals, spiralsModel } from "../lib/spirals.js";
import type { ClipMethod, EngineStatus, FromWorker, Settings, StepBatch, TaskName, ToWorker } from "./protocol.js";

/** Fixed sizes of the two tasks (the page lists them). */
const SPIRALS = { classes: 3, perClass: 200, noise: 0.2, batch: 64, hidden: 64, seed: 3 };
const ADDING = { seqLen: 20, hidden: 32, batch: 32, recurrentGain: 1, seed: 0 };
const FLUSH_MS = 50;
const BOUNDARY_MS = 300;
const SLICE_MS = 25;
const GRID = 48;

/** One task's model and step, behind one interface. */
interface Trainer {
  task: TaskName;
  opt: SGD;
  step(): number;
  boundary?(): FromWorker;
}

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, { transfer });
}

/** The optimizer stage of a clipping method at a threshold (none → empty chain). */
function clipChain(method: ClipMethod, threshold: number): GradTransform[] {
  switch (method) {
    case "none": return [];
    case "norm": return [clipGradNorm.transform(threshold)];
    case "value": return [clipGradValue.transform(threshold)];
    case "agc": return [clipGradAgc.transform(threshold)];
    case "autoclip": return [new AutoClip({ percentile: threshold })];
    case "zclip": return [new ZClip({ zThresh: threshold })];
  }
}

function spiralsTrainer(s: Settings): Trainer {
  const data = spirals(SPIRALS.perClass, SPIRALS.classes, SPIRALS.noise, new Rng(10));
  const model = spiralsModel(SPIRALS.classes, new Rng(SPIRALS.seed), SPIRALS.hidden);
  const opt = new SGD(model.parameters(), { lr: s.lr, momentum: 0.9, clip: clipChain(s.clip, s.threshold) });
  const pick = new Rng(4);
  const n = data.y.length, B = SPIRALS.batch;
  const xb = new Float32Array(B * 2), yb = new Int32Array(B);
  // the decision-boundary grid covers the data (radius ≤ 1 plus noise)
  const grid = new Float32Array(GRID * GRID * 2);
  for (let i = 0; i < GRID; i++) for (let j = 0; j < GRID; j++) {
    grid[(i * GRID + j) * 2] = -1.2 + (2.4 * (j + 0.5)) / GRID;
    grid[(i * GRID + j) * 2 + 1] = 1.2 - (2.4 * (i + 0.5)) / GRID;
  }
  const gridT = new Tensor(grid, [GRID * GRID, 2]);
  return {
    task: "spirals", opt,
    step() {
      for (let b = 0; b < B; b++) {
        const k = pick.int(0, n);
        xb[2 * b] = data.x.data[2 * k]!;
        xb[2 * b + 1] = data.x.data[2 * k + 1]!;
        yb[b] = data.y[k]!;
      }
      opt.zeroGrad();
      const loss = A.crossEntropy(model.forward(new Tensor(xb.slice(), [B, 2])), yb.slice());
      loss.backward();
      opt.step();
      return loss.item();
    },
    boundary() {
      const p = softmax(A.noGrad(() => model.forward(gridT)).value, 1).data;
      const C = SPIRALS.classes;
      const label = new Uint8Array(GRID * GRID), confidence = new Float32Array(GRID * GRID);
      for (let g = 0; g < GRID * GRID; g++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (p[g * C + c]! > p[g * C + best]!) best = c;
        label[g] = best;
        confidence[g] = p[g * C + best]!;
      }
      return { type: "boundary", size: GRID, classes: C, label, confidence, points: data.x.data.slice(), pointLabels: data.y.slice() };
    },
  };
}

function addingTrainer(s: Settings): Trainer {
  const { params, forward } = addingModel(ADDING);
  const opt = new SGD(params, { lr: s.lr, clip: clipChain(s.clip, s.threshold) });
  const data = addingDataRng(ADDING.seed);
  return {
    task: "adding", opt,
    step() {
      const { x, y } = addingBatch(data, ADDING.seqLen, ADDING.batch);
      opt.zeroGrad();
      const loss = A.mseLoss(forward(x), y);
      loss.backward();
      opt.step();
      return loss.item();
    },
  };
}

let settings: Settings | null = null;
let trainer: Trainer | null = null;
let pending: Settings | null = null;
let running = false;
let stopAt: number | null = null;
let batch: StepBatch = emptyBatch();
let lastFlush = 0, lastBoundary = 0;

function emptyBatch(): StepBatch {
  return { step: [], loss: [], preClipNorm: [], postClipNorm: [], coef: [], clipped: [], normThreshold: [] };
}

function build(s: Settings): void {
  trainer?.opt.dispose();
  settings = { ...s };
  trainer = s.task === "spirals" ? spiralsTrainer(s) : addingTrainer(s);
  batch = emptyBatch();
  if (trainer.boundary) post(trainer.boundary());
}

/** Applies new settings between steps: same task → new clip chain and lr on the same model. */
function apply(s: Settings): void {
  if (!trainer || !settings || s.task !== settings.task) return build(s);
  if (s.clip !== settings.clip || s.threshold !== settings.threshold) {
    trainer.opt.transforms.splice(0, trainer.opt.transforms.length, ...clipChain(s.clip, s.threshold));
  }
  for (const g of trainer.opt.paramGroups) g.lr = s.lr;
  settings = { ...s };
}

function state(note: string | null = null): void {
  post({ type: "state", running, step: trainer?.opt.stepCount ?? 0, task: settings?.task ?? "spirals", note });
}

function flush(now: number): void {
  const dt = (now - lastFlush) / 1000;
  const steps = batch.step.length;
  if (steps > 0) post({ type: "steps", batch, stepsPerSec: dt > 0 ? steps / dt : 0 });
  batch = emptyBatch();
  lastFlush = now;
  if (trainer?.boundary && now - lastBoundary >= BOUNDARY_MS) {
    lastBoundary = now;
    post(trainer.boundary());
  }
}

function oneStep(): boolean {
  if (pending) {
    apply(pending);
    pending = null;
  }
  const t = trainer!;
  const loss = t.step();
  const s = t.opt.lastStats!;
  const thr = settings!.clip === "norm" || settings!.clip === "autoclip" || settings!.clip === "zclip" ? s.transforms[0]?.threshold ?? NaN : NaN;
  batch.step.push(s.step);
  batch.loss.push(loss);
  batch.preClipNorm.push(s.preClipNorm);
  batch.postClipNorm.push(s.postClipNorm);
  batch.coef.push(s.coef);
  batch.clipped.push(s.clipped);
  batch.normThreshold.push(thr);
  if (!Number.isFinite(loss)) {
    running = false;
    flush(performance.now());
    state(`diverged: the loss is not finite at step ${s.step}; reset to start again (or try clipping)`);
    return false;
  }
  return true;
}

// Zero-delay yielding: a MessageChannel task lets page messages in between slices (setTimeout is clamped).
const tick = new MessageChannel();
tick.port1.onmessage = () => {
  if (!running || !trainer) return;
  const t0 = performance.now();
  try {
    while (running && performance.now() - t0 < SLICE_MS) {
      if (!oneStep()) return;
      if (stopAt !== null && trainer.opt.stepCount >= stopAt) {
        running = false;
        flush(performance.now());
        state(`stopped at step ${stopAt}`);
        return;
      }
    }
  } catch (e) {
    running = false;
    post({ type: "error", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    state("error");
    return;
  }
  const now = performance.now();
  if (now - lastFlush >= FLUSH_MS) flush(now);
  tick.port2.postMessage(null);
};

async function engineStatus(): Promise<EngineStatus> {
  await initWasm();
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (isolated) setNumThreads(2);
  const ready = await threadsReady();
  const w = wasmStatus();
  return {
    kernels: kernels().name, simd: simdSupported(), relaxedSimd: w.relaxedSimd, wasmReady: w.ready, sharedMemory: w.shared,
    crossOriginIsolated: isolated, numThreads: numThreads(), threadsReady: ready, wasmError: w.error ?? null,
  };
}

const started = engineStatus();
self.addEventListener("message", async (e: MessageEvent<ToWorker>) => {
  await started;
  const m = e.data;
  if (m.type === "settings") {
    if (!trainer) build(m.settings);
    else if (m.settings.task !== settings?.task) {
      running = false;
      build(m.settings);
    } else if (running) pending = m.settings;
    else apply(m.settings);
    state();
  } else if (m.type === "reset") {
    running = false;
    pending = null;
    build(m.settings);
    state();
  } else if (m.type === "start") {
    if (!trainer || running) return;
    stopAt = m.stopAt;
    running = true;
    lastFlush = performance.now();
    state();
    tick.port2.postMessage(null);
  } else if (m.type === "pause") {
    running = false;
    flush(performance.now());
    state();
  }
});

started.then(
  (status) => post({ type: "ready", status }),
  (e: unknown) => post({ type: "error", message: `engine start failed: ${String(e)}` }),
);
