/**
 * @file The WebAssembly {@link KernelSet}s: the SIMD GEMM on the calling thread or on a worker
 * pool, the vector kernels (sum of squares, scaling) and map kernels in wasm, long-lived storage
 * placed in wasm memory. Of the elementwise rows, ReLU and its gradient — the activation rows of
 * every training step — run as map kernels in wasm when they are long and contiguous (arrays
 * outside wasm memory are staged: a copy costs far less than the JS loop); the other elementwise
 * and reduction rows use the pure-TS row kernels.
 */
import type { BinaryRowFn, KernelSet, UnaryRowFn } from "../backend.js";
import type { GemmFn } from "../kernels/gemm.js";
import { BinOp, UnOp, binaryRow, unaryRow } from "../kernels/elementwise.js";
import { mapKernel } from "../map/expr.js";
import { reduceRow } from "../kernels/reduce-row.js";
import { gemmWasmOn } from "./gemm.js";
import { initWasmSync } from "./runtime.js";
import { numThreads, setNumThreads } from "./threads/pool.js";
import { placeFloats } from "./placement.js";
import { wasmMap, wasmScale, wasmSumSquares } from "./vector.js";

/** `relu(x) = max(x, 0)`: −0 → +0, NaN stays NaN (the row kernel's semantics). */
const RELU = mapKernel("relu", { arrays: ["o", "x"], scalars: [] }, ({ x }) => ({ o: x.max(0) }));
/** ReLU's gradient: `x > 0 ? g : 0` (0 for NaN). */
const RELU_GRAD = mapKernel("reluGrad", { arrays: ["o", "g", "x"], scalars: [] }, ({ g, x }) => ({ o: x.gt(0).select(g, 0) }));
/** Contiguous rows at least this long run in wasm. */
const ROW_MAP_MIN = 2048;
const NO_SCALARS: readonly number[] = [];

const wasmUnaryRow: UnaryRowFn = (op, x, ix, sx, o, io, so, n, p0, p1) => {
  if (op === UnOp.RELU && sx === 1 && so === 1 && n >= ROW_MAP_MIN) wasmMap(RELU, [[o.subarray(io, io + n)], [x.subarray(ix, ix + n)]], NO_SCALARS);
  else unaryRow(op, x, ix, sx, o, io, so, n, p0, p1);
};

const wasmBinaryRow: BinaryRowFn = (op, a, ia, sa, b, ib, sb, o, io, so, n, p0, p1) => {
  if (op === BinOp.RELU_GRAD && sa === 1 && sb === 1 && so === 1 && n >= ROW_MAP_MIN) {
    wasmMap(RELU_GRAD, [[o.subarray(io, io + n)], [a.subarray(ia, ia + n)], [b.subarray(ib, ib + n)]], NO_SCALARS);
  } else binaryRow(op, a, ia, sa, b, ib, sb, o, io, so, n, p0, p1);
};

/** Follows {@link numThreads}: one thread unless `setNumThreads` asked for more. */
const followGemm: GemmFn = (m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, acc) =>
  gemmWasmOn(numThreads(), m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, acc);

function wasmSet(gemm: GemmFn, threads?: number): KernelSet {
  const set: KernelSet = {
    name: "wasm",
    alloc: placeFloats,
    gemm,
    binaryRow: wasmBinaryRow,
    unaryRow: wasmUnaryRow,
    reduceRow,
    sumSquares: wasmSumSquares,
    scale: wasmScale,
    map: wasmMap,
  };
  return Object.freeze(threads === undefined ? set : { ...set, threads });
}

let following: KernelSet | undefined;
const fixed = new Map<number, KernelSet>();

/** Options of {@link wasmKernels}. */
export interface WasmKernelOptions {
  /**
   * Threads the GEMM may use, the caller included. Omitted: follow {@link setNumThreads}
   * (default 1). A number larger than the current setting raises it (starting workers).
   */
  readonly threads?: number;
}

/**
 * A wasm kernel set, or `undefined` when WebAssembly SIMD is unavailable here (no SIMD, a
 * Content-Security-Policy without `'wasm-unsafe-eval'`, ...). Initialises synchronously on first
 * use; call `await initWasm()` first where synchronous compilation is restricted. With
 * `threads`, large products are split between that many threads (where threads are supported;
 * see `setNumThreads`); results are identical to one thread's.
 *
 * @throws {RangeError} when `threads` is not an integer in 1..65.
 * @example
 * ```ts
 * useKernels(wasmKernels({ threads: 2 }) ?? jsKernels);
 * await threadsReady();
 * ```
 */
export function wasmKernels(options: WasmKernelOptions = {}): KernelSet | undefined {
  const t = options.threads;
  if (t !== undefined && (!Number.isInteger(t) || t < 1 || t > 65)) throw new RangeError(`wasmKernels: threads must be an integer in 1..65 (got ${t})`);
  if (!initWasmSync()) return undefined;
  if (t === undefined) return (following ??= wasmSet(followGemm));
  if (t > numThreads()) setNumThreads(t);
  let set = fixed.get(t);
  if (!set) {
    const gemm: GemmFn = (m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, acc) =>
      gemmWasmOn(t, m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, acc);
    fixed.set(t, (set = wasmSet(gemm, t)));
  }
  return set;
}
