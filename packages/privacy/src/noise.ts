/**
 * @file Gaussian noise for DP-SGD (Opacus `DPOptimizer.add_noise` / `_generate_noise`): every
 * coordinate of the clipped sum gets `N(0, (sigma * C)^2)`, from a seeded {@link Rng} or, in secure
 * mode, from the platform's cryptographic generator.
 */
import type { Rng } from "@tapegrad/tensor";

/** Options of {@link addNoise}. */
export interface NoiseOptions {
  /** sigma >= 0; 0 adds exactly nothing. */
  readonly noiseMultiplier: number;
  /** C > 0 (for per-layer clipping, the `effectiveMaxGradNorm`). */
  readonly maxGradNorm: number;
  /** Seeded generator (reproducible noise, drawn with `rng.fillNormal`). Exactly one of `rng` and `secure` is required when sigma > 0. */
  readonly rng?: Rng;
  /**
   * Draw from `globalThis.crypto.getRandomValues` as Opacus' secure mode does: one discarded
   * sample, then four independent `N(0, std^2)` per coordinate, returning their sum / 2.
   */
  readonly secure?: boolean;
}

/** A source of standard normal samples. */
type NormalSource = () => number;

/**
 * Returns `summed[p] + N(0, (noiseMultiplier * maxGradNorm)^2)` per coordinate as new float32
 * arrays (the inputs are not modified). With `noiseMultiplier = 0` the result equals the input
 * exactly and no random numbers are drawn.
 *
 * @example
 * ```ts
 * import { Rng } from "@tapegrad/tensor";
 * const noisy = addNoise([new Float32Array(4)], { noiseMultiplier: 1.1, maxGradNorm: 0.5, rng: new Rng(0) });
 * // noisy[0]: 4 draws of N(0, 0.55^2)
 * addNoise([new Float32Array(4)], { noiseMultiplier: 1.1, maxGradNorm: 0.5, secure: true });
 * ```
 * @throws {RangeError} `addNoise: ...` when `noiseMultiplier` is negative or not finite, or
 * `maxGradNorm` is not a finite number > 0.
 * @throws {TypeError} `addNoise: ...` when sigma > 0 and neither or both of `rng` and `secure` are
 * given, or when secure mode is asked for and `globalThis.crypto.getRandomValues` is missing.
 */
export function addNoise(summed: readonly Float32Array[], options: NoiseOptions): Float32Array[] {
  const { noiseMultiplier: sigma, maxGradNorm: c, rng, secure = false } = options;
  if (typeof sigma !== "number" || !(sigma >= 0) || !Number.isFinite(sigma)) {
    throw new RangeError(`addNoise: noiseMultiplier must be a finite number >= 0, got ${String(sigma)}`);
  }
  if (typeof c !== "number" || !(c > 0) || !Number.isFinite(c)) {
    throw new RangeError(`addNoise: maxGradNorm must be a finite number > 0, got ${String(c)}`);
  }
  if (!Array.isArray(summed)) throw new TypeError(`addNoise: summed must be an array of Float32Arrays (got ${summed === null ? "null" : typeof summed})`);
  if (rng !== undefined && (rng === null || typeof (rng as { fillNormal?: unknown }).fillNormal !== "function")) throw new TypeError(`addNoise: rng must be an Rng (got ${rng === null ? "null" : typeof rng})`);
  const std = sigma * c;
  if (std === 0) return summed.map((s) => s.slice());
  if (secure && rng !== undefined) throw new TypeError("addNoise: pass either rng or secure: true, not both");
  if (!secure && rng === undefined) throw new TypeError("addNoise: noiseMultiplier > 0 needs an rng (or secure: true)");
  if (secure) {
    const normal = cryptoNormalSource();
    normal(); // Opacus' secure mode draws (and discards) one sample first
    return summed.map((s) => {
      const out = s.slice();
      for (let k = 0; k < out.length; k++) {
        let z = 0;
        for (let r = 0; r < 4; r++) z = Math.fround(z + Math.fround(std * normal()));
        out[k] = Math.fround(out[k]! + Math.fround(z / 2));
      }
      return out;
    });
  }
  const r = rng!;
  return summed.map((s) => {
    const out = r.fillNormal(new Float32Array(s.length), std); // std·z rounded to float32, in bulk
    for (let k = 0; k < out.length; k++) out[k] = Math.fround(s[k]! + out[k]!);
    return out;
  });
}

/**
 * Standard normals from `crypto.getRandomValues` (Box-Muller on 53-bit uniforms), buffered so
 * that no allocation happens per sample.
 */
function cryptoNormalSource(): NormalSource {
  const cr = (globalThis as { crypto?: { getRandomValues?: <T extends ArrayBufferView>(a: T) => T } }).crypto;
  if (!cr || typeof cr.getRandomValues !== "function") {
    throw new TypeError("addNoise: secure mode needs globalThis.crypto.getRandomValues");
  }
  const buf = new Uint32Array(4096); // getRandomValues allows at most 65536 bytes per call
  let pos = buf.length;
  let spare = NaN;
  const uniform = (): number => {
    // (0, 1]: 53 random bits, never 0 so that log is finite.
    if (pos + 2 > buf.length) {
      cr.getRandomValues!(buf);
      pos = 0;
    }
    const hi = buf[pos++]! >>> 5;
    const lo = buf[pos++]! >>> 6;
    return (hi * 67108864 + lo + 1) / 9007199254740992;
  };
  return () => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = NaN;
      return v;
    }
    const rad = Math.sqrt(-2 * Math.log(uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = rad * Math.sin(theta);
    return rad * Math.cos(theta);
  };
}
