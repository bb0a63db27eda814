/**
 * @file The targets benchmarks run on: a library at one backend and thread count. The parent
 * process only knows the {@link TARGETS} specs; each measuring process starts one of them with
 * {@link startTarget} (tfjs is only loaded in tfjs processes).
 *
 * tapegrad runs on its default kernel set (`wasm` where WebAssembly SIMD works), on the pure
 * TypeScript kernels (`js`), and on two threads (`setNumThreads(2)` and `wasmKernels({ threads })`).
 * The peers: tfjs (`tfjs.ts`), jax-js (`jaxjs.ts`, 1 thread: it has no threads in Node) and
 * PyTorch (`torch.ts`, a Python process, optional: skipped when no Python with torch is found).
 */
import { jsKernels, kernels, setNumThreads, threadsReady, useKernels, wasmKernels, wasmStatus } from "@tapegrad/tensor";
import { startJaxjs } from "./jaxjs.js";
import { startTfjs } from "./tfjs.js";
import { startTorch } from "./torch.js";
import type { TargetContext, TargetSpec } from "./types.js";

/** Every target, in run order (per topic). A library's first selected target runs its `perBackend: false` topics. */
export const TARGETS: readonly TargetSpec[] = [
  { id: "tapegrad-wasm", library: "tapegrad", backend: "wasm", threads: 1 },
  { id: "tapegrad-js", library: "tapegrad", backend: "js", threads: 1 },
  { id: "tapegrad-wasm-2t", library: "tapegrad", backend: "wasm", threads: 2 },
  { id: "tfjs-cpu", library: "tfjs-cpu", backend: "cpu", threads: 1 },
  { id: "tfjs-wasm", library: "tfjs-wasm", backend: "wasm-simd", threads: 1 },
  { id: "tfjs-wasm-2t", library: "tfjs-wasm", backend: "wasm-simd", threads: 2 },
  { id: "jax-js", library: "jax-js", backend: "wasm", threads: 1 },
  { id: "torch", library: "torch", backend: "cpu", threads: 1 },
  { id: "torch-2t", library: "torch", backend: "cpu", threads: 2 },
];

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
  if (spec.threads === 1) {
    const set = kernels();
    if (set.name === jsKernels.name) return `the default kernel set is pure TS here (${wasmStatus().error ?? "no WebAssembly SIMD"})`;
    return { ...spec, backend: set.name, simd: tapegradSimd(), notes: [`default kernel set "${set.name}"`, ...tapegradNotes()] };
  }
  // The process-wide setting: GEMM and the vector kernels use up to that many threads.
  setNumThreads(spec.threads);
  const usable = await threadsReady();
  if (usable < spec.threads) return `setNumThreads(${spec.threads}) started only ${usable} usable thread(s)`;
  const set = wasmKernels({ threads: spec.threads });
  if (!set) return `no wasm kernel set with ${spec.threads} threads here (${wasmStatus().error ?? "no WebAssembly SIMD"})`;
  useKernels(set);
  return {
    ...spec, backend: set.name, simd: tapegradSimd(),
    notes: [`setNumThreads(${spec.threads}) + kernel set "${set.name}" (threads ${set.threads}): ${usable} threads ready (the caller + ${usable - 1} worker${usable === 2 ? "" : "s"})`, ...tapegradNotes()],
    dispose: () => setNumThreads(1),
  };
}

/**
 * Starts `spec` in this process.
 *
 * @returns the context, or a string saying why the target is unavailable here.
 */
export async function startTarget(spec: TargetSpec): Promise<TargetContext | string> {
  switch (spec.library) {
    case "tapegrad":
      return startTapegrad(spec);
    case "jax-js":
      return startJaxjs(spec);
    case "torch":
      return startTorch(spec);
    default:
      return startTfjs(spec);
  }
}
