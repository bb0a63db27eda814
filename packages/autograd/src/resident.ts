/**
 * @file Resident leaves: parameters whose value and gradient live in persistent buffers, by
 * default in the wasm heap of `@tapegrad/tensor` (`heapAlloc`), so a training step reuses them
 * instead of allocating, and the in-place kernels (`matmul` operands and outputs, the `foreach*`
 * optimizer and clipping kernels) work on them without copies.
 *
 * - A **gradient buffer** (`Var.setGradBuffer`) makes `backward` deliver the leaf's gradient
 *   into that buffer and set `.grad` to it (`backward.ts`): copied there when the gradient was
 *   computed elsewhere, summed there when `.grad` already holds the buffer (gradient
 *   accumulation), or written there directly by the rule (the weight GEMM of `linear`) when the
 *   leaf's `.grad` is null and nothing else can observe the gradient. The values are exactly
 *   those of the non-resident path. `zeroGrad()` keeps the buffer and sets `.grad` to null, as
 *   for any Var, so "no gradient" still means no gradient (optimizers skip such parameters).
 * - `Var.toHeap()` moves the value into the heap and installs a heap gradient buffer;
 *   `Var.freeHeap()` moves both back to ordinary arrays and frees the heap memory. Where the heap
 *   is unavailable (no WebAssembly SIMD) or full (a non-shared heap), `heapAlloc` returns ordinary
 *   `Float32Array`s: the Var then has an ordinary gradient buffer, which still saves the
 *   per-step allocation, and every function behaves the same.
 */
import { Tensor, ShapeError, fmt, heapAlloc, heapFree, isHeapArray, shapesEqual } from "@tapegrad/tensor";
import type { Var } from "./var.js";

/** The contiguous elements of `t` as one array view (a copy when `t` is not contiguous). */
function flatOf(t: Tensor): Float32Array {
  return t.isContiguous ? t.data.subarray(t.offset, t.offset + t.size) : t.toFloat32Array();
}

/**
 * Installs or removes `v`'s resident gradient buffer (see `Var.setGradBuffer`).
 *
 * @throws {Error} for non-leaf Vars and Vars that do not require grad; {ShapeError} for a buffer
 * of another shape or a non-contiguous one; {RangeError} when it shares storage with the value.
 * @example
 * ```ts
 * setGradBufferOf(w, heapZeros(w.shape));
 * ```
 */
export function setGradBufferOf(v: Var, buffer: Tensor | null): void {
  const old = v.residentGrad;
  if (buffer === null) {
    if (old !== null && v.grad === old) v.grad = old.clone();
    v.residentGrad = null;
    return;
  }
  if (!v.isLeaf || !v.requiresGrad) throw new Error(`setGradBuffer: only leaf Vars that require grad have gradients to keep (got ${v.describe()})`);
  if (!(buffer instanceof Tensor)) throw new TypeError("setGradBuffer: buffer must be a Tensor or null");
  if (!shapesEqual(buffer.shape, v.shape)) throw new ShapeError("setGradBuffer", `the buffer must have the shape of ${v.describe()}`, [buffer.shape, v.shape]);
  if (!buffer.isContiguous) throw new ShapeError("setGradBuffer", "the buffer must be contiguous", [buffer.shape]);
  if (buffer.data === v.value.data) throw new RangeError(`setGradBuffer: the buffer shares storage with the value of ${v.describe()}`);
  const g = v.grad;
  if (g !== null && g !== buffer) {
    if (g.size !== v.size) throw new ShapeError("setGradBuffer", `the current gradient of ${v.describe()} has another size (${fmt(g.shape)})`, [g.shape, v.shape]);
    buffer.data.set(flatOf(g), buffer.offset);
    v.grad = buffer;
  }
  v.residentGrad = buffer;
}

/**
 * Moves a leaf's value (and, when it requires grad, its gradient) into heap arrays (see
 * `Var.toHeap`). A no-op when already done.
 *
 * @throws {Error} for non-leaf Vars; {ShapeError} when the current gradient has another size.
 * @example
 * ```ts
 * varToHeap(w);
 * ```
 */
export function varToHeap(v: Var): void {
  if (!v.isLeaf) throw new Error(`toHeap: only leaf Vars (parameters) can be moved into the heap (got ${v.describe()})`);
  if (v.heapOwned !== null) return;
  const n = v.size;
  if (v.grad !== null && v.grad.size !== n) throw new ShapeError("toHeap", `the current gradient of ${v.describe()} has another size (${fmt(v.grad.shape)})`, [v.grad.shape, v.shape]);
  const value = heapAlloc(n);
  value.set(flatOf(v.value));
  let grad: Float32Array | null = null;
  if (v.requiresGrad) {
    grad = heapAlloc(n);
    const buffer = new Tensor(grad, v.shape);
    if (v.grad !== null) {
      grad.set(flatOf(v.grad));
      v.grad = buffer;
    }
    v.residentGrad = buffer; // replaces a buffer set before (the caller's to free)
  }
  v.value = new Tensor(value, v.shape);
  v.heapOwned = { value, grad };
}

/**
 * Undoes {@link varToHeap}: value and gradient back in ordinary arrays, heap memory freed. A
 * value or buffer replaced by the user since is left alone (only what `toHeap` allocated is freed).
 *
 * @throws never.
 * @example
 * ```ts
 * varFreeHeap(w);
 * ```
 */
export function varFreeHeap(v: Var): void {
  const own = v.heapOwned;
  if (own === null) return;
  if (v.value.data === own.value) v.value = new Tensor(own.value.slice(), v.shape);
  if (own.grad !== null) {
    if (v.grad !== null && v.grad.data === own.grad) v.grad = v.grad.clone();
    if (v.residentGrad !== null && v.residentGrad.data === own.grad) v.residentGrad = null;
    heapFree(own.grad);
  }
  heapFree(own.value);
  v.heapOwned = null;
}

/**
 * True when `v`'s value, and its gradient buffer if it requires grad, are heap arrays.
 *
 * @throws never.
 * @example
 * ```ts
 * isResidentVar(w); // true after w.toHeap() where WebAssembly SIMD works
 * ```
 */
export function isResidentVar(v: Var): boolean {
  if (!isHeapArray(v.value.data)) return false;
  if (!v.requiresGrad) return true;
  return v.residentGrad !== null && isHeapArray(v.residentGrad.data);
}
