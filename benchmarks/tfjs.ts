/**
 * @file Starting the TensorFlow.js targets (in their own measuring process):
 * - `tfjs-cpu`: `@tensorflow/tfjs-core` + `@tensorflow/tfjs-backend-cpu` (plain JS kernels);
 *   `@tensorflow/tfjs` (the union package) is loaded too, only because tfjs-core's Node bundle
 *   registers no gradients (`tf.variableGrads` needs them) and the union bundle registers them;
 * - `tfjs-wasm`: `@tensorflow/tfjs-backend-wasm` (XNNPACK), its binaries loaded from the package's
 *   `dist/` folder in node_modules via `setWasmPaths`. tfjs picks the SIMD build when the engine
 *   validates SIMD (Node 20 does); its threaded build is disabled in Node
 *   (`WASM_HAS_MULTITHREAD_SUPPORT` is false there, tfjs#3830). The `threads: 2` target forces that
 *   flag: initialisation then fails in Node because emscripten's pthread workers are `blob:` URLs,
 *   which `worker_threads` rejects, and the target is reported as unavailable.
 *
 * NOTE: `preload.cjs` has already `require`d these packages when this runs: importing tfjs's large
 * CommonJS bundles through tsx's hooks detaches an ArrayBuffer (see README.md).
 *
 * Both switch to `tf.enableProdMode()` once the backend is ready (it only silences tfjs's console
 * warnings, e.g. the Node banner; before that they are kept to explain a failed initialisation).
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { TargetContext, TargetSpec } from "./types.js";

type Tf = typeof import("@tensorflow/tfjs-core");

const require = createRequire(import.meta.url);

/** Installed version of an npm package (from its package.json). */
function versionOf(pkg: string): string {
  return (require(`${pkg}/package.json`) as { version: string }).version;
}

/** Absolute path of the folder holding the tfjs wasm binaries, with a trailing slash. */
export function tfjsWasmDir(): string {
  return join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + "/";
}

/**
 * Starts a tfjs target: loads tfjs, sets and awaits its backend.
 *
 * @returns the context, or a string saying why the target is unavailable here.
 */
export async function startTfjs(spec: TargetSpec): Promise<TargetContext | string> {
  const tf: Tf = await import("@tensorflow/tfjs-core");
  // tfjs-core's Node bundle registers no gradients; the union package's bundle registers them all.
  await import("@tensorflow/tfjs");
  const notes = [`@tensorflow/tfjs-core ${versionOf("@tensorflow/tfjs-core")} (+ @tensorflow/tfjs ${versionOf("@tensorflow/tfjs")} for its gradient registrations)`];
  if (spec.library === "tfjs-cpu") {
    await import("@tensorflow/tfjs-backend-cpu");
    notes.push(`@tensorflow/tfjs-backend-cpu ${versionOf("@tensorflow/tfjs-backend-cpu")}`);
    if (!(await tf.setBackend("cpu"))) return "tf.setBackend('cpu') failed";
    await tf.ready();
    tf.enableProdMode();
    return { ...spec, tf, notes };
  }
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  notes.push(`@tensorflow/tfjs-backend-wasm ${versionOf("@tensorflow/tfjs-backend-wasm")}`);
  wasm.setWasmPaths(tfjsWasmDir());
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threadedDefault = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  notes.push(`SIMD ${simd ? "yes" : "no"}; threaded build enabled by tfjs here: ${threadedDefault ? "yes" : "no (tfjs turns it off in Node, tfjs#3830)"}`);
  if (!simd) return "the engine does not validate WebAssembly SIMD (tfjs would run its non-SIMD build)";
  if (spec.threads > 1) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    wasm.setThreadsCount(spec.threads);
  }
  // tfjs logs initialisation failures with console.warn; keep them for the reason string.
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
  let ok: boolean;
  try {
    ok = await tf.setBackend("wasm");
    if (ok) await tf.ready();
  } catch (e) {
    ok = false;
    warnings.push(String(e));
  } finally {
    console.warn = warn;
  }
  if (!ok || tf.getBackend() !== "wasm") {
    const lines = warnings.flatMap((w) => w.split("\n")).map((l) => l.trim()).filter(Boolean);
    const why = lines.find((l) => /Error\b/.test(l)) ?? lines[0];
    return `tf.setBackend('wasm') failed${spec.threads > 1 ? " with the threaded SIMD build forced on" : ""}: ${why ?? "unknown reason"}`;
  }
  tf.enableProdMode();
  const actual = wasm.getThreadsCount();
  if (actual !== spec.threads) return `the wasm backend runs on ${actual} thread(s), not ${spec.threads}`;
  notes.push(`binary: ${spec.threads > 1 ? "tfjs-backend-wasm-threaded-simd.wasm" : "tfjs-backend-wasm-simd.wasm"}, XNNPACK threads ${actual}`);
  return { ...spec, backend: spec.threads > 1 ? "wasm-threaded-simd" : "wasm-simd", tf, notes };
}

/**
 * `clip_by_global_norm` composed from tfjs ops, as a tfjs user writes it (tfjs has none):
 * `g = √Σ sum(t²)`, every tensor times `clip / max(g, clip)` (TensorFlow's formula). Call inside
 * `tf.tidy`.
 */
export function tfClipByGlobalNorm(tf: Tf, tensors: readonly import("@tensorflow/tfjs-core").Tensor[], clipNorm: number): import("@tensorflow/tfjs-core").Tensor[] {
  const globalNorm = tf.sqrt(tf.addN(tensors.map((t) => tf.sum(tf.square(t)))));
  const scale = tf.div(clipNorm, tf.maximum(globalNorm, clipNorm));
  return tensors.map((t) => tf.mul(t, scale));
}
