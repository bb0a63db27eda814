/**
 * @file Starting the jax-js target (`@jax-js/jax`, in its own measuring process) and what its cases
 * share.
 *
 * - Device: `wasm`, initialised with `init("wasm")`. jax-js recommends `webgpu`, which Node does not
 *   have (`init()` with no argument even throws in Node 20, probing `navigator.gpu`); `wasm` is its
 *   default device and its only fast one in Node (`cpu` is an interpreter meant for debugging).
 * - Threads: 1. jax-js runs wasm kernels on a Web Worker pool only when a global `Worker` and
 *   `SharedArrayBuffer` exist (browsers, Deno; the pool size is `navigator.hardwareConcurrency`, not
 *   settable). Node 20 has no global `Worker`, so every kernel runs on the calling thread and
 *   there is no 2-thread target. Its wasm memory is then not shared and starts empty, so the first
 *   allocation grows it and detaches an ArrayBuffer: every jax-js line carries the detach flag
 *   (harmless: its kernels run in wasm).
 * - jit: every case is a `jit`-compiled function (one op for matmul and elementwise; the whole
 *   clip; the whole MLP training step: forward, `valueAndGrad`, clip, SGD with momentum).
 * - Laziness: jax-js arrays are lazy (an op only records a kernel; `blockUntilReady()` or a read
 *   runs it), so each timed call awaits `blockUntilReady()` on its outputs, then disposes them.
 *   `dataSync()` would run them synchronously but copies the whole result out of wasm memory.
 * - Ownership: every jax-js function consumes its array arguments; persistent inputs are passed
 *   as `x.ref`. {@link checkNoLeak} checks that a timed call leaves no array behind.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { TargetContext, TargetSpec } from "./types.js";

/** The jax-js namespace. */
export type Jax = typeof import("@jax-js/jax");
/** A jax-js array. */
export type JaxArray = import("@jax-js/jax").Array;

const require = createRequire(import.meta.url);

/** The installed `@jax-js/jax` version (its package.json, which its `exports` map does not expose). */
function jaxVersion(): string {
  const main = require.resolve("@jax-js/jax"); // <package>/dist/index.cjs
  return (JSON.parse(readFileSync(join(dirname(main), "..", "package.json"), "utf8")) as { version: string }).version;
}

/**
 * Starts the jax-js target: imports `@jax-js/jax`, initialises its `wasm` device and makes it the
 * default.
 *
 * @returns the context, or a string saying why the target is unavailable here.
 */
export async function startJaxjs(spec: TargetSpec): Promise<TargetContext | string> {
  if (spec.threads !== 1) return "jax-js has no thread setting in Node (its wasm worker pool needs a global Web Worker)";
  const jax: Jax = await import("@jax-js/jax");
  let devices: string[];
  try {
    devices = await jax.init("wasm");
  } catch (e) {
    return `init("wasm") failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (!devices.includes("wasm")) return `init("wasm") started no wasm device (devices: ${devices.join(", ") || "none"})`;
  jax.defaultDevice("wasm");
  const pool = typeof (globalThis as { Worker?: unknown }).Worker !== "undefined" && typeof SharedArrayBuffer !== "undefined";
  const notes = [
    `@jax-js/jax ${jaxVersion()}`,
    `device "wasm" (init("wasm"); jax-js recommends webgpu, which Node lacks)`,
    pool ? "wasm worker pool possible here (a global Worker exists)" : "1 thread: no global Web Worker in Node, so no wasm worker pool",
    "every case jit-compiled (MLP step: forward + valueAndGrad + clip + SGD momentum in one jit), awaited with blockUntilReady()",
  ];
  return { ...spec, jax, notes };
}

/** A jax-js float32 array holding `data` in `shape` (the seeded inputs every library gets). */
export function jaxArray(jax: Jax, data: Float32Array, shape: readonly number[]): JaxArray {
  // jax-js copies the values into its wasm memory; its type wants an ArrayBuffer-backed array
  return jax.numpy.array(data as Float32Array<ArrayBuffer>, { shape: [...shape] });
}

/**
 * A timed call of a jitted function `f` on persistent `inputs` (passed as `.ref`, so they survive):
 * runs it, awaits `blockUntilReady()` on every output, disposes the outputs.
 */
export function jaxCall(jax: Jax, f: (...args: JaxArray[]) => JaxArray | JaxArray[], inputs: readonly JaxArray[]): () => Promise<void> {
  return async () => {
    const out = f(...inputs.map((x) => x.ref));
    await jax.blockUntilReady(out);
    jax.tree.dispose(out);
  };
}

/**
 * Clip by global norm as a jax user writes it (optax's `clip_by_global_norm`, TensorFlow's
 * formula): `g = √Σ sum(t²)`, every tensor times `clip / max(g, clip)`. Consumes `tensors`; call
 * inside `jit`.
 */
export function jaxClipByGlobalNorm(jax: Jax, tensors: readonly JaxArray[], clipNorm: number): JaxArray[] {
  const np = jax.numpy;
  const squares = tensors.map((t) => np.square(t.ref).sum());
  const norm = np.sqrt(squares.reduce((s, t) => s.add(t)));
  const scale = np.divide(clipNorm, np.maximum(norm, clipNorm));
  const out = tensors.map((t) => t.mul(scale.ref));
  scale.dispose();
  return out;
}

/** Bytes of wasm memory growth below which a run of calls counts as not leaking (allocator slack). */
const LEAK_SLACK_BYTES = 1 << 20;

/**
 * Throws unless `calls` further calls of `fn` (after two warm-up calls) leave every array of
 * `persistent()` with reference count 1 and do not grow jax-js's wasm memory (Node's
 * `process.memoryUsage().external`) by more than 1 MB. jax-js has no public count of live arrays;
 * a leaked output or temporary shows as growth, since its memory is never reused. Pick `calls`
 * so that `calls` leaked outputs would clearly exceed the slack.
 *
 * @throws {Error} naming the case, when an array leaks.
 */
export async function checkNoLeak(name: string, fn: () => Promise<void>, persistent: () => readonly JaxArray[], calls = 8): Promise<void> {
  for (let i = 0; i < 2; i++) await fn();
  const before = process.memoryUsage().external;
  for (let i = 0; i < calls; i++) await fn();
  const grown = process.memoryUsage().external - before;
  const counts = persistent().map((x) => x.refCount);
  if (counts.some((c) => c !== 1)) throw new Error(`${name} (jax-js): reference counts of the inputs after ${calls} calls: ${counts.join(", ")} (expected all 1)`);
  if (grown > LEAK_SLACK_BYTES) throw new Error(`${name} (jax-js): wasm memory grew by ${(grown / 1e6).toFixed(1)} MB over ${calls} calls: arrays leak`);
}
