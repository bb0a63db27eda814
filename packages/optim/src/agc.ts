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
 * The paper advises not to clip the final classifier layer: leave it out of `params` (or use the
 * transform's `include`).
 */
import { fmt } from "@tapegrad/tensor";
import { Var } from "@tapegrad/autograd";
import { checkNonNegative, checkRange, fmtValue } from "./errors.js";
import { describeParam, gatherGrads, type GradBatch } from "./params.js";

/** The axis that indexes units (negative counts from the end), or `null` for one unit per tensor. */
export type UnitAxis = number | null;

/** Options of {@link adaptiveGradClip}. */
export interface AgcOptions {
  /** Floor of the weight norm, so zero-initialised weights can still move (default 1e-3). */
  eps?: number;
  /** Floor of the gradient norm in the division (default 1e-6). */
  divEps?: number;
  /** Unit axis for `ndim >= 2` tensors (default 0, PyTorch layout), or a function per parameter. */
  unitAxis?: UnitAxis | ((param: Var, index: number) => UnitAxis);
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

/** What {@link adaptiveGradClip} did: stats aligned with the input list (`null` = no gradient). */
export interface AgcResult {
  tensors: (AgcTensorStats | null)[];
  /** Total number of rescaled units. */
  numClipped: number;
  /** True when any unit was rescaled. */
  clipped: boolean;
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

function unitNorms(a: Float32Array, l: UnitLayout): Float64Array {
  const out = new Float64Array(l.units);
  for (let o = 0; o < l.outer; o++) {
    for (let u = 0; u < l.units; u++) {
      const base = (o * l.units + u) * l.inner;
      let s = 0;
      for (let i = 0; i < l.inner; i++) {
        const x = a[base + i]!;
        s += x * x;
      }
      out[u] = out[u]! + s;
    }
  }
  for (let u = 0; u < l.units; u++) out[u] = Math.sqrt(out[u]!);
  return out;
}

/**
 * Frobenius norm of every unit of a tensor stored row-major with `shape` (float64). `unitShape`
 * is where the norms broadcast back to the tensor.
 *
 * @throws {RangeError} for a unit axis outside the shape.
 * @example
 * ```ts
 * unitwiseNorms(Float32Array.of(3, 4, 0, 1), [2, 2], 0); // norms [5, 1], unitShape [2, 1]
 * ```
 */
export function unitwiseNorms(data: Float32Array, shape: readonly number[], unitAxis: UnitAxis = 0): { norms: Float64Array; unitShape: number[] } {
  const l = unitLayout("unitwiseNorms", shape, unitAxis, `shape ${fmt(shape)}`);
  return { norms: unitNorms(data, l), unitShape: l.unitShape };
}

/**
 * AGC on a gathered batch (kernel of {@link adaptiveGradClip} and the `clipByAgc` transform).
 * `include` limits clipping to some parameters (the others get `null` stats).
 *
 * @throws {TypeError} for bare gradient tensors (AGC needs the parameter values).
 * @example
 * ```ts
 * agcBatch("op", gatherGrads("op", params), 0.01, { eps: 1e-3, divEps: 1e-6, unitAxis: 0 }, params.length);
 * ```
 */
export function agcBatch(op: string, batch: GradBatch, clipping: number, o: Required<AgcOptions>, listLength: number, include?: (p: Var, index: number) => boolean): AgcResult {
  const tensors: (AgcTensorStats | null)[] = new Array<AgcTensorStats | null>(listLength).fill(null);
  let total = 0;
  for (let k = 0; k < batch.grads.length; k++) {
    const p = batch.owners[k]!;
    const index = batch.indices[k]!;
    if (!(p instanceof Var)) throw new TypeError(`${op}: AGC needs parameter values; pass the parameter Vars, not gradient tensors (${describeParam(p, index)})`);
    if (include && !include(p, index)) continue;
    const w = batch.values[k];
    if (!w) throw new TypeError(`${op}: ${describeParam(p, index)} has a non-contiguous value`);
    const g = batch.grads[k]!;
    const axis = typeof o.unitAxis === "function" ? o.unitAxis(p, index) : o.unitAxis;
    const l = unitLayout(op, batch.shapes[k]!, axis, describeParam(p, index));
    const paramNorms = unitNorms(w, l);
    const gradNorms = unitNorms(g, l);
    const maxNorms = new Float64Array(l.units);
    const scale = new Float64Array(l.units);
    let clippedUnits = 0;
    for (let u = 0; u < l.units; u++) {
      const m = clipping * Math.max(paramNorms[u]!, o.eps);
      maxNorms[u] = m;
      const gn = gradNorms[u]!;
      // Keep when gn < m; NaN norms take the clip branch (NaN), as jnp.where(g < m, g, clipped).
      scale[u] = gn < m ? 1 : m / Math.max(gn, o.divEps);
      if (!(gn < m)) clippedUnits++;
    }
    if (clippedUnits > 0) {
      for (let a = 0; a < l.outer; a++) {
        for (let u = 0; u < l.units; u++) {
          const s = scale[u]!;
          if (s === 1) continue;
          const base = (a * l.units + u) * l.inner;
          for (let i = 0; i < l.inner; i++) g[base + i] = g[base + i]! * s;
        }
      }
    }
    tensors[index] = { unitShape: l.unitShape, paramNorms, gradNorms, maxNorms, numClipped: clippedUnits };
    total += clippedUnits;
  }
  return { tensors, numClipped: total, clipped: total > 0 };
}

/**
 * Validates AGC options and fills the defaults (`eps` 1e-3, `divEps` 1e-6, `unitAxis` 0).
 *
 * @throws {RangeError} for negative epsilons; {TypeError} for NaN or a bad `unitAxis`.
 * @example
 * ```ts
 * resolveAgcOptions("adaptiveGradClip", {}); // { eps: 1e-3, divEps: 1e-6, unitAxis: 0 }
 * ```
 */
export function resolveAgcOptions(op: string, opts: AgcOptions): Required<AgcOptions> {
  const unitAxis = opts.unitAxis === undefined ? 0 : opts.unitAxis;
  if (unitAxis !== null && typeof unitAxis !== "function" && !Number.isInteger(unitAxis)) {
    throw new TypeError(`${op}: unitAxis must be an integer, null or a function (got ${fmtValue(unitAxis)})`);
  }
  return { eps: checkNonNegative(op, "eps", opts.eps ?? 1e-3), divEps: checkNonNegative(op, "divEps", opts.divEps ?? 1e-6), unitAxis };
}

/**
 * Adaptive gradient clipping in place (see the file comment for the rule and the weight layout).
 * Parameters without gradients are skipped. Returns per-tensor unit norms and clip counts.
 *
 * @throws {RangeError} for a negative `clipping` or epsilon, or a unit axis outside a parameter's
 * shape; {TypeError} for gradient tensors passed instead of parameters.
 * @example
 * ```ts
 * // Linear weight [out, in]: one norm per output row.
 * const r = adaptiveGradClip([fc1.weight, fc1.bias], 0.01);
 * r.tensors[0]!.numClipped; // rows that were rescaled
 * adaptiveGradClip([kernelIO], 0.01, { unitAxis: -1 }); // JAX/Keras [in, out] layout
 * ```
 */
export function adaptiveGradClip(params: Var | Iterable<Var | null | undefined>, clipping: number, opts: AgcOptions = {}): AgcResult {
  const op = "adaptiveGradClip";
  const c = checkRange(op, "clipping", clipping, 0, Infinity);
  const o = resolveAgcOptions(op, opts);
  const list = params instanceof Var ? [params] : Array.from(params ?? []);
  return agcBatch(op, gatherGrads(op, list), c, o, list.length);
}
