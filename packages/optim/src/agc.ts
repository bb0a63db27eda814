/**
 * @file Adaptive gradient clipping (AGC, Brock, De, Smith, Simonyan 2021, arXiv 2102.06171; Optax
 * `adaptive_grad_clip`): each *unit* (output neuron / filter) of a weight is clipped relative to
 * the norm of that unit's weights.
 *
 * For every unit i: `maxNorm_i = clipping · max(‖W_i‖, eps)`; if `‖G_i‖ < maxNorm_i` the gradient
 * is kept, else `G_i ← G_i · maxNorm_i / max(‖G_i‖, divEps)` (Frobenius norms, float64).
 *
 * Weight layout: tapegrad follows PyTorch, **the first axis indexes output units** (`Linear`
 * weight `[out, in]`, conv `[O, I, kH, kW]`), so by default (`unitAxis: 0`) each unit's norm runs
 * over all other axes, as timm's `adaptive_clip_grad`. Tensors with `ndim <= 1` (biases, gains,
 * scalars) are one unit. Optax works on JAX layouts with the output axis *last* (`[in, out]`,
 * HWIO) and reduces the leading axes; for such layouts pass `unitAxis: -1`. Getting the axis
 * wrong silently clips per input column instead of per output unit (SlopDotCash/asi#440, optax#906).
 * The paper advises not to clip the final classifier layer: leave it out of `params` or pass
 * `include`.
 *
 * Unit norms are `sqrt(sumSquares(unit))`: a `subarray` for contiguous units (unit axis 0), the
 * unit's elements copied in order into a reused scratch array otherwise. The optimizer stage is
 * `clipGradAgc.transform(clipping, opts)`.
 */
import { fmt } from "@tapegrad/tensor";
import { Var } from "@tapegrad/autograd";
import { checkNonNegative, checkRange, fmtValue } from "./errors.js";
import { countNonFinite, scaleInPlace, sumSquares } from "./norms.js";
import { describeParam, gatherGrads, type GradBatch } from "./params.js";
import type { ClipResultWith, GradTransform } from "./transform.js";
import { checkedSchedule, type Scheduled } from "./transforms.js";

/** The axis that indexes units (negative counts from the end), or `null` for one unit per tensor. */
export type UnitAxis = number | null;

/** Options of {@link clipGradAgc} (and of its transform). */
export interface AgcOptions {
  /** Floor of the weight norm, so zero-initialised weights can still move (default 1e-3). */
  eps?: number;
  /** Floor of the gradient norm in the division (default 1e-6). */
  divEps?: number;
  /** Unit axis for `ndim >= 2` tensors (default 0, PyTorch layout), or a function per parameter. */
  unitAxis?: UnitAxis | ((param: Var, index: number) => UnitAxis);
  /** Clip only the parameters for which this returns true (e.g. not the classifier head); default all. */
  include?: (param: Var, index: number) => boolean;
}

/** {@link AgcOptions} with the defaults filled in. */
export interface ResolvedAgcOptions {
  eps: number;
  divEps: number;
  unitAxis: UnitAxis | ((param: Var, index: number) => UnitAxis);
  include: ((param: Var, index: number) => boolean) | null;
}

/** Per-tensor AGC statistics. Norm arrays have one entry per unit, laid out as `unitShape`. */
export interface AgcTensorStats {
  /** `[]` for one unit; else the tensor's shape with every axis but the unit axis set to 1. */
  unitShape: number[];
  /** `‖W_i‖` per unit. */
  paramNorms: Float64Array;
  /** `‖G_i‖` per unit, before clipping. */
  gradNorms: Float64Array;
  /** `clipping · max(‖W_i‖, eps)` per unit. */
  maxNorms: Float64Array;
  /** Units that were rescaled. */
  numClipped: number;
}

/**
 * The `detail` of a {@link clipGradAgc} result: statistics aligned with the input list (`null`
 * for parameters without a gradient or left out by `include`).
 */
export interface AgcDetail {
  tensors: (AgcTensorStats | null)[];
}

interface UnitLayout {
  outer: number;
  units: number;
  inner: number;
  unitShape: number[];
}

function unitLayout(op: string, shape: readonly number[], axis: UnitAxis, label: string): UnitLayout {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length <= 1 || axis === null) return { outer: 1, units: 1, inner: size, unitShape: shape.length <= 1 ? [] : shape.map(() => 1) };
  if (!Number.isInteger(axis) || axis < -shape.length || axis >= shape.length) {
    throw new RangeError(`${op}: unitAxis ${fmtValue(axis)} is out of range for ${label}`);
  }
  const k = axis < 0 ? axis + shape.length : axis;
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < k; i++) outer *= shape[i]!;
  for (let i = k + 1; i < shape.length; i++) inner *= shape[i]!;
  return { outer, units: shape[k]!, inner, unitShape: shape.map((d, i) => (i === k ? d : 1)) };
}

/** Scratch for strided units, reused across calls (grown when a larger unit comes along). */
let scratch = new Float32Array(0);

