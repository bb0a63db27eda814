/**
 * @file Messages between the page (`main.ts`) and the training worker (`worker.ts`), and the
 * snapshot the page exposes to tests as `window.tapegradWeb`. Types and constants only: no DOM.
 */

/** The two training tasks. */
export type TaskName = "spirals" | "adding";

/** Clipping methods offered on the page. */
export type ClipMethod = "none" | "norm" | "value" | "agc" | "autoclip" | "zclip";

/** What the threshold field means for each method, and its default. */
export const CLIP_METHODS: Record<ClipMethod, { label: string; threshold: string; default: number }> = {
  none: { label: "none", threshold: "—", default: 1 },
  norm: { label: "global norm (clipGradNorm)", threshold: "max norm", default: 1 },
  value: { label: "value (clipGradValue)", threshold: "max |g|", default: 0.1 },
  agc: { label: "AGC (clipGradAgc)", threshold: "λ (unit-wise ratio)", default: 0.01 },
  autoclip: { label: "AutoClip", threshold: "percentile", default: 10 },
  zclip: { label: "ZClip", threshold: "z threshold", default: 2.5 },
};

/** Default learning rate of each task (plain SGD for the RNN, SGD with momentum 0.9 for the MLP). */
export const DEFAULT_LR: Record<TaskName, number> = { spirals: 0.1, adding: 0.2 };

/** Settings the worker applies at its next step. */
export interface Settings {
  task: TaskName;
  clip: ClipMethod;
  threshold: number;
  lr: number;
}

/** Page → worker. A `settings` message with another task rebuilds the model (like `reset`). */
export type ToWorker =
  | { type: "settings"; settings: Settings }
  | { type: "start"; stopAt: number | null }
  | { type: "pause" }
  | { type: "reset"; settings: Settings };

/** The kernels the worker trains on. */
export interface EngineStatus {
  kernels: string;
  simd: boolean;
  relaxedSimd: boolean;
  wasmReady: boolean;
  sharedMemory: boolean;
  crossOriginIsolated: boolean;
  /** `numThreads()` after `setNumThreads(2)` (configured). */
  numThreads: number;
  /** What `threadsReady()` resolved to: threads jobs can use. */
  threadsReady: number;
  wasmError: string | null;
}

/** A batch of steps, column by column (one entry per step). */
export interface StepBatch {
  step: number[];
  loss: number[];
  preClipNorm: number[];
  postClipNorm: number[];
  coef: number[];
  clipped: boolean[];
  /** The method's threshold as a gradient norm (norm, AutoClip, ZClip), NaN otherwise. */
  normThreshold: number[];
}

/** Worker → page. */
export type FromWorker =
  | { type: "ready"; status: EngineStatus }
  | { type: "steps"; batch: StepBatch; stepsPerSec: number }
  | { type: "state"; running: boolean; step: number; task: TaskName; note: string | null }
  | { type: "boundary"; size: number; classes: number; label: Uint8Array; confidence: Float32Array; points: Float32Array; pointLabels: Int32Array }
  | { type: "error"; message: string };

/** The page's global for tests and the console: `window.tapegradWeb.snapshot()`. */
export interface WebGlobal {
  tapegradWeb: { snapshot(): PageSnapshot };
}

/** What `window.tapegradWeb.snapshot()` returns (read by the browser test). */
export interface PageSnapshot {
  status: EngineStatus | null;
  running: boolean;
  task: TaskName;
  step: number;
  /** Losses of the steps kept by the charts, oldest first. */
  losses: number[];
  /** The clipping threshold as a gradient norm at those steps (NaN for methods without one). */
  normThresholds: number[];
  stepsPerSec: number;
  note: string | null;
  errors: string[];
}
