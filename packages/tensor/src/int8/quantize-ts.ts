/**
 * @file The pure-TypeScript kernels of activation quantization (the `jsKernels` path; no
 * WebAssembly is compiled here): float32 → quint8 exactly as torch's `quantize_per_tensor`
 * (see {@link quantizeU8Ts}), the min/max of a float32 array for dynamic quantization, and the
 * slow scan for the first NaN/±Infinity that callers use to name the bad index.
 *
 * NOTE: the quantize step clamps in the float domain before rounding. `lo = qmin − zp` and
 * `hi = qmax − zp` are integers and round-half-even is monotone, so
 * `clamp(rne(v), lo, hi) = rne(clamp(v, lo, hi))`; the clamped value is in [−255, 255], so
 * `(v + 1.5·2⁵²) − 1.5·2⁵²` rounds it half to even in float64 (the ulp there is 1) and no
 * integer conversion can overflow. A NaN input lands on `qmin` (`lo < NaN` is false), as in the
 * wasm kernel's `f32x4.pmax(lo, v)`; ±Infinity saturates.
 */

/** 1.5·2⁵²: adding and subtracting it rounds a float64 of magnitude < 2⁵¹ to an integer, half to even. */
const RNE_MAGIC = 6755399441055744;

/**
 * Quantizes `n` floats of `src` into `dst`:
 * `dst[i] = clamp(zp + rne(fl32(src[i]·inv)), qmin, qmax)` (`inv` a float32 value), and returns
 * the index of the first NaN/±Infinity input, or −1. Every element is written either way (a NaN
 * gives `qmin`, ±Infinity saturates). Arguments are not validated.
 *
 * @throws never for valid arguments.
 * @example
 * ```ts
 * const out = new Uint8Array(3);
 * quantizeU8Ts(new Float32Array([0.125, -1, 300]), 3, 4, 3, 0, 255, out); // -1; out = [3, 0, 255]
 * ```
 */
export function quantizeU8Ts(src: Float32Array, n: number, inv: number, zp: number, qmin: number, qmax: number, dst: Uint8Array): number {
  const lo = qmin - zp, hi = qmax - zp, fr = Math.fround;
  let bad = -1;
  for (let i = 0; i < n; i++) {
    const x = src[i]!;
    if (x - x !== 0 && bad < 0) bad = i;
    let v = fr(x * inv);
    v = lo < v ? v : lo;
    v = v < hi ? v : hi;
    dst[i] = v + RNE_MAGIC - RNE_MAGIC + zp;
  }
  return bad;
}

/**
 * Min and max of `n` floats of `src` into `out[0]`, `out[1]` (`Infinity`, `−Infinity` when
 * `n = 0`); returns the index of the first NaN/±Infinity, or −1 (min/max are then not computed).
 *
 * @throws never for valid arguments.
 * @example
 * ```ts
 * const mm = new Float64Array(2);
 * minMaxTs(new Float32Array([2, -1, 5]), 3, mm); // -1; mm = [-1, 5]
 * ```
 */
export function minMaxTs(src: Float32Array, n: number, out: Float64Array): number {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    if (v - v !== 0) return i;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  out[0] = lo;
  out[1] = hi;
  return -1;
}

/**
 * The index of the first NaN/±Infinity of `src`, or −1 (the slow path after a fast kernel
 * reported a non-finite input).
 *
 * @throws never.
 * @example
 * ```ts
 * firstNonFinite(new Float32Array([1, NaN])); // 1
 * ```
 */
export function firstNonFinite(src: Float32Array): number {
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}
