/**
 * @file `DPOptimizer`: one DP-SGD step around any optimizer (Opacus' `DPOptimizer` and
 * `DPPerLayerOptimizer`): per-sample gradients of the batch's loss, per-example clipping and
 * summing, Gaussian noise of std `σ·C`, division by the expected (or actual) batch size, the
 * wrapped optimizer's update, and the accountant's step, with the ε spent in the step's telemetry.
 */
import { Rng, Tensor } from "@tapegrad/tensor";
import { type Var, gradients, perSampleGrads } from "@tapegrad/autograd";
import type { Optimizer, StepStats } from "@tapegrad/optim";
import { checkMaxGradNorm, clipAndAccumulate, type PerExampleGrad } from "./clip.js";
import { addNoise } from "./noise.js";
import { divideInPlace, gradDivisor } from "./scale.js";
import { RDPAccountant } from "./accountant.js";
import { checkDelta, checkNoiseMultiplier, checkPositiveSampleRate } from "./validate.js";

/** Options of {@link DPOptimizer}. */
export interface DPOptimizerOptions {
  /** σ ≥ 0: the noise's std is `σ·C` on the sum of clipped gradients. */
  readonly noiseMultiplier: number;
  /** C > 0 (flat clipping), or one C_p per parameter of the optimizer, in order (per-layer). */
  readonly maxGradNorm: number | readonly number[];
  /** Poisson sampling rate q in (0, 1] (for the accountant). */
  readonly sampleRate: number;
  /** `E = int(N·q)`: the divisor of a mean-reduced loss under Poisson sampling (Opacus). */
  readonly expectedBatchSize?: number;
  /** The reduction of the loss the closure returns (default `"mean"`). */
  readonly lossReduction?: "mean" | "sum";
  /** Divide by the expected (default when `expectedBatchSize` is given) or the actual batch size. */
  readonly divisor?: "expected" | "actual";
  /**
   * Opacus' `accumulated_iterations`: the number of batches whose clipped sums one step stands for
   * (the divisor is multiplied by it). Default 1.
   */
  readonly accumulatedIterations?: number;
  /** Seeded noise; exactly one of `rng` and `secureMode` when σ > 0. */
  readonly rng?: Rng;
  /** Noise from `crypto.getRandomValues` (Opacus' secure mode). */
  readonly secureMode?: boolean;
  /** δ for the ε reported in the step telemetry (omit: no ε computed per step). */
  readonly delta?: number;
  /** The accountant (default a new {@link RDPAccountant}). */
  readonly accountant?: RDPAccountant;
  /**
   * Allow micro-batches of one for parameters used by ops without a per-sample rule (default
   * true). Cost: B extra forward and backward passes of one sample each, per step.
   */
  readonly fallback?: boolean;
}

/**
 * The loss of samples `[start, end)` of the current batch (default all of it), reduced as the
 * optimizer's `lossReduction` says. The micro-batch fallback calls it once per sample.
 */
export type BatchLoss = (start?: number, end?: number) => Var;

/** What one private step did. */
export interface DPStepStats {
  /** 1-based step count. */
  readonly step: number;
  /** B, the batch's real size (random under Poisson sampling). */
  readonly batchSize: number;
  /** The batch's loss as the closure returned it (NaN for an empty mean-reduced batch). */
  readonly loss: number;
  /** Samples (flat) or sample-parameter pairs (per-layer) whose gradient was scaled down. */
  readonly numClipped: number;
  /** `numClipped` over its maximum (NaN for an empty batch). */
  readonly clipRate: number;
  /** Mean and largest per-sample gradient norm before clipping (flat: the whole norm). */
  readonly meanNorm: number;
  readonly maxNorm: number;
  /** Std of the noise added to the sum (`σ·C`, or `σ·‖C_p‖` per-layer). */
  readonly noiseStd: number;
  /** Parameters whose per-sample gradients came from micro-batches. */
  readonly fallbackParams: number;
  /** ε spent so far at `delta` (when the option was given). */
  readonly epsilon: number | null;
  readonly delta: number | null;
  /** The wrapped optimizer's telemetry of this step. */
  readonly optimizer: StepStats | null;
}

