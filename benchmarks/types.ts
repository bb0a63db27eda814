/**
 * @file Shared types of the benchmark harness: what a bench topic defines, what a target (a
 * library at one backend and thread count) provides to it, what the runner measures and the JSON
 * record it writes to `results/latest.json`.
 */
import type * as TfCore from "@tensorflow/tfjs-core";
import type * as JaxJs from "@jax-js/jax";
import type { TorchPeer } from "./torch.js";

/**
 * Units of a measurement: throughput (higher is better; `"GOP/s"`: 1e9 integer or float
 * operations per second, the int8 GEMM topic), time per call (lower is better) or
 * memory (`"MB"`, 1e6 bytes, the `memory` topic).
 */
export type Unit = "GFLOP/s" | "GOP/s" | "GB/s" | "ms" | "MB";

/** Every library the harness compares, in the order of the ratio table's columns (tapegrad first). */
export const LIBRARIES = ["tapegrad", "tfjs-cpu", "tfjs-wasm", "jax-js", "torch"] as const;

/** Libraries the harness compares (the `library` field of every record). */
export type Library = (typeof LIBRARIES)[number];

/** True when a larger value of `unit` is better. */
export function higherIsBetter(unit: Unit): boolean {
  return unit === "GFLOP/s" || unit === "GOP/s" || unit === "GB/s";
}

/**
 * One row of `results/latest.json`. `bench`, `library`, `size`, `threads`, `value` and `unit`
 * are the stable fields; the rest are extras.
 */
export interface ResultRecord {
  /** Topic: `"matmul"`, `"elementwise"`, `"clip-global-norm"`, `"mlp-step"`, `"memory"`. */
  bench: string;
  /** Implementation measured. */
  library: Library;
  /** Problem size: `n` for square matmul, a label such as `"1M"`, steps for `memory`. */
  size: number | string;
  /** Threads the implementation computes on (the calling thread included). */
  threads: number;
  /** `work / median time per call` for throughput units, the median in ms for `"ms"`. */
  value: number;
  unit: Unit;
  /** Kernel set or variant within the library (tapegrad: `"js"`, `"wasm"`; tfjs: `"cpu"`, `"wasm-simd"`; jax-js: `"wasm"`; torch: `"cpu"`). */
  backend: string;
  /** The printed label, e.g. `"matmul 512x512"`. */
  name: string;
  /** benchmark.js relative margin of error of the mean, in percent (0 for direct timing). */
  rme: number;
  /** Timed samples taken. */
  samples: number;
  /**
   * True when an `ArrayBuffer` had been detached in the measuring process's main thread before
   * the measurement finished (V8's ArrayBufferDetaching protector was invalidated: every
   * typed-array access in optimized JS then pays an extra check). See README.md.
   */
  detached?: boolean;
  /**
   * Whether the measured code used relaxed SIMD (tapegrad's wasm GEMM with `f32x4.relaxed_madd`,
   * i.e. FMA): `"relaxed"` (Node ≥ 22 by default, Node 20 with `--relaxed-simd`), else `"plain"`
   * (plain SIMD128, or no wasm at all: tfjs, tapegrad `js`).
   */
  simd?: "relaxed" | "plain";
  /** With `--rounds N > 1`: the value of each round (the record's `value` is their median). */
  roundValues?: number[];
  /** Further per-topic detail (e.g. the heap samples of `memory`). */
  [extra: string]: unknown;
}

/**
 * One timed operation. `work` is what one call of `fn` does: FLOPs for `"GFLOP/s"`, bytes read
 * plus written for `"GB/s"` (unused for `"ms"`). Inputs and outputs are built before `fn` is
 * made, so `fn` only runs the operation being measured. With `async: true`, `fn` returns a
 * promise that settles when the operation has finished (jax-js: its arrays are lazy, and only
 * `blockUntilReady()` makes them compute without copying the result out), and each call is
 * awaited (benchmark.js's deferred mode).
 */
export interface Case {
  /** Label printed before the number, e.g. `"matmul 512x512"`, `"add 1M broadcast"`. */
  name: string;
  size: number | string;
  unit: Exclude<Unit, "MB">;
  work: number;
  fn: () => void | Promise<void>;
  /** `fn` returns a promise to await (see above); default false. */
  async?: boolean;
  /** Overrides the target's backend label in the record (a variant of the target's backend). */
  backend?: string;
  /** Extra fields copied into the record. */
  extra?: Record<string, unknown>;
}

/**
 * A measurement that is not a timed call in this process (the `memory` topic; every torch topic,
 * measured by a Python process): it runs to completion and returns its records, or hands each to
 * `opts.report` as it is taken and returns none.
 */
export interface Probe {
  name: string;
  run(ctx: TargetContext, opts: ProbeOptions): ResultRecord[] | Promise<ResultRecord[]>;
}

/** Options passed to {@link Probe.run}. */
export interface ProbeOptions {
  /** Training steps of the memory run. */
  memorySteps: number;
  /** Seconds of sampling per case (`--max-time`). */
  maxTime: number;
  /** Only cases whose name matches (`--filter`). */
  filter?: RegExp;
  /** Prints a human-readable line (the verdict) to the parent. */
  log(line: string): void;
  /** Sends one record to the parent now (a probe that streams its records). */
  report(record: ResultRecord): void;
}

/** What a target is, before it is started (the parent process only knows this). */
export interface TargetSpec {
  /** Unique id, e.g. `"tapegrad-wasm"`. */
  id: string;
  library: Library;
  /** Backend label (tapegrad: the kernel set it asks for). */
  backend: string;
  /** Threads it is meant to use. */
  threads: number;
}

/** A started target in the measuring (child) process. */
export interface TargetContext extends TargetSpec {
  /** The tfjs namespace (tfjs targets only), its backend already set and ready. */
  tf?: typeof TfCore;
  /** The jax-js namespace (jax-js targets only), its `wasm` device initialised and the default. */
  jax?: typeof JaxJs;
  /** The Python with torch that measures (torch targets only). */
  torch?: TorchPeer;
  /** Facts worth printing (versions, SIMD, threads). */
  notes: string[];
  /** Relaxed SIMD in use by the measured code (see {@link ResultRecord.simd}); default `"plain"`. */
  simd?: "relaxed" | "plain";
  /** Stops helper threads etc. at the end of the process. */
  dispose?: () => void;
}

/** How a topic makes its cases for one library (async where building them needs awaiting, e.g. jax-js's leak checks). */
export type CaseFactory = (ctx: TargetContext) => Case[] | Promise<Case[]>;

/**
 * A topic (one file per topic: `matmul.ts`, `elementwise.ts`, ...). `cases` maps a library name
 * to a factory of its cases, so adding a library to a topic is one more entry. A topic whose
 * numbers depend on the kernel set or thread count (`perBackend`) runs on every target of a
 * library; otherwise only on the library's first selected target.
 */
export interface Topic {
  bench: string;
  perBackend: boolean;
  /** Every case name the topic can produce (for `--filter` before any process is started). */
  caseNames: readonly string[];
  /** Only run when asked for (`--memory`). */
  optIn?: boolean;
  /** Extra `node` flags its measuring process needs (e.g. `--expose-gc`). */
  nodeFlags?: readonly string[];
  cases?: Partial<Record<Library, CaseFactory>>;
  probes?: Partial<Record<Library, Probe>>;
}
