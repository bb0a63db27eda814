/**
 * @file The WebAssembly {@link KernelSet}: SIMD GEMM with pure-TS fallbacks for tiny products.
 */
import type { KernelSet } from "../backend.js";
import { gemmWasm } from "./gemm.js";
import { initWasmSync } from "./runtime.js";

const WASM_KERNELS: KernelSet = Object.freeze({ name: "wasm", gemm: gemmWasm });

/**
 * The wasm kernel set, or `undefined` when WebAssembly SIMD is unavailable here (no SIMD, a
 * Content-Security-Policy without `'wasm-unsafe-eval'`, ...). Initialises synchronously on first
 * use; call `await initWasm()` first where synchronous compilation is restricted.
 *
 * @example
 * ```ts
 * useKernels(wasmKernels() ?? jsKernels);
 * ```
 */
export function wasmKernels(): KernelSet | undefined {
  return initWasmSync() ? WASM_KERNELS : undefined;
}
