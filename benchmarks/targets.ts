/**
 * @file The targets benchmarks run on: a library at one backend and thread count. The parent
 * process only knows the {@link TARGETS} specs; each measuring process starts one of them with
 * {@link startTarget} (tfjs is only loaded in tfjs processes).
 *
 * tapegrad runs on its default kernel set (`wasm` where WebAssembly SIMD works), on the pure
 * TypeScript kernels (`js`) and, when `@tapegrad/tensor` exports a threaded kernel API, on two
 * threads. The threaded API is looked up by name so the harness works whichever version is
 * there: `setNumThreads(n)` (+ `threadsReady()`, `wasmKernels({ threads })`), else the
 * prototype's `initWasmThreads()` (a `KernelSet` with `dispose()`); with neither, the two-thread
 * target reports itself unavailable and only 1-thread numbers are recorded.
 */
import { jsKernels, kernels, useKernels, wasmStatus, type KernelSet } from "@tapegrad/tensor";
import * as tensorExports from "@tapegrad/tensor";
import { startTfjs } from "./tfjs.js";
import type { TargetContext, TargetSpec } from "./types.js";

/** Every target, in run order (per topic). A library's first selected target runs its `perBackend: false` topics. */
export const TARGETS: readonly TargetSpec[] = [
  { id: "tapegrad-wasm", library: "tapegrad", backend: "wasm", threads: 1 },
  { id: "tapegrad-js", library: "tapegrad", backend: "js", threads: 1 },
  { id: "tapegrad-wasm-2t", library: "tapegrad", backend: "wasm", threads: 2 },
  { id: "tfjs-cpu", library: "tfjs-cpu", backend: "cpu", threads: 1 },
  { id: "tfjs-wasm", library: "tfjs-wasm", backend: "wasm-simd", threads: 1 },
  { id: "tfjs-wasm-2t", library: "tfjs-wasm", backend: "wasm-simd", threads: 2 },
];

/** A threaded kernel set as `initWasmThreads` returns it (fields beyond `KernelSet` optional). */
type ThreadedSet = KernelSet & { dispose?: () => void; threads?: number };

/** The thread-related exports of `@tapegrad/tensor`, any of which may be missing. */
interface ThreadsApi {
  setNumThreads?: (n: number) => void;
  threadsReady?: () => Promise<number>;
  wasmKernels?: (opts?: { threads?: number }) => ThreadedSet | undefined;
  initWasmThreads?: (...args: unknown[]) => Promise<ThreadedSet | undefined>;
}

/** `"relaxed"` when tapegrad's wasm GEMM uses relaxed SIMD (FMA) in this process. */
function tapegradSimd(): "relaxed" | "plain" {
  return wasmStatus().relaxedSimd ? "relaxed" : "plain";
}

function tapegradNotes(): string[] {
  const s = wasmStatus();
  return [`wasm: SIMD ${s.simd ? "yes" : "no"}, relaxed SIMD ${s.relaxedSimd ? "yes" : "no"}${s.error ? `, error: ${s.error}` : ""}`];
}

async function startTapegrad(spec: TargetSpec): Promise<TargetContext | string> {
  if (spec.backend === "js") {
    useKernels(jsKernels);
    return { ...spec, notes: ["pure TypeScript kernels (jsKernels)"] };
  }
  const api = tensorExports as unknown as ThreadsApi;
  if (spec.threads === 1) {
    api.setNumThreads?.(1); // in case a future default uses more
    const set = kernels();
    if (set.name === jsKernels.name) return `the default kernel set is pure TS here (${wasmStatus().error ?? "no WebAssembly SIMD"})`;
    useKernels(set);
    return { ...spec, backend: set.name, simd: tapegradSimd(), notes: [`default kernel set "${set.name}"`, ...tapegradNotes()] };
  }
  if (typeof api.setNumThreads === "function") {
    // The process-wide setting: GEMM and in-place heap kernels use up to that many threads.
    api.setNumThreads(spec.threads);
    const usable = typeof api.threadsReady === "function" ? await api.threadsReady() : spec.threads;
    if (usable < spec.threads) return `setNumThreads(${spec.threads}) started only ${usable} usable thread(s)`;
    let set: ThreadedSet | undefined;
    try {
      set = api.wasmKernels?.({ threads: spec.threads }); // older versions ignore the argument
    } catch {
      set = undefined;
    }
    set ??= kernels();
    if (!set || set.name === jsKernels.name) return `no wasm kernel set with ${spec.threads} threads here (${wasmStatus().error ?? "no WebAssembly SIMD"})`;
    useKernels(set);
    return {
      ...spec, backend: set.name, simd: tapegradSimd(),
      notes: [`setNumThreads(${spec.threads}) + kernel set "${set.name}"${set.threads ? ` (threads ${set.threads})` : ""}: ${usable} threads ready (the caller + ${usable - 1} worker${usable === 2 ? "" : "s"})`, ...tapegradNotes()],
      dispose: () => api.setNumThreads!(1),
    };
  }
  if (typeof api.initWasmThreads === "function") {
    const init = api.initWasmThreads;
    const set = await (init.length >= 1 ? init(spec.threads) : init());
    if (set === undefined) return "initWasmThreads() returned undefined (needs WebAssembly SIMD, SharedArrayBuffer and worker_threads)";
    useKernels(set);
    const threads = typeof set.threads === "number" ? set.threads : spec.threads;
    return {
      ...spec, backend: set.name, threads,
      notes: [`kernel set "${set.name}" from initWasmThreads(): ${threads} threads (the caller + ${threads - 1} worker)`, ...tapegradNotes()],
      dispose: () => set.dispose?.(),
    };
  }
  return "@tapegrad/tensor exports no threaded kernel API (looked for initWasmThreads, setNumThreads)";
}

/**
 * Starts `spec` in this process.
 *
 * @returns the context, or a string saying why the target is unavailable here.
 */
export async function startTarget(spec: TargetSpec): Promise<TargetContext | string> {
  return spec.library === "tapegrad" ? startTapegrad(spec) : startTfjs(spec);
}