/**
 * DP-SGD around an optimizer: `step(batchSize, loss)` replaces `loss.backward(); opt.step()`.
 * The gradients the wrapped optimizer sees are the private ones (its own clipping, if any, is
 * post-processing and keeps the guarantee).
 *
 * @example
 * ```ts
 * const dp = new DPOptimizer(new SGD(model.parameters(), { lr: 0.1 }), {
 *   noiseMultiplier: 1.1, maxGradNorm: 1, sampleRate: 256 / 60000, expectedBatchSize: 256, rng: new Rng(0), delta: 1e-5,
 * });
 * dp.step(idx.length, (s = 0, e = idx.length) => crossEntropy(model.forward(constant(rows(x, idx, s, e))), labels(idx, s, e)));
 * dp.lastStats?.epsilon;
 * ```
 * @throws {RangeError} for σ < 0, a C ≤ 0 (or the wrong number of per-layer thresholds), q
 * outside (0, 1], δ outside (0, 1), an unknown loss reduction or divisor, or a mean reduction
 * without the batch size it divides by; {TypeError} for an optimizer that is not one, or σ > 0
 * without exactly one of `rng` and `secureMode`.
 */
export class DPOptimizer {
  readonly optimizer: Optimizer;
  readonly accountant: RDPAccountant;
  readonly options: Readonly<DPOptimizerOptions>;
  /** Telemetry of the last step (null before the first). */
  lastStats: DPStepStats | null = null;
  private steps = 0;

  constructor(optimizer: Optimizer, options: DPOptimizerOptions) {
    if (optimizer === null || typeof optimizer !== "object" || typeof (optimizer as Partial<Optimizer>).flatParams !== "function" || typeof (optimizer as Partial<Optimizer>).step !== "function") {
      throw new TypeError(`DPOptimizer: optimizer must be an @tapegrad/optim Optimizer (got ${optimizer === null ? "null" : typeof optimizer})`);
    }
    if (options === null || typeof options !== "object") throw new TypeError(`DPOptimizer: options must be an object (got ${options === null ? "null" : typeof options})`);
    checkNoiseMultiplier("DPOptimizer", options.noiseMultiplier);
    checkPositiveSampleRate("DPOptimizer", options.sampleRate);
    if (options.delta !== undefined) checkDelta("DPOptimizer", options.delta);
    const n = optimizer.flatParams().length;
    if (typeof options.maxGradNorm !== "number" && options.maxGradNorm.length !== n) {
      throw new RangeError(`DPOptimizer: per-layer clipping needs one maxGradNorm per parameter: got ${options.maxGradNorm.length} for ${n} parameters`);
    }
    checkMaxGradNorm("DPOptimizer", options.maxGradNorm);
    const reduction = options.lossReduction ?? "mean";
    if (reduction !== "mean" && reduction !== "sum") throw new RangeError(`DPOptimizer: lossReduction must be "mean" or "sum" (got ${JSON.stringify(reduction)})`);
    if (options.divisor !== undefined && options.divisor !== "expected" && options.divisor !== "actual") throw new RangeError(`DPOptimizer: divisor must be "expected" or "actual" (got ${JSON.stringify(options.divisor)})`);
    const divisor = options.divisor ?? (options.expectedBatchSize !== undefined ? "expected" : "actual");
    if (reduction === "mean" && divisor === "expected") gradDivisor({ lossReduction: "mean", divisor, expectedBatchSize: options.expectedBatchSize, accumulatedIterations: options.accumulatedIterations });
    else gradDivisor({ lossReduction: "sum", accumulatedIterations: options.accumulatedIterations }); // checks accumulatedIterations
    if (options.noiseMultiplier > 0 && (options.rng === undefined) === (options.secureMode !== true)) {
      throw new TypeError("DPOptimizer: noiseMultiplier > 0 needs exactly one of rng and secureMode: true");
    }
    this.optimizer = optimizer;
    this.accountant = options.accountant ?? new RDPAccountant();
    this.options = { ...options, lossReduction: reduction, divisor };
  }

