/**
 * @file Parameters and their gradients as flat Float32Arrays: how every clipping function and
 * optimizer reaches the data it edits in place.
 *
 * A parameter is an autograd `Var` (a leaf made by `variable()`): `value` is contiguous and owns
 * its storage, and after `backward` its gradient is contiguous and owned by that Var, so writing
 * into it (clipping) or into `value.data` (optimizer updates) changes nothing else. Gradients are
 * borrowed (`Var.borrowGrad`), not read through `.grad`, so the engine keeps reusing their storage
 * from step to step. A plain `Tensor` may stand for a gradient itself (e.g. one returned by
 * `gradients()`); it is edited in place too.
 */
import { Tensor, fmt } from "@tapegrad/tensor";
import { Var } from "@tapegrad/autograd";
import { fmtValue } from "./errors.js";

/** What the clipping functions accept: one parameter (or gradient tensor) or an iterable of them. */
export type ParamsLike = Var | Tensor | Iterable<Var | Tensor | null | undefined>;

/**
 * The gradients a clipping step works on, as flat in-place views. Entries without a gradient are
 * left out; `indices` gives each entry's position in the caller's list (the optimizer's flat
 * parameter order), which stateful transforms use as a stable key.
 */
export interface GradBatch {
  /** The parameters (or, for bare gradient tensors, the tensors) that have a gradient. */
  readonly owners: readonly (Var | Tensor)[];
  /** Position of each entry in the caller's list. */
  readonly indices: readonly number[];
  /** Contiguous views of the gradients; writing into them edits the gradients in place. */
  readonly grads: readonly Float32Array[];
  /** Views of the parameter values (read them only), or `null` for bare gradient tensors. */
  readonly values: readonly (Float32Array | null)[];
  /** Shapes of the gradients. */
  readonly shapes: readonly (readonly number[])[];
  /** Optimizer step this batch belongs to (1-based), 0 outside an optimizer. */
  readonly step: number;
  /**
   * Σg² of `grads` as they are now (float64, as `sumSquares`), when the caller already summed
   * it; a transform may use it instead of a pass of its own. Absent when unknown.
   */
  readonly sumSquares?: number;
}

/**
 * The flat in-place view of a contiguous tensor's elements (`data` itself when it starts at 0 and
 * spans the whole buffer, else a `subarray`). Returns `null` for non-contiguous tensors.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * flatView(zeros([2, 3]))!.length; // 6
 * ```
 */
export function flatView(t: Tensor): Float32Array | null {
  if (!t.isContiguous) return null;
  if (t.offset === 0 && t.data.length === t.size) return t.data;
  return t.data.subarray(t.offset, t.offset + t.size);
}

/**
 * A short label for messages: `parameter "w" [2,3]` or `parameter #1 [4]`.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * describeParam(variable(zeros([2]), { name: "b" }), 0); // 'parameter "b" [2]'
 * ```
 */
export function describeParam(p: Var | Tensor, index: number): string {
  const name = p instanceof Var && p.name ? `"${p.name}"` : `#${index}`;
  return `${p instanceof Var ? "parameter" : "gradient"} ${name} ${fmt(p.shape)}`;
}

/**
 * The in-place view of a parameter's gradient, or `null` when it has none. A non-contiguous
 * gradient (only possible if user code assigned a view to `.grad`) is first replaced by a
 * contiguous copy owned by the Var, so edits stay local.
 *
 * @throws {RangeError} when the gradient's size differs from the parameter's.
 * @example
 * ```ts
 * const g = gradView("clipGradNorm", w, 0); // Float32Array or null
 * ```
 */
export function gradView(op: string, p: Var, index: number): Float32Array | null {
  let g = p.borrowGrad();
  if (g === null) return null;
  if (!(g instanceof Tensor)) throw new TypeError(`${op}: ${describeParam(p, index)} has a .grad that is not a Tensor (got ${fmtValue(g)})`);
  if (g.size !== p.value.size) throw new RangeError(`${op}: ${describeParam(p, index)} has a gradient of shape ${fmt(g.shape)}`);
  let view = flatView(g);
  if (view === null) {
    g = g.clone();
    p.grad = g;
    view = g.data;
  }
  return view;
}

/**
 * The in-place view of a parameter's value (optimizers write into it).
 *
 * @throws {TypeError} when the value is not contiguous (it cannot be updated in place).
 * @example
 * ```ts
 * valueView("SGD", w, 0)[0] -= 0.1;
 * ```
 */
export function valueView(op: string, p: Var, index: number): Float32Array {
  const v = flatView(p.value);
  if (v === null) throw new TypeError(`${op}: ${describeParam(p, index)} has a non-contiguous value, which cannot be updated in place; create parameters with variable()`);
  return v;
}

/**
 * Turns `ParamsLike` into a list (a single Var or Tensor becomes a one-element list).
 *
 * @throws {TypeError} for anything that is not a Var, Tensor, null or an iterable of them.
 * @example
 * ```ts
 * toParamList("clipGradNorm", w).length; // 1
 * ```
 */
export function toParamList(op: string, params: ParamsLike): (Var | Tensor | null | undefined)[] {
  if (params instanceof Var || params instanceof Tensor) return [params];
  if (params === null || typeof params !== "object" || typeof (params as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${op}: parameters must be a Var, a Tensor or an iterable of them (got ${fmtValue(params)})`);
  }
  return Array.from(params);
}

/**
 * Collects the gradients of `params` into a {@link GradBatch}. Vars without a gradient and
 * `null`/`undefined` entries are skipped (as PyTorch skips `grad is None`); a Tensor entry is a
 * gradient itself and must be contiguous.
 *
 * @throws {TypeError} for entries that are neither Var, Tensor nor null, and for non-contiguous
 * gradient tensors; {RangeError} for gradients whose size differs from their parameter's.
 * @example
 * ```ts
 * const batch = gatherGrads("clipGradNorm", [w, b]);
 * batch.grads.length; // number of parameters that have a gradient
 * ```
 */
export function gatherGrads(op: string, params: ParamsLike, step = 0): GradBatch {
  const list = toParamList(op, params);
  const owners: (Var | Tensor)[] = [];
  const indices: number[] = [];
  const grads: Float32Array[] = [];
  const values: (Float32Array | null)[] = [];
  const shapes: (readonly number[])[] = [];
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    if (p === null || p === undefined) continue;
    if (p instanceof Var) {
      const g = gradView(op, p, i);
      if (g === null) continue;
      owners.push(p);
      grads.push(g);
      values.push(flatView(p.value));
      shapes.push(p.borrowGrad()!.shape);
    } else if (p instanceof Tensor) {
      const g = flatView(p);
      if (g === null) throw new TypeError(`${op}: ${describeParam(p, i)} is not contiguous, so it cannot be edited in place; pass the parameter Var instead`);
      owners.push(p);
      grads.push(g);
      values.push(null);
      shapes.push(p.shape);
    } else {
      throw new TypeError(`${op}: parameter ${i} must be a Var or Tensor (got ${fmtValue(p)})`);
    }
    indices.push(i);
  }
  return { owners, indices, grads, values, shapes, step };
}
