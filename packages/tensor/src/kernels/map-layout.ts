/**
 * @file Runs a map kernel (`map/expr.ts`) over strided, broadcast tensors: the operands' layouts
 * are merged into 2-D blocks (`walker.ts`), and each block goes to the active kernel set's
 * `mapBlock` (the interpreter, or WebAssembly compiled from the same kernel).
 */
import { kernels } from "../backend.js";
import type { MapKernel } from "../map/compile.js";
import { makeWalker } from "./walker.js";

/** One operand of {@link runMap}: storage, start offset and strides over the logical shape (0 where broadcast). */
export interface MapOperand {
  readonly data: Float32Array;
  readonly offset: number;
  readonly strides: readonly number[];
}

/**
 * Runs `kernel` elementwise over `shape`, operand `j` of the kernel being `operands[j]`. Outputs
 * must not be broadcast and must overlap an input only element for element (the callers check).
 *
 * @throws {RangeError} when the wasm kernels' scratch memory cannot grow.
 * @example
 * ```ts
 * runMap(BINARY_KERNELS[BinOp.ADD], [2, 3], [out, a, bBroadcast], [0, 0]);
 * ```
 */
export function runMap(kernel: MapKernel, shape: readonly number[], operands: readonly MapOperand[], scalars: readonly number[]): void {
  const w = makeWalker(shape, operands.map((o) => o.strides), operands.map((o) => o.offset));
  if (w.rows === 0) return;
  const arrays = operands.map((o) => o.data), set = kernels();
  const strides = w.rowStrides, rowStrides = w.blockStrides, n = w.n, m = w.m, blocks = w.blocks;
  for (let b = 0; b < blocks; b++) {
    set.mapBlock(kernel, arrays, w.offsets, strides, rowStrides, n, m, scalars);
    w.nextBlock();
  }
}
