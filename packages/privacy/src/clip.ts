/**
 * @file Per-example clipping and accumulation (Opacus `DPOptimizer.clip_and_accumulate` and
 * `DPPerLayerOptimizer`): each sample's gradient is scaled by `min(1, C / (norm + 1e-6))` and the
 * scaled gradients are summed over the batch, with float32 results as PyTorch computes them.
 */
import { PerSampleGrads } from "@tapegrad/autograd";

/**
 * Opacus' `+1e-6` in the clip factor `min(1, C / (norm + 1e-6))` (the same as `clip_grad_norm_`).
 *
 * @example
 * ```ts
 * CLIP_EPS; // 1e-6
 * ```
 * @throws never (a constant).
 */
export const CLIP_EPS = 1e-6;

/**
 * One parameter's per-example gradients: `data` is row-major `[B, *paramShape]` and `shape` is
 * that full shape (batch dimension first, so `B = 0` still carries the parameter's shape).
 */
export interface PerExampleGrad {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** Result of flat clipping (one threshold `C` for all parameters together). */
export interface FlatClipResult {
  readonly kind: "flat";
  /** `n_{i,p}`, row-major `[B, P]`. */
  readonly perParamNorms: Float32Array;
  /** `n_i = sqrt(sum_p n_{i,p}^2)`, `[B]`. */
  readonly perSampleNorms: Float32Array;
  /** `f_i = min(1, C / (n_i + 1e-6))`, `[B]`. */
  readonly clipFactors: Float32Array;
  /** Number of samples with `f_i < 1`. */
  readonly numClipped: number;
  /** `S_p = sum_i f_i g_{i,p}`, one array per parameter with the parameter's shape. */
  readonly summed: Float32Array[];
  /** The threshold `C` (the noise's `max_grad_norm`). */
  readonly maxGradNorm: number;
}

/** Result of per-layer clipping (one threshold `C_p` per parameter). */
export interface PerLayerClipResult {
  readonly kind: "per_layer";
  /** `n_{i,p}`, row-major `[B, P]`. */
  readonly perParamNorms: Float32Array;
  /** `f_{i,p} = min(1, C_p / (n_{i,p} + 1e-6))`, row-major `[B, P]`. */
  readonly clipFactors: Float32Array;
  /** Per parameter, the number of samples with `f_{i,p} < 1`. */
  readonly numClipped: number[];
  /** `S_p = sum_i f_{i,p} g_{i,p}`. */
  readonly summed: Float32Array[];
  /** `||(C_1..C_P)||_2` in float32 (`torch.norm(torch.Tensor(max_grad_norms))`): the noise's `max_grad_norm`. */
  readonly effectiveMaxGradNorm: number;
}

/** Options of {@link clipAndAccumulate}: a number selects flat clipping, a list per-layer clipping. */
export interface ClipOptions<C extends number | readonly number[] = number | readonly number[]> {
  readonly maxGradNorm: C;
  /**
   * With a {@link PerSampleGrads}: per-sample gradients (`[B, *shape]`) of the parameters it lists
   * as unsupported, computed another way (micro-batches), by parameter index.
   */
  readonly replaced?: ReadonlyMap<number, PerExampleGrad>;
}

const f32 = Math.fround;

/**
 * Clips every sample's gradient and sums the clipped gradients over the batch (DP-SGD steps
 * 1-2 after the per-example gradients). A number `maxGradNorm` clips all parameters together
 * (flat); a list clips each parameter with its own threshold (per-layer). `B = 0` (an empty
 * Poisson batch) gives all-zero sums. Inputs are not modified. The gradients are either
 * materialised `[B, *shape]` arrays or a {@link PerSampleGrads} from autograd's per-sample
 * backward, whose norms come from the rules' ghost norms and whose sums are GEMMs on scaled row
 * gradients, so no `[B, *shape]` tensor is built for a `Linear` layer.
 *
 * @example
 * ```ts
 * const g = { data: new Float32Array([3, 4, 0.3, 0.4]), shape: [2, 2] }; // B = 2, param [2]
 * const r = clipAndAccumulate([g], { maxGradNorm: 1 });
 * r.perSampleNorms; // Float32Array [5, 0.5]
 * r.numClipped;     // 1
 * r.summed[0];      // ≈ [0.9, 1.2]
 * const l = clipAndAccumulate([g, g], { maxGradNorm: [1, 2] });
 * l.effectiveMaxGradNorm; // ≈ 2.236068
 * const ps = perSampleGrads(loss, params, { batchSize: 64 });
 * clipAndAccumulate(ps, { maxGradNorm: 1 }).summed; // one Float32Array per parameter
 * ```
 * @throws {RangeError} `clipAndAccumulate: ...` when a threshold is not a finite number > 0, the
 * list of thresholds does not have one entry per parameter, a shape is empty or has a negative or
 * non-integer dimension, a `data` length differs from the product of its `shape`, or the
 * parameters' batch sizes differ (the message names the parameter index and the values), or
 * a `replaced` gradient has the wrong shape.
 * @throws {Error} from `PerSampleGrads` when a parameter has a use no rule covers and no
 * `replaced` gradient.
 */
export function clipAndAccumulate(grads: readonly PerExampleGrad[] | PerSampleGrads, options: ClipOptions<number>): FlatClipResult;
export function clipAndAccumulate(grads: readonly PerExampleGrad[] | PerSampleGrads, options: ClipOptions<readonly number[]>): PerLayerClipResult;
export function clipAndAccumulate(grads: readonly PerExampleGrad[] | PerSampleGrads, options: ClipOptions): FlatClipResult | PerLayerClipResult;
export function clipAndAccumulate(grads: readonly PerExampleGrad[] | PerSampleGrads, options: ClipOptions): FlatClipResult | PerLayerClipResult {
  const thresholds = checkMaxGradNorm("clipAndAccumulate", options.maxGradNorm);
  const source = grads instanceof PerSampleGrads ? perSampleSource(grads, options.replaced) : materializedSource(grads);
  if (typeof options.maxGradNorm !== "number" && thresholds.length !== source.P) {
    throw new RangeError(`clipAndAccumulate: per-layer clipping needs one maxGradNorm per parameter: got ${thresholds.length} thresholds for ${source.P} parameters`);
  }
  return typeof options.maxGradNorm === "number" ? clipFlat(source, thresholds[0]!) : clipPerLayer(source, thresholds);
}

/**
 * The clipping thresholds as a list (one for flat clipping), each checked to be a finite number
 * > 0. Internal: `clipAndAccumulate` and `DPOptimizer`'s constructor (which checks before the
 * first step) share it; each checks the count against its own parameters.
 *
 * @throws {RangeError} `<fn>: maxGradNorm… must be a finite number > 0, got …`.
 * @example
 * ```ts
 * checkMaxGradNorm("DPOptimizer", [1, 0.5]); // [1, 0.5]
 * ```
 */
export function checkMaxGradNorm(fn: string, c: number | readonly number[]): number[] {
  const perLayer = typeof c !== "number";
  const thresholds = perLayer ? Array.from(c) : [c];
  thresholds.forEach((v, p) => {
    if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
      throw new RangeError(`${fn}: ${perLayer ? `maxGradNorm[${p}]` : "maxGradNorm"} must be a finite number > 0, got ${String(v)}`);
    }
  });
  return thresholds;
}