/** A scratch view of exactly one unit's size when units are strided (`null` when contiguous). */
function unitScratch(l: UnitLayout): Float32Array | null {
  if (l.outer === 1) return null;
  const n = l.outer * l.inner;
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch.length === n ? scratch : scratch.subarray(0, n);
}

/**
 * Puts unit `u` of `a` into `one[0]`: the contiguous `subarray` when `buf` is null, else a copy of
 * its elements in row-major order into `buf`.
 */
function loadUnit(a: Float32Array, l: UnitLayout, u: number, buf: Float32Array | null, one: Float32Array[]): void {
  if (buf === null) {
    one[0] = l.units === 1 ? a : a.subarray(u * l.inner, (u + 1) * l.inner);
    return;
  }
  let k = 0;
  for (let o = 0; o < l.outer; o++) {
    const base = (o * l.units + u) * l.inner;
    for (let i = 0; i < l.inner; i++) buf[k++] = a[base + i]!;
  }
  one[0] = buf;
}

/** Writes a strided unit held in `buf` back into `a` (the inverse of {@link loadUnit}). */
function storeUnit(a: Float32Array, l: UnitLayout, u: number, buf: Float32Array): void {
  let k = 0;
  for (let o = 0; o < l.outer; o++) {
    const base = (o * l.units + u) * l.inner;
    for (let i = 0; i < l.inner; i++) a[base + i] = buf[k++]!;
  }
}

function unitNorms(a: Float32Array, l: UnitLayout): Float64Array {
  const out = new Float64Array(l.units);
  const buf = unitScratch(l);
  const one: Float32Array[] = [a];
  for (let u = 0; u < l.units; u++) {
    loadUnit(a, l, u, buf, one);
    out[u] = Math.sqrt(sumSquares(one));
  }
  return out;
}

/**
 * Frobenius norm of every unit of a tensor stored row-major with `shape` (float64). `unitShape`
 * is where the norms broadcast back to the tensor.
 *
 * @throws {RangeError} for a unit axis outside the shape or data whose length is not the shape's size; {TypeError} when `data` is not a Float32Array.
 * @example
 * ```ts
 * unitwiseNorms(Float32Array.of(3, 4, 0, 1), [2, 2], 0); // norms [5, 1], unitShape [2, 1]
 * ```
 */
export function unitwiseNorms(data: Float32Array, shape: readonly number[], unitAxis: UnitAxis = 0): { norms: Float64Array; unitShape: number[] } {
  if (!(data instanceof Float32Array)) throw new TypeError(`unitwiseNorms: data must be a Float32Array (got ${fmtValue(data)})`);
  const l = unitLayout("unitwiseNorms", shape, unitAxis, `shape ${fmt(shape)}`);
  const size = shape.reduce((a, d) => a * d, 1);
  if (data.length !== size) throw new RangeError(`unitwiseNorms: data has ${data.length} elements but shape ${fmt(shape)} has ${size}`);
  return { norms: unitNorms(data, l), unitShape: l.unitShape };
}

/**
 * AGC on a gathered batch (kernel of {@link clipGradAgc} and its transform); `detail.tensors` has
 * `listLength` entries.
 *
 * @throws {TypeError} for bare gradient tensors (AGC needs the parameter values); {RangeError}
 * for a unit axis outside a parameter's shape.
 * @example
 * ```ts
 * agcBatch("op", gatherGrads("op", params), 0.01, resolveAgcOptions("op", {}), params.length);
 * ```
 */
export function agcBatch(op: string, batch: GradBatch, clipping: number, o: ResolvedAgcOptions, listLength: number): ClipResultWith<"threshold" | "detail", AgcDetail> {
  const tensors: (AgcTensorStats | null)[] = new Array<AgcTensorStats | null>(listLength).fill(null);
  let total = 0;
  let bad = 0;
  const one: Float32Array[] = [new Float32Array(0)];
  for (let k = 0; k < batch.grads.length; k++) {
    const p = batch.owners[k]!;
    const index = batch.indices[k]!;
    if (!(p instanceof Var)) throw new TypeError(`${op}: AGC needs parameter values; pass the parameter Vars, not gradient tensors (${describeParam(p, index)})`);
    if (o.include && !o.include(p, index)) continue;
    const w = batch.values[k];
    if (!w) throw new TypeError(`${op}: ${describeParam(p, index)} has a non-contiguous value`);
    const g = batch.grads[k]!;
    const axis = typeof o.unitAxis === "function" ? o.unitAxis(p, index) : o.unitAxis;
    const l = unitLayout(op, batch.shapes[k]!, axis, describeParam(p, index));
    const paramNorms = unitNorms(w, l);
    const gradNorms = new Float64Array(l.units);
    const maxNorms = new Float64Array(l.units);
    const buf = unitScratch(l);
    let clippedUnits = 0;
    for (let u = 0; u < l.units; u++) {
      loadUnit(g, l, u, buf, one);
      const gn = Math.sqrt(sumSquares(one));
      if (!Number.isFinite(gn)) bad += countNonFinite(one);
      const m = clipping * Math.max(paramNorms[u]!, o.eps);
      gradNorms[u] = gn;
      maxNorms[u] = m;
      // Keep when gn < m; NaN norms take the clip branch (NaN), as jnp.where(g < m, g, clipped).
      if (gn < m) continue;
      clippedUnits++;
      const s = m / Math.max(gn, o.divEps);
      if (s === 1) continue;
      scaleInPlace(one, s);
      if (buf !== null) storeUnit(g, l, u, buf);
    }
    tensors[index] = { unitShape: l.unitShape, paramNorms, gradNorms, maxNorms, numClipped: clippedUnits };
    total += clippedUnits;
  }
  return { name: "clipGradAgc", clipped: total > 0, numClipped: total, nonFiniteCount: bad, skipped: false, threshold: clipping, detail: { tensors } };
}

