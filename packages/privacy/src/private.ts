/**
 * @file `makePrivate`: the one-call setup of private training (Opacus' `PrivacyEngine.make_private`
 * and `make_private_with_epsilon`): checks the model has no layer that mixes samples, derives the
 * sampling rate and expected batch size from the data, calibrates σ for a target ε when asked, and
 * returns the private optimizer, the accountant and the Poisson batches of every epoch.
 */
import type { Rng } from "@tapegrad/tensor";
import { BatchNorm1d, BatchNorm2d, Module } from "@tapegrad/nn";
import type { Optimizer } from "@tapegrad/optim";
import { DPOptimizer } from "./optimizer.js";
import { RDPAccountant } from "./accountant.js";
import { getNoiseMultiplier } from "./calibrate.js";
import { expectedBatchSize, poissonBatches } from "./poisson.js";
import { checkDelta, checkPositiveSampleRate } from "./validate.js";

/** Options of {@link makePrivate}: σ directly, or a target ε with the epochs it must last. */
export interface MakePrivateOptions {
  /** The model (checked: BatchNorm layers mix the samples of a batch and are refused). */
  readonly module: Module;
  /** The optimizer over the model's parameters (its own clipping, if any, stays). */
  readonly optimizer: Optimizer;
  /** N, the number of training samples. */
  readonly datasetSize: number;
  /** The batch size of a non-private loader: `q = 1 / ceil(N / batchSize)` (Opacus). Or give `sampleRate`. */
  readonly batchSize?: number;
  /** q in (0, 1], instead of `batchSize`. */
  readonly sampleRate?: number;
  /** C (flat) or one C_p per parameter (per-layer). */
  readonly maxGradNorm: number | readonly number[];
  /** σ; or leave it out and give `targetEpsilon` (and `epochs`). */
  readonly noiseMultiplier?: number;
  /** ε to reach after `epochs` epochs (σ calibrated as `getNoiseMultiplier`). */
  readonly targetEpsilon?: number;
  /** δ in (0, 1) of the guarantee (and of the ε in the step telemetry). */
  readonly delta: number;
  /** Epochs of training (needed with `targetEpsilon`). */
  readonly epochs?: number;
  /** `"mean"` (default) or `"sum"`: the reduction of the loss the step's closure returns. */
  readonly lossReduction?: "mean" | "sum";
  /** Generator of the Poisson batches and (unless `secureMode`) the noise. */
  readonly rng: Rng;
  /** Noise from `crypto.getRandomValues`. */
  readonly secureMode?: boolean;
  /** Allow the micro-batch fallback for ops without a per-sample rule (default true). */
  readonly fallback?: boolean;
}

/** What {@link makePrivate} returns. */
export interface PrivateTraining {
  readonly optimizer: DPOptimizer;
  readonly accountant: RDPAccountant;
  readonly noiseMultiplier: number;
  readonly sampleRate: number;
  /** E = int(N·q). */
  readonly expectedBatchSize: number;
  /** Poisson steps per epoch (`round(1/q)` from a batch size, else `floor(1/q)`). */
  readonly stepsPerEpoch: number;
  readonly delta: number;
  /** One epoch of Poisson batches (sample indices; possibly empty). */
  epoch(): Generator<Int32Array, void, undefined>;
  /** ε spent so far at `delta`. */
  epsilon(): number;
}