/** What clipping needs of per-sample gradients, however they are held. */
interface GradSource {
  readonly batch: number;
  readonly P: number;
  /** `n_{i,p}` (float32), row-major `[B, P]`. */
  readonly perParamNorms: Float32Array;
  /** `Σ_i factors[i]·g_{i,p}`. */
  weightedSum(p: number, factors: Float32Array): Float32Array;
}

/** Materialised `[B, *shape]` gradients: norms and sums by direct loops. */
function materializedSource(grads: readonly PerExampleGrad[]): GradSource {
  const { batch, sizes } = checkShapes(grads);
  return {
    batch, P: grads.length, perParamNorms: paramNorms(grads, batch, sizes),
    weightedSum: (p, factors) => {
      const acc = new Float64Array(sizes[p]!);
      for (let i = 0; i < batch; i++) accumulate(acc, grads[p]!.data, i * acc.length, factors[i]!);
      return Float32Array.from(acc);
    },
  };
}

/** A per-sample backward's result: norms from the rules (ghost norms where they exist), sums as GEMMs. */
function perSampleSource(ps: PerSampleGrads, replaced: ReadonlyMap<number, PerExampleGrad> = new Map()): GradSource {
  const B = ps.batchSize, P = ps.params.length;
  const own = new Map<number, GradSource>();
  for (const [p, g] of replaced) {
    if (g.shape[0] !== B || g.data.length !== B * ps.params[p]!.size) {
      throw new RangeError(`clipAndAccumulate: replaced[${p}] must be [${B}, ${ps.params[p]!.shape.join(", ")}], got [${g.shape.join(", ")}]`);
    }
    own.set(p, materializedSource([g]));
  }
  const perParamNorms = new Float32Array(B * P);
  for (let p = 0; p < P; p++) {
    const r = own.get(p);
    if (r) for (let i = 0; i < B; i++) perParamNorms[i * P + p] = r.perParamNorms[i]!;
    else {
      const n2 = ps.normsSquared(p);
      for (let i = 0; i < B; i++) perParamNorms[i * P + p] = Math.sqrt(n2[i]!);
    }
  }
  return { batch: B, P, perParamNorms, weightedSum: (p, factors) => own.get(p)?.weightedSum(0, factors) ?? ps.weightedSum(p, factors).data };
}