  /**
   * One private step on a batch of `batchSize` samples whose loss `loss()` returns; returns the
   * loss value. Sets every parameter's `.grad` to its private gradient, runs the wrapped
   * optimizer's step, records the step in the accountant and fills {@link lastStats}. An empty
   * batch (`batchSize` 0, possible under Poisson sampling) still adds noise and counts as a step.
   *
   * @throws {RangeError} for a bad `batchSize`, or `divisor: "actual"` with an empty batch;
   * {TypeError} when `loss` is not a function.
   * @throws {Error} when a parameter is used by an op without a per-sample rule and `fallback`
   * is false (naming the parameter and the op), or the graph mixes samples (BatchNorm).
   * @example
   * ```ts
   * dp.step(b, (s = 0, e = b) => crossEntropy(model.forward(constant(x.narrow(0, s, e - s))), y.subarray(s, e)));
   * ```
   */
  step(batchSize: number, loss: BatchLoss): number {
    if (!Number.isInteger(batchSize) || batchSize < 0) throw new RangeError(`DPOptimizer.step: batchSize must be a non-negative integer, got ${String(batchSize)}`);
    if (typeof loss !== "function") throw new TypeError(`DPOptimizer.step: loss must be a function (start, end) => Var giving the loss of samples [start, end) (got ${typeof loss})`);
    const o = this.options;
    const mean = o.lossReduction === "mean";
    const divisor = gradDivisor({ lossReduction: o.lossReduction!, divisor: o.divisor, expectedBatchSize: o.expectedBatchSize, actualBatchSize: batchSize, accumulatedIterations: o.accumulatedIterations });
    const params = this.optimizer.flatParams();
    const root = loss();
    const lossValue = root.value.item();
    const ps = perSampleGrads(root, params, { batchSize, seed: mean ? batchSize : 1 });
    const replaced = new Map<number, PerExampleGrad>();
    if (ps.unsupported.length > 0) {
      if (o.fallback === false) {
        const u = ps.unsupported[0]!;
        throw new Error(`DPOptimizer: parameter ${u.param} (${params[u.param]!.describe()}) is used by op "${u.op}" without a per-sample rule (${u.reason}) and the micro-batch fallback is disabled`);
      }
      const idx = [...new Set(ps.unsupported.map((u) => u.param))];
      for (const [p, g] of microBatchGrads(loss, idx.map((p) => params[p]!), batchSize)) replaced.set(idx[p]!, g);
    }
    const clip = clipAndAccumulate(ps, { maxGradNorm: o.maxGradNorm, replaced });
    const c = clip.kind === "flat" ? clip.maxGradNorm : clip.effectiveMaxGradNorm;
    const noisy = addNoise(clip.summed, { noiseMultiplier: o.noiseMultiplier, maxGradNorm: c, rng: o.noiseMultiplier > 0 ? o.rng : undefined, secure: o.secureMode === true && o.noiseMultiplier > 0 });
    params.forEach((p, i) => (p.grad = new Tensor(divideInPlace(noisy[i]!, divisor), p.shape)));
    this.optimizer.step();
    this.accountant.step({ noiseMultiplier: o.noiseMultiplier, sampleRate: o.sampleRate });
    this.steps++;
    this.lastStats = this.stats(batchSize, lossValue, clip, c, replaced.size);
    return lossValue;
  }

  /**
   * ε spent so far at `delta` (the accountant's `getEpsilon`).
   *
   * @throws {RangeError} for δ outside (0, 1).
   * @example
   * ```ts
   * dp.epsilon(1e-5);
   * ```
   */
  epsilon(delta: number): number {
    checkDelta("DPOptimizer.epsilon", delta);
    return this.accountant.getEpsilon(delta);
  }

  private stats(batch: number, loss: number, clip: ReturnType<typeof clipAndAccumulate>, c: number, fallbackParams: number): DPStepStats {
    let sum = 0, max = 0, numClipped: number, slots: number;
    if (clip.kind === "flat") {
      for (const n of clip.perSampleNorms) (sum += n), (max = Math.max(max, n));
      numClipped = clip.numClipped;
      slots = batch;
    } else {
      const P = clip.numClipped.length;
      for (let i = 0; i < batch; i++) {
        let s = 0;
        for (let p = 0; p < P; p++) s += clip.perParamNorms[i * P + p]! ** 2;
        sum += Math.sqrt(s);
        max = Math.max(max, Math.sqrt(s));
      }
      numClipped = clip.numClipped.reduce((a, b) => a + b, 0);
      slots = batch * P;
    }
    const delta = this.options.delta ?? null;
    return {
      step: this.steps, batchSize: batch, loss, numClipped, clipRate: slots === 0 ? NaN : numClipped / slots,
      meanNorm: batch === 0 ? NaN : sum / batch, maxNorm: max, noiseStd: this.options.noiseMultiplier * c, fallbackParams,
      epsilon: delta === null ? null : this.accountant.getEpsilon(delta), delta, optimizer: this.optimizer.lastStats ?? null,
    };
  }
}

/**
 * Per-sample gradients of `params` by micro-batches of one: `B` forward and backward passes of
 * `loss(i, i + 1)` (a one-sample loss is the same under mean and sum reductions).
 */
function microBatchGrads(loss: BatchLoss, params: readonly Var[], batch: number): Map<number, PerExampleGrad> {
  const out = params.map((p) => ({ data: new Float32Array(batch * p.size), shape: [batch, ...p.shape] }));
  for (let i = 0; i < batch; i++) {
    const l = loss(i, i + 1);
    if (!l.requiresGrad) continue;
    const gs = gradients(l, params);
    gs.forEach((g, p) => out[p]!.data.set(g.toFloat32Array(), i * params[p]!.size));
  }
  return new Map(out.map((g, p) => [p, g]));
}
