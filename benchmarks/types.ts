/**
 * @file Shared types of the benchmark harness: what a bench topic defines, what the runner
 * measures and the JSON record it writes to `results/latest.json`.
 */

/** Units of a measurement: throughput (higher is better) or time per call (lower is better). */
export type Unit = "GFLOP/s" | "GB/s" | "ms";

/** One row of `results/latest.json`. `backend`, `name`, `rme` and `samples` are extras. */
export interface ResultRecord {
  /** Topic: `"matmul"`, `"elementwise"`, later `"clip-global-norm"`, `"mlp-step"`, ... */
  bench: string;
  /** Implementation measured: `"tapegrad"`, later `"tfjs-cpu"`, `"tfjs-wasm"`, ... */
  library: string;
  /** Problem size: `n` for square matmul, or a label such as `"1M"`. */
  size: number | string;
  /** Worker threads used by the implementation. */
  threads: number;
  /** `work / median time per call` for throughput units, the median in ms for `"ms"`. */
  value: number;
  unit: Unit;
  /** Kernel set within the library (tapegrad: `"js"` pure TypeScript, `"wasm"`, ...). */
  backend: string;
  /** The printed label, e.g. `"matmul 512x512"`. */
  name: string;
  /** benchmark.js relative margin of error of the mean, in percent. */
  rme: number;
  /** Timed samples (cycles) benchmark.js took. */
  samples: number;
}

/**
 * One timed operation. `work` is what one call of `fn` does: FLOPs for `"GFLOP/s"`, bytes read
 * plus written for `"GB/s"` (unused for `"ms"`). Inputs and outputs are built before `fn` is
 * made, so `fn` only runs the operation being measured.
 */
export interface Case {
  /** Label printed before the number, e.g. `"matmul 512x512"`, `"add 1M broadcast"`. */
  name: string;
  size: number | string;
  unit: Unit;
  work: number;
  fn: () => void;
}

/**
 * What a bench runs on: a library at one backend and thread count. `enter` makes it current
 * (e.g. pins a tapegrad kernel set) and returns a function that restores the previous state.
 */
export interface Target {
  library: string;
  backend: string;
  threads: number;
  enter(): () => void;
}

/**
 * A topic (one file per topic: `matmul.ts`, `elementwise.ts`, ...). `cases` maps a library name
 * to a factory of its cases, so adding a library to a topic is one more entry. A topic whose
 * numbers depend on the kernel set (`perBackend`) runs on every backend of a library; otherwise
 * only on the library's first target.
 */
export interface Topic {
  bench: string;
  perBackend: boolean;
  cases: Readonly<Record<string, (target: Target) => Case[]>>;
}
