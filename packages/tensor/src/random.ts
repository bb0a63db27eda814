/**
 * @file Seeded, platform-independent pseudo-random numbers.
 *
 * Generator: xoshiro128** (Blackman & Vigna) on four 32-bit words, seeded through splitmix32.
 * Everything uses 32-bit integer arithmetic (`Math.imul`, shifts) and IEEE-754 basic operations,
 * so the same seed gives the same numbers, bit for bit, in every JS engine and on every platform.
 *
 * - `random()`: uniform float in [0, 1) with 24 random bits, so every value is exactly a float32.
 * - `normal()`: standard normal by Marsaglia's polar method, using {@link portableLogUnit}.
 * - `int(lo, hi)`: unbiased uniform integer in [lo, hi) (rejection sampling).
 */
import { portableLogUnit } from "./math.js";

/** The state of an {@link Rng} (xoshiro128** words and the cached second normal sample). */
export interface RngState {
  readonly s: readonly [number, number, number, number];
  readonly spare: number | null;
}

/**
 * A seeded random number generator (xoshiro128**).
 *
 * @throws {TypeError} from the constructor (and `seed`) for a non-finite seed; {RangeError} from
 * `int` and `permutation` for bad arguments (see each method).
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.random(); // same value on every machine
 * const x = randn([2, 3], rng);
 * ```
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare = NaN;

  /**
   * @param seed any finite number; its integer part (up to 2^53) selects the stream.
   * @throws {TypeError} for a non-finite seed.
   * @example
   * ```ts
   * const a = new Rng(7), b = new Rng(7);
   * a.random() === b.random(); // true: same seed, same stream
   * ```
   */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /**
   * Restarts the stream from `seed`.
   *
   * @throws {TypeError} for a non-finite seed.
   * @example
   * ```ts
   * rng.seed(1); const a = rng.random(); rng.seed(1); rng.random() === a; // true
   * ```
   */
  seed(seed: number): void {
    if (typeof seed !== "number" || !Number.isFinite(seed)) throw new TypeError(`Rng: seed must be a finite number (got ${String(seed)})`);
    const t = Math.trunc(Math.abs(seed));
    let x = (t % 4294967296) >>> 0;
    const hi = Math.floor(t / 4294967296) >>> 0;
    x = (x ^ Math.imul(hi, 0x9e3779b9) ^ (seed < 0 ? 0x5bd1e995 : 0)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = NaN;
  }

  /**
   * The generator's complete state (for checkpoints): restoring it with {@link Rng.setState}
   * continues the exact same stream. A plain JSON-serialisable object.
   *
   * @throws never.
   * @example
   * ```ts
   * const saved = rng.getState(); const a = rng.normal();
   * rng.setState(saved); rng.normal() === a; // true
   * ```
   */
  getState(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: Number.isNaN(this.spare) ? null : this.spare };
  }

  /**
   * Restores a state saved by {@link Rng.getState}.
   *
   * @throws {TypeError} unless `state.s` holds four integers in [0, 2^32) that are not all 0 and
   * `state.spare` is a finite number or null.
   * @example
   * ```ts
   * other.setState(rng.getState()); // other now continues rng's stream
   * ```
   */
  setState(state: RngState): void {
    const s: unknown = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || s.some((v: unknown) => !Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) || s.every((v: unknown) => v === 0)) {
      throw new TypeError(`Rng.setState: state.s must be four integers in [0, 2^32), not all 0 (got ${JSON.stringify(s)})`);
    }
    const spare = state.spare;
    if (spare !== null && (typeof spare !== "number" || !Number.isFinite(spare))) throw new TypeError(`Rng.setState: state.spare must be a finite number or null (got ${String(spare)})`);
    [this.s0, this.s1, this.s2, this.s3] = (s as number[]).map((v) => v | 0) as [number, number, number, number];
    this.spare = spare === null ? NaN : spare;
  }

  /**
   * Next 32 random bits as an unsigned integer.
   *
   * @throws never.
   * @example
   * ```ts
   * new Rng(0).nextUint32(); // an integer in [0, 2^32)
   * ```
   */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Uniform float in [0, 1) with 24 random bits (exactly representable in float32).
   *
   * @throws never.
   * @example
   * ```ts
   * const u = rng.random(); // 0 <= u < 1
   * ```
   */
  random(): number {
    return (this.nextUint32() >>> 8) * 5.9604644775390625e-8;
  }

  /**
   * Fills `out` with the next `out.length` values of {@link Rng.random} (the same sequence as
   * calling it in a loop), with the generator's state in locals: several times faster for large
   * arrays (dropout masks, `rand`).
   *
   * @throws never.
   * @example
   * ```ts
   * const u = rng.fillUniform(new Float32Array(1024)); // 1024 floats in [0, 1)
   * ```
   */
  fillUniform(out: Float32Array): Float32Array {
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    for (let i = 0; i < out.length; i++) {
      const m = Math.imul(s1, 5);
      const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = (result >>> 8) * 5.9604644775390625e-8;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    return out;
  }

  /**
   * Standard normal sample (mean 0, variance 1).
   *
   * @throws never.
   * @example
   * ```ts
   * const z = rng.normal();
   * ```
   */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    for (;;) {
      const u = this.nextUint32() * 4.656612873077393e-10 - 1; // [-1, 1)
      const v = this.nextUint32() * 4.656612873077393e-10 - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * portableLogUnit(s)) / s);
      this.spare = v * f;
      return u * f;
    }
  }

  /**
   * Unbiased uniform integer in `[low, high)`.
   *
   * @throws {RangeError} unless `low < high` are integers with `high - low <= 2^32`.
   * @example
   * ```ts
   * rng.int(0, 10); // 0..9
   * ```
   */
  int(low: number, high: number): number {
    const range = high - low;
    if (!Number.isInteger(low) || !Number.isInteger(high) || range <= 0 || range > 4294967296) {
      throw new RangeError(`Rng.int: need integers low < high with high - low <= 2^32 (got ${low}, ${high})`);
    }
    if (range === 4294967296) return low + this.nextUint32();
    const limit = 4294967296 - (4294967296 % range);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return low + (r % range);
    }
  }

  /**
   * Shuffles `array` in place (Fisher–Yates) and returns it.
   *
   * @throws never for an array or typed array (an array-like whose `length` is not an integer
   * makes `int` throw `RangeError`).
   * @example
   * ```ts
   * rng.shuffle([1, 2, 3, 4]); // e.g. [3, 1, 4, 2]
   * ```
   */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /**
   * A random permutation of `0 .. n-1`.
   *
   * @throws {RangeError} (from `Int32Array`) for a negative or too large `n`; a fractional `n` is
   * truncated.
   * @example
   * ```ts
   * rng.permutation(5); // e.g. Int32Array [3, 0, 4, 1, 2]
   * ```
   */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Rng.permutation: n must be a non-negative integer (got ${String(n)})`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /**
   * Fills `out` with `std`·N(0, 1) samples in bulk (DP-SGD's noise: hundreds of thousands per
   * step): the polar method on this generator's 32-bit stream, with the state in locals and a
   * division-free logarithm made of IEEE-exact operations, so every engine gives the same bits.
   * About 5× faster than {@link Rng.normal} in a loop; its own sequence (not `normal()`'s).
   *
   * @throws {RangeError} when `std` is not a finite number.
   * @example
   * ```ts
   * const noise = rng.fillNormal(new Float32Array(1 << 20), 0.5); // N(0, 0.25) each
   * ```
   */
  fillNormal(out: Float32Array, std = 1): Float32Array {
    if (typeof std !== "number" || !Number.isFinite(std)) throw new RangeError(`Rng.fillNormal: std must be a finite number (got ${String(std)})`);
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    const n = out.length;
    let i = 0;
    while (i < n) {
      let m = Math.imul(s1, 5);
      const a = Math.imul((m << 7) | (m >>> 25), 9) | 0;
      let t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      const b = Math.imul((m << 7) | (m >>> 25), 9) | 0;
      t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      const u = a * 4.656612873077393e-10, v = b * 4.656612873077393e-10; // signed int32 / 2^31: [-1, 1)
      const q = u * u + v * v;
      if (q >= 1 || q === 0) continue;
      const f = std * Math.sqrt((-2 * logUnit(q)) / q);
      out[i++] = u * f;
      if (i < n) out[i++] = v * f;
    }
    this.s0 = s0; this.s1 = s1; this.s2 = s2; this.s3 = s3;
    return out;
  }

  /**
   * An independent generator derived from this one's next outputs (for splitting streams).
   *
   * @throws never.
   * @example
   * ```ts
   * const child = rng.fork();
   * ```
   */
  fork(): Rng {
    return new Rng(this.nextUint32() * 2097152 + (this.nextUint32() >>> 11));
  }
}

/** Coefficients `2/(2j+1)` of `log m = Σ_j 2 s^(2j+1)/(2j+1)`, `s = (m−1)/(m+1)`, to j = 11. */
const LOG_COEF = Float64Array.from({ length: 12 }, (_, j) => 2 / (2 * j + 1));

/**
 * `log x` for `x` in (0, 1) from IEEE-exact operations only (range reduction by exact doubling,
 * then a 12-term atanh series by Horner: |s| < 0.1716, so the truncation is below 1e-19).
 */
function logUnit(x: number): number {
  let k = 0, m = x;
  while (m < 0.7071067811865476) {
    m *= 2;
    k--;
  }
  const s = (m - 1) / (m + 1), z = s * s;
  let p = LOG_COEF[11]!;
  for (let j = 10; j >= 0; j--) p = p * z + LOG_COEF[j]!;
  return k * 0.6931471805599453 + s * p;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The generator used when no `rng` is passed; reseed it with {@link manualSeed}.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * defaultRng.random(); // what `rand` and `randn` draw from by default
 * ```
 */
export const defaultRng: Rng = new Rng(0);

/**
 * Reseeds the default generator (like `torch.manual_seed`).
 *
 * @throws {TypeError} for a non-finite seed.
 * @example
 * ```ts
 * manualSeed(0); const a = randn([3]); manualSeed(0); const b = randn([3]); // a equals b
 * ```
 */
export function manualSeed(seed: number): void {
  if (typeof seed !== "number" || !Number.isFinite(seed)) throw new TypeError(`manualSeed: seed must be a finite number (got ${String(seed)})`);
  defaultRng.seed(seed);
}
