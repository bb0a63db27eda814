/**
 * @file Mini-batch iteration over in-memory datasets with seeded shuffling.
 */
import { Rng, ShapeError, Tensor, defaultRng, indexSelect, type RngState } from "@tapegrad/tensor";

/** One mini-batch: the rows of `x` (and `y`) at `indices`. */
export interface Batch {
  x: Tensor;
  /** Labels as integers (Int32Array) or rows of a target tensor; null when there are none. */
  y: Int32Array | Tensor | null;
  indices: Int32Array;
}

/**
 * Where a {@link DataLoader} is in its stream (for checkpoints): the generator's state at the
 * start of the current epoch (or now, between epochs) and the number of batches already given
 * out in that epoch.
 */
export interface LoaderState {
  rng: RngState;
  position: number;
}

/** Options of {@link DataLoader}. */
export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle at the start of every epoch (default true). */
  shuffle?: boolean;
  /** Drop a last incomplete batch (default false). */
  dropLast?: boolean;
  rng?: Rng;
}

/**
 * Iterates mini-batches over `x` (first axis = samples) and optional targets `y` (an Int32Array
 * of labels, or a tensor with the same first axis). Each `for…of` is one epoch; with `shuffle`, a
 * new seeded permutation is drawn every epoch, so runs are reproducible.
 *
 * @throws {ShapeError} when `x` and `y` disagree on the number of samples; {RangeError} for a bad
 * batch size.
 * @example
 * ```ts
 * const loader = new DataLoader(images, labels, { batchSize: 128, rng: new Rng(0) });
 * for (const { x, y } of loader) { ... }
 * ```
 */
export class DataLoader implements Iterable<Batch> {
  readonly size: number;
  private readonly rng: Rng;
  /** The generator's state before the current epoch's shuffle (null between epochs). */
  private epochStart: RngState | null = null;
  /** Batches given out in the current epoch. */
  private given = 0;
  /** Batches the next epoch skips (set by `loadStateDict` to resume mid-epoch). */
  private resumeAt = 0;
  constructor(readonly x: Tensor, readonly y: Int32Array | Tensor | null, readonly opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) throw new RangeError(`DataLoader: batchSize must be a positive integer (got ${opts.batchSize})`);
    if (!(x instanceof Tensor)) throw new TypeError(`DataLoader: x must be a Tensor (got ${x === null ? "null" : typeof x})`);
    if (x.ndim === 0) throw new ShapeError("DataLoader", "x needs a sample axis", [x.shape]);
    this.size = x.shape[0]!;
    const ny = y === null ? this.size : y instanceof Tensor ? y.shape[0] : y.length;
    if (ny !== this.size) throw new ShapeError("DataLoader", `x has ${this.size} samples but y has ${ny}`, [x.shape, y instanceof Tensor ? y.shape : [ny ?? 0]]);
    this.rng = opts.rng ?? defaultRng;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const b = this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(this.size / b) : Math.ceil(this.size / b);
  }

  /**
   * One epoch of mini-batches (reshuffled first when `shuffle` is on).
   *
   * @throws {Error} when `x` or a target tensor `y` was released by `dispose()`.
   * @example
   * ```ts
   * for (const { x, y } of loader) { const loss = crossEntropy(model.forward(constant(x)), y!); }
   * ```
   */
  *[Symbol.iterator](): Iterator<Batch> {
    const start = this.rng.getState();
    let skip = this.resumeAt;
    this.resumeAt = 0;
    this.epochStart = start;
    this.given = skip;
    const order = new Int32Array(this.size);
    for (let i = 0; i < this.size; i++) order[i] = i;
    if (this.opts.shuffle ?? true) this.rng.shuffle(order);
    const b = this.opts.batchSize;
    for (let start = 0; start < this.size; start += b) {
      const end = Math.min(start + b, this.size);
      if (end - start < b && this.opts.dropLast) break;
      if (skip > 0) {
        skip--;
        continue;
      }
      const indices = order.slice(start, end);
      const x = indexSelect(this.x, 0, indices);
      let y: Int32Array | Tensor | null = null;
      if (this.y instanceof Tensor) y = indexSelect(this.y, 0, indices);
      else if (this.y !== null) {
        const labels = new Int32Array(indices.length);
        for (let i = 0; i < indices.length; i++) labels[i] = this.y[indices[i]!]!;
        y = labels;
      }
      this.given++;
      yield { x, y, indices };
    }
    this.epochStart = null;
    this.given = 0;
  }

  /**
   * Where the loader is (see {@link LoaderState}), so that a resumed run gives the same batches:
   * mid-epoch, the generator's state before that epoch's shuffle and the batches given out. For
   * an exact resume the loader should own its `rng` (a generator shared with other consumers is
   * rewound with it).
   *
   * @throws never.
   * @example
   * ```ts
   * const saved = loader.stateDict(); // { rng: {...}, position: 17 }
   * ```
   */
  stateDict(): LoaderState {
    // an epoch whose last batch was given out (even if the loop was left there) is finished
    const between = this.epochStart === null || this.given >= this.length;
    return between ? { rng: this.rng.getState(), position: 0 } : { rng: this.epochStart!, position: this.given };
  }

  /**
   * Restores a position saved by {@link stateDict}: the next `for…of` reshuffles exactly as the
   * saved epoch did and starts after its first `position` batches.
   *
   * @throws {TypeError} for a bad generator state (from `Rng.setState`); {RangeError} for a
   * position that is not an integer in [0, batches per epoch].
   * @example
   * ```ts
   * loader.loadStateDict(saved);
   * for (const batch of loader) { ... } // continues the saved epoch
   * ```
   */
  loadStateDict(state: LoaderState): void {
    const p = state?.position;
    if (!Number.isInteger(p) || p < 0 || p > this.length) throw new RangeError(`DataLoader.loadStateDict: position must be an integer in [0, ${this.length}] (got ${String(p)})`);
    this.rng.setState(state.rng);
    this.resumeAt = p;
    this.epochStart = null;
    this.given = 0;
  }
}
