/**
 * @file What the parent (`cli.ts`) and a measuring process (`child.ts`) say to each other: the
 * job goes in the `TAPEGRAD_BENCH_JOB` environment variable, the answers come back on the child's
 * stdout as `@@bench {json}` lines.
 */
import type { ResultRecord } from "./types.js";

/** What the parent asks a measuring process to do. */
export interface ChildJob {
  /** Topic (`bench`) to run. */
  topic: string;
  /** Target id (see `TARGETS`). */
  target: string;
  /** Seconds of sampling per case. */
  maxTime: number;
  /** `--filter` regex source, if any. */
  filter?: string;
  /** Steps of the memory run. */
  memorySteps: number;
  /** The process was started with `--experimental-wasm-relaxed-simd` (`--simd relaxed`). */
  relaxedSimd?: boolean;
}

/** Messages from a measuring process. */
export type ChildMessage =
  | { type: "started"; backend: string; threads: number; notes: string[]; simd: "relaxed" | "plain" }
  | { type: "unavailable"; reason: string }
  | { type: "record"; record: ResultRecord }
  | { type: "log"; text: string }
  | { type: "error"; message: string };

/** Prefix of protocol lines on the child's stdout. */
export const MESSAGE_PREFIX = "@@bench ";