/**
 * Makes a model's training private with Opacus' conventions. Train with
 * `for (const idx of priv.epoch()) priv.optimizer.step(idx.length, lossOf(idx))`.
 *
 * @example
 * ```ts
 * const priv = makePrivate({ module: model, optimizer: new SGD(model.parameters(), { lr: 2 }), datasetSize: 60000,
 *   batchSize: 256, maxGradNorm: 1, targetEpsilon: 3, delta: 1e-5, epochs: 10, rng: new Rng(0) });
 * for (let e = 0; e < 10; e++) {
 *   for (const idx of priv.epoch()) {
 *     priv.optimizer.step(idx.length, (s = 0, t = idx.length) => lossOf(idx.subarray(s, t)));
 *   }
 * }
 * priv.epsilon(); // ≤ 3
 * ```
 * @throws {RangeError} for δ outside (0, 1), q outside (0, 1], a bad N or batch size, neither or
 * both of `noiseMultiplier` and `targetEpsilon` (or a target without `epochs`), a target ε no σ
 * up to 1e6 reaches, or the errors of {@link DPOptimizer}.
 * @throws {TypeError} for options that are not an object, a module that is not a `Module`, or a
 * module containing BatchNorm (named by its path).
 */
export function makePrivate(options: MakePrivateOptions): PrivateTraining {
  if (options === null || typeof options !== "object") throw new TypeError(`makePrivate: options must be an object (got ${options === null ? "null" : typeof options})`);
  const { module, optimizer, datasetSize: n, delta, rng } = options;
  if (!(module instanceof Module)) throw new TypeError(`makePrivate: module must be an @tapegrad/nn Module (got ${module === null ? "null" : typeof module})`);
  checkDelta("makePrivate", delta);
  for (const [name, m] of module.namedModules()) {
    if (m instanceof BatchNorm1d || m instanceof BatchNorm2d) {
      throw new TypeError(`makePrivate: ${m.constructor.name} at "${name || "(root)"}" mixes the samples of a batch, so per-sample gradients are not defined; replace it with GroupNorm or LayerNorm (as Opacus' ModuleValidator does)`);
    }
  }
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`makePrivate: datasetSize must be a positive integer, got ${String(n)}`);
  let q: number, stepsPerEpoch: number;
  if ((options.batchSize === undefined) === (options.sampleRate === undefined)) throw new RangeError("makePrivate: give exactly one of batchSize and sampleRate");
  if (options.batchSize !== undefined) {
    const b = options.batchSize;
    if (!Number.isInteger(b) || b < 1 || b > n) throw new RangeError(`makePrivate: batchSize must be an integer in [1, ${n}], got ${String(b)}`);
    stepsPerEpoch = Math.ceil(n / b);
    q = 1 / stepsPerEpoch;
  } else {
    q = options.sampleRate!;
    checkPositiveSampleRate("makePrivate", q);
    stepsPerEpoch = Math.floor(1 / q);
  }
  let sigma: number;
  if ((options.noiseMultiplier === undefined) === (options.targetEpsilon === undefined)) throw new RangeError("makePrivate: give exactly one of noiseMultiplier and targetEpsilon");
  if (options.targetEpsilon !== undefined) {
    const epochs = options.epochs;
    if (epochs === undefined || !Number.isInteger(epochs) || epochs < 1) throw new RangeError(`makePrivate: targetEpsilon needs epochs (a positive integer), got ${String(epochs)}`);
    sigma = getNoiseMultiplier({ targetEpsilon: options.targetEpsilon, delta, sampleRate: q, steps: epochs * stepsPerEpoch });
  } else sigma = options.noiseMultiplier!;
  const accountant = new RDPAccountant();
  const E = expectedBatchSize(n, q);
  const dp = new DPOptimizer(optimizer, {
    noiseMultiplier: sigma, maxGradNorm: options.maxGradNorm, sampleRate: q, expectedBatchSize: Math.max(E, 1),
    lossReduction: options.lossReduction ?? "mean", rng: options.secureMode ? undefined : rng, secureMode: options.secureMode,
    delta, accountant, fallback: options.fallback,
  });
  return {
    optimizer: dp, accountant, noiseMultiplier: sigma, sampleRate: q, expectedBatchSize: E, stepsPerEpoch, delta,
    epoch: () => poissonBatches({ size: n, sampleRate: q, steps: stepsPerEpoch, rng }),
    epsilon: () => accountant.getEpsilon(delta),
  };
}