/** Validates the shapes; returns the common batch size and each parameter's per-sample size. */
function checkShapes(grads: readonly PerExampleGrad[]): { batch: number; sizes: number[] } {
  let batch = -1;
  const sizes: number[] = [];
  for (let p = 0; p < grads.length; p++) {
    const { data, shape } = grads[p]!;
    if (!(data instanceof Float32Array)) throw new RangeError(`clipAndAccumulate: grads[${p}].data must be a Float32Array`);
    if (shape.length === 0) throw new RangeError(`clipAndAccumulate: grads[${p}].shape must start with the batch dimension, got []`);
    let size = 1;
    for (let d = 0; d < shape.length; d++) {
      const n = shape[d]!;
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`clipAndAccumulate: grads[${p}].shape [${shape.join(", ")}] has a bad dimension ${n}`);
      if (d > 0) size *= n;
    }
    const b = shape[0]!;
    if (data.length !== b * size) {
      throw new RangeError(`clipAndAccumulate: grads[${p}].data has ${data.length} elements but shape [${shape.join(", ")}] needs ${b * size}`);
    }
    if (batch >= 0 && b !== batch) {
      throw new RangeError(`clipAndAccumulate: batch sizes differ: grads[0] has ${batch} samples, grads[${p}] has ${b}`);
    }
    batch = b;
    sizes.push(size);
  }
  return { batch: Math.max(batch, 0), sizes };
}

/** `n_{i,p}` as row-major `[B, P]`, accumulated in double and rounded to float32. */
function paramNorms(grads: readonly PerExampleGrad[], batch: number, sizes: number[]): Float32Array {
  const P = grads.length;
  const out = new Float32Array(batch * P);
  for (let p = 0; p < P; p++) {
    const data = grads[p]!.data;
    const size = sizes[p]!;
    for (let i = 0, off = 0; i < batch; i++, off += size) {
      let s = 0;
      for (let k = off, end = off + size; k < end; k++) {
        const v = data[k]!;
        s += v * v;
      }
      out[i * P + p] = Math.sqrt(s);
    }
  }
  return out;
}

/** `min(1, C / (n + 1e-6))` in float32 as torch: `(C / (n + 1e-6)).clamp(max=1.0)`. */
function clipFactor(c: number, n: number): number {
  const f = f32(f32(c) / f32(n + f32(CLIP_EPS)));
  return f < 1 ? f : 1;
}

/** Adds `factor * g_{i,p}` (float32 products) into a double accumulator. */
function accumulate(acc: Float64Array, data: Float32Array, off: number, factor: number): void {
  if (factor === 1) {
    for (let k = 0; k < acc.length; k++) acc[k] += data[off + k]!;
  } else {
    for (let k = 0; k < acc.length; k++) acc[k] += f32(factor * data[off + k]!);
  }
}

function clipFlat(src: GradSource, c: number): FlatClipResult {
  const { batch, P, perParamNorms } = src;
  const perSampleNorms = new Float32Array(batch);
  const clipFactors = new Float32Array(batch);
  let numClipped = 0;
  for (let i = 0; i < batch; i++) {
    let s = 0;
    for (let p = 0; p < P; p++) {
      const n = perParamNorms[i * P + p]!;
      s += n * n;
    }
    const n = f32(Math.sqrt(s));
    perSampleNorms[i] = n;
    const f = clipFactor(c, n);
    clipFactors[i] = f;
    if (f < 1) numClipped++;
  }
  const summed = Array.from({ length: P }, (_, p) => src.weightedSum(p, clipFactors));
  return { kind: "flat", perParamNorms, perSampleNorms, clipFactors, numClipped, summed, maxGradNorm: c };
}

function clipPerLayer(src: GradSource, thresholds: number[]): PerLayerClipResult {
  const { batch, P, perParamNorms } = src;
  const clipFactors = new Float32Array(batch * P);
  const numClipped = new Array<number>(P).fill(0);
  const column = new Float32Array(batch);
  const summed = thresholds.map((c, p) => {
    for (let i = 0; i < batch; i++) {
      const f = clipFactor(c, perParamNorms[i * P + p]!);
      clipFactors[i * P + p] = f;
      column[i] = f;
      if (f < 1) numClipped[p]!++;
    }
    return src.weightedSum(p, column);
  });
  let s = 0;
  for (const c of thresholds) {
    const v = f32(c);
    s += v * v;
  }
  return { kind: "per_layer", perParamNorms, clipFactors, numClipped, summed, effectiveMaxGradNorm: f32(Math.sqrt(s)) };
}
