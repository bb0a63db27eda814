/**
 * @file Poisson sampling of batches (Opacus `UniformWithReplacementSampler`): every example is in
 * a batch independently with probability q, so batch sizes are random (empty batches included)
 * and one epoch is `int(1 / q)` steps.
 */
import type { Rng } from "@tapegrad/tensor";

/** Options of {@link poissonBatches}: give exactly one of `steps` and `epochs`. */
export interface PoissonOptions {
  /** Dataset size N (a non-negative integer). */
  readonly size: number;
  /** Inclusion probability q in (0, 1]. */
  readonly sampleRate: number;
  /** Number of batches to draw. */
  readonly steps?: number;
  /** Number of epochs; each is `int(1 / q)` batches (as Opacus). */
  readonly epochs?: number;
  /** The generator (`rng.random() < q` decides each inclusion). */
  readonly rng: Rng;
}

function checkRate(fn: string, q: number): void {
  if (typeof q !== "number" || !(q > 0 && q <= 1)) throw new RangeError(`${fn}: sampleRate q must be in (0, 1], got ${String(q)}`);
}

function checkCount(fn: string, name: string, n: unknown): asserts n is number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: ${name} must be a non-negative integer, got ${String(n)}`);
}

/**
 * Opacus' expected batch size `E = int(N q)` (the divisor of a mean-reduced DP gradient).
 *
 * @example
 * ```ts
 * expectedBatchSize(60000, 256 / 60000); // 256
 * expectedBatchSize(1000, 0.008);        // 8
 * ```
 * @throws {RangeError} `expectedBatchSize: ...` when N is not a non-negative integer or q is not in (0, 1].
 */
export function expectedBatchSize(size: number, sampleRate: number): number {
  checkCount("expectedBatchSize", "size", size);
  checkRate("expectedBatchSize", sampleRate);
  return Math.floor(size * sampleRate);
}

/**
 * The number of batches {@link poissonBatches} yields for these options.
 *
 * @example
 * ```ts
 * poissonSteps({ size: 100, sampleRate: 0.1, epochs: 2, rng }); // 20
 * ```
 * @throws {RangeError} `poissonBatches: ...` as {@link poissonBatches}.
 */
export function poissonSteps(options: PoissonOptions): number {
  return stepsOf("poissonSteps", options);
}

/** {@link poissonSteps}, with the name its errors carry (`poissonSteps` or `poissonBatches`). */
function stepsOf(fn: string, options: PoissonOptions): number {
  const { size, sampleRate, steps, epochs } = options;
  checkCount(fn, "size", size);
  checkRate(fn, sampleRate);
  if ((steps === undefined) === (epochs === undefined)) throw new RangeError(`${fn}: give exactly one of steps and epochs`);
  if (steps !== undefined) {
    checkCount(fn, "steps", steps);
    return steps;
  }
  checkCount(fn, "epochs", epochs);
  return epochs * Math.floor(1 / sampleRate);
}

/**
 * Yields batches of example indices (ascending `Int32Array`s), each example included
 * independently with probability q; empty batches are yielded too (DP accounting counts them).
 * The options are checked when the function is called, before the first batch.
 *
 * @example
 * ```ts
 * import { Rng } from "@tapegrad/tensor";
 * for (const idx of poissonBatches({ size: 60000, sampleRate: 256 / 60000, epochs: 1, rng: new Rng(0) })) {
 *   // idx.length ≈ 256 on average
 * }
 * ```
 * @throws {RangeError} `poissonBatches: ...` when N is not a non-negative integer, q is not in
 * (0, 1], neither or both of `steps` and `epochs` are given, or the one given is not a
 * non-negative integer.
 */
export function poissonBatches(options: PoissonOptions): Generator<Int32Array, void, undefined> {
  const steps = stepsOf("poissonBatches", options);
  if (options.rng === null || typeof options.rng !== "object" || typeof (options.rng as { random?: unknown }).random !== "function") {
    throw new TypeError(`poissonBatches: rng must be an Rng (got ${options.rng === null ? "null" : typeof options.rng})`);
  }
  return generate(options.size, options.sampleRate, steps, options.rng);
}

function* generate(size: number, q: number, steps: number, rng: Rng): Generator<Int32Array, void, undefined> {
  const scratch = new Int32Array(size);
  for (let s = 0; s < steps; s++) {
    let n = 0;
    for (let i = 0; i < size; i++) if (rng.random() < q) scratch[n++] = i;
    yield scratch.slice(0, n);
  }
}
