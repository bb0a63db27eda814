/**
 * @file The pure-TS backend of map kernels: each kernel compiled to one fused JavaScript loop
 * (`jit.ts`), or interpreted (`interpret.ts`) where a Content-Security-Policy forbids compiling.
 * Both give the same bits.
 */
import type { MapKernel } from "./compile.js";
import { interpretBlock } from "./interpret.js";
import { jitBlock } from "./jit.js";

/**
 * Runs `kernel` over a 2-D block of strided operands (the layout of `interpretBlock`).
 *
 * @throws never (layouts are not checked).
 * @example
 * ```ts
 * mapBlockJs(addKernel, [o, a, b], [0, 0, 0], [1, 1, 0], [n, n, 1], n, m, [0, 0]); // o = a + b[:, None]
 * ```
 */
export function mapBlockJs(
  kernel: MapKernel, arrays: readonly Float32Array[], offsets: readonly number[], strides: readonly number[],
  rowStrides: readonly number[], n: number, m: number, scalars: readonly number[],
): void {
  if (n === 0 || m === 0) return;
  if (!jitBlock(kernel, arrays, offsets, strides, rowStrides, n, m, scalars)) interpretBlock(kernel, arrays, offsets, strides, rowStrides, n, m, scalars);
}

/**
 * Runs `kernel` over tuples of contiguous arrays (`lists[k][t]`: operand `k` of tuple `t`), in place.
 *
 * @throws never (the caller validates the lists).
 * @example
 * ```ts
 * mapJs(sgd, [params, grads, bufs], [0.1, 0.9]);
 * ```
 */
export function mapJs(kernel: MapKernel, lists: readonly (readonly Float32Array[])[], scalars: readonly number[]): void {
  const k = lists.length, tuple = new Array<Float32Array>(k);
  const offsets = new Array<number>(k).fill(0), ones = new Array<number>(k).fill(1), zeros = new Array<number>(k).fill(0);
  for (let t = 0; t < lists[0]!.length; t++) {
    for (let j = 0; j < k; j++) tuple[j] = lists[j]![t]!;
    mapBlockJs(kernel, tuple, offsets, ones, zeros, tuple[0]!.length, 1, scalars);
  }
}