/**
 * Validates AGC options and fills the defaults (`eps` 1e-3, `divEps` 1e-6, `unitAxis` 0, every
 * parameter included).
 *
 * @throws {RangeError} for negative epsilons; {TypeError} for NaN, a bad `unitAxis` or a
 * non-function `include`.
 * @example
 * ```ts
 * resolveAgcOptions("clipGradAgc", {}); // { eps: 1e-3, divEps: 1e-6, unitAxis: 0, include: null }
 * ```
 */
export function resolveAgcOptions(op: string, opts: AgcOptions): ResolvedAgcOptions {
  if (opts === null || typeof opts !== "object") throw new TypeError(`${op}: options must be an object (got ${fmtValue(opts)})`);
  const unitAxis = opts.unitAxis === undefined ? 0 : opts.unitAxis;
  if (unitAxis !== null && typeof unitAxis !== "function" && !Number.isInteger(unitAxis)) {
    throw new TypeError(`${op}: unitAxis must be an integer, null or a function (got ${fmtValue(unitAxis)})`);
  }
  if (opts.include !== undefined && typeof opts.include !== "function") throw new TypeError(`${op}: include must be a function (got ${fmtValue(opts.include)})`);
  return {
    eps: checkNonNegative(op, "eps", opts.eps ?? 1e-3),
    divEps: checkNonNegative(op, "divEps", opts.divEps ?? 1e-6),
    unitAxis,
    include: opts.include ?? null,
  };
}

/**
 * Adaptive gradient clipping in place (see the file comment for the rule and the weight layout).
 * Parameters without gradients are skipped. Returns a {@link ClipResult} whose `numClipped`
 * counts the *units* rescaled, with `threshold` = `clipping` and per-tensor unit norms and clip
 * counts in `detail.tensors` (aligned with `params`).
 *
 * @throws {RangeError} for a negative `clipping` or epsilon, or a unit axis outside a parameter's
 * shape; {TypeError} for gradient tensors passed instead of parameters.
 * @example
 * ```ts
 * // Linear weight [out, in]: one norm per output row.
 * const r = clipGradAgc([fc1.weight, fc1.bias], 0.01);
 * r.detail!.tensors[0]!.numClipped; // rows that were rescaled
 * clipGradAgc([kernelIO], 0.01, { unitAxis: -1 }); // JAX/Keras [in, out] layout
 * ```
 */
export function clipGradAgc(params: Var | Iterable<Var | null | undefined>, clipping: number, opts: AgcOptions = {}): ClipResultWith<"threshold" | "detail", AgcDetail> {
  const op = "clipGradAgc";
  const c = checkRange(op, "clipping", clipping, 0, Infinity);
  const o = resolveAgcOptions(op, opts);
  const list = params instanceof Var ? [params] : Array.from(params ?? []);
  return agcBatch(op, gatherGrads(op, list), c, o, list.length);
}

/**
 * {@link clipGradAgc} as an optimizer stage (Optax `adaptive_grad_clip`): the same arguments
 * minus `params`; `clipping` may be a schedule `(step) => λ`, and `include` selects the
 * parameters to clip (the AGC paper leaves the final classifier layer out). Named
 * `"clipGradAgc"`; `detail.tensors` is aligned with the optimizer's flat parameter list.
 *
 * @throws {RangeError} for a negative `clipping` (at construction, or at the step for a
 * schedule); {TypeError} for bad options.
 * @example
 * ```ts
 * new SGD(params, { lr: 0.1, momentum: 0.9, clip: clipGradAgc.transform(0.01, { include: (p) => p.name !== "head.weight" }) });
 * ```
 */
clipGradAgc.transform = function transform(clipping: Scheduled<number>, opts: AgcOptions = {}): GradTransform<AgcDetail> {
  const op = "clipGradAgc.transform";
  const clippingAt = checkedSchedule(op, "clipping", clipping, (v) => checkRange(op, "clipping", v, 0, Infinity));
  const o = resolveAgcOptions(op, opts);
  return {
    name: "clipGradAgc",
    apply(batch: GradBatch): ClipResultWith<"threshold" | "detail", AgcDetail> {
      const c = clippingAt(batch.step);
      const length = batch.indices.length === 0 ? 0 : batch.indices[batch.indices.length - 1]! + 1;
      return agcBatch(op, batch, c, o, length);
    },
  };
};
