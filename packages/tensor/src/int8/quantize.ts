/**
 * @file Activation quantization for int8 inference: float32 → quint8 exactly as torch's
 * `quantize_per_tensor` ({@link quantizeU8}) and the min/max of a float32 array that dynamic
 * quantization chooses its parameters from ({@link aminmaxF32}). With the wasm kernel set they run
 * as WebAssembly SIMD kernels (`wasm/quantize-u8.ts`); with any other set (e.g. `jsKernels`) as
 * the pure-TS kernels of `quantize-ts.ts`, which compile no WebAssembly. Both give the same bytes.
 */
import { kernels } from "../backend.js";
import { minMaxWasm, quantizeU8Wasm } from "../wasm/quantize-u8.js";
import { describeValue } from "./packed.js";
import { firstNonFinite, minMaxTs, quantizeU8Ts } from "./quantize-ts.js";

/** Shorter arrays use the pure-TS kernels (a wasm call and its staging cost more than they save). */
const WASM_MIN = 256;

/**
 * The result of {@link aminmaxF32}.
 *
 * @throws never (an interface).
 * @example
 * ```ts
 * const { min, max, firstNonFinite }: MinMaxResult = aminmaxF32(x);
 * ```
 */
export interface MinMaxResult {
  /** Smallest element (`Infinity` for an empty array; NaN when `firstNonFinite ≥ 0`; a zero is +0). */
  readonly min: number;
  /** Largest element (`−Infinity` for an empty array; NaN when `firstNonFinite ≥ 0`; a zero is +0). */
  readonly max: number;
  /** Index of the first NaN/±Infinity element, or −1 when every element is finite. */
  readonly firstNonFinite: number;
}

/**
 * Quantizes float32 activations to quint8 exactly as torch does (`quantize_per_tensor` on CPU):
 * `out[i] = clamp(zeroPoint + rne(fl32(x[i]·inv)), qmin, qmax)`, where `inv = fl32(1/scale)` is
 * computed by the caller (`Math.fround(1 / scale)` for a float32 `scale`) and `rne` rounds half
 * to even; huge values saturate. Returns the index of the first NaN/±Infinity input, or −1 when
 * all are finite: the caller decides how to fail (every byte is written either way, a NaN as
 * `qmin`, ±Infinity saturated, identically on every backend). `x` is not modified.
 *
 * @param x the float32 values.
 * @param inv the reciprocal of the scale, a positive finite float32 value.
 * @param zeroPoint an integer in `[qmin, qmax]`.
 * @param out receives the bytes; same length as `x` (overwritten).
 * @param qmin smallest quantized value, an integer in [0, 255] (default 0).
 * @param qmax largest quantized value, an integer in [qmin, 255] (default 255).
 * @returns the index of the first non-finite input, or −1.
 * @throws {TypeError} when `x` is not a `Float32Array` or `out` not a `Uint8Array`.
 * @throws {RangeError} for lengths that differ, an `inv` that is not a positive finite float32
 * value, a bad range or a zero point outside it.
 * @example
 * ```ts
 * const out = new Uint8Array(4);
 * quantizeU8(new Float32Array([0.125, 0.375, -1, 1e30]), 4, 3, out); // -1; out = [3, 5, 0, 255] (0.5 and 1.5 round to even)
 * ```
 */
export function quantizeU8(x: Float32Array, inv: number, zeroPoint: number, out: Uint8Array, qmin = 0, qmax = 255): number {
  const fn = "quantizeU8";
  if (!(x instanceof Float32Array)) throw new TypeError(`${fn}: x must be a Float32Array (got ${describeValue(x)})`);
  if (!(out instanceof Uint8Array)) throw new TypeError(`${fn}: out must be a Uint8Array (got ${describeValue(out)})`);
  if (out.length !== x.length) throw new RangeError(`${fn}: out has ${out.length} elements, expected ${x.length} (the length of x)`);
  if (typeof inv !== "number" || !(inv > 0) || inv === Infinity || Math.fround(inv) !== inv) {
    throw new RangeError(`${fn}: inv must be a positive finite float32 value, e.g. Math.fround(1 / scale) (got ${inv})`);
  }
  if (!Number.isInteger(qmin) || !Number.isInteger(qmax) || qmin < 0 || qmax > 255 || qmin > qmax) {
    throw new RangeError(`${fn}: qmin and qmax must be integers with 0 <= qmin <= qmax <= 255 (got ${qmin}, ${qmax})`);
  }
  if (!Number.isInteger(zeroPoint) || zeroPoint < qmin || zeroPoint > qmax) {
    throw new RangeError(`${fn}: zeroPoint must be an integer in [${qmin}, ${qmax}] (got ${zeroPoint})`);
  }
  return quantizeU8Unchecked(x, inv, zeroPoint, qmin, qmax, out);
}

/**
 * {@link quantizeU8} without argument checks (for callers that validated them).
 *
 * @throws never for valid arguments.
 * @example
 * ```ts
 * const bad = quantizeU8Unchecked(x, inv, zp, 0, 255, xq);
 * ```
 */
export function quantizeU8Unchecked(x: Float32Array, inv: number, zp: number, qmin: number, qmax: number, out: Uint8Array): number {
  const n = x.length;
  if (n >= WASM_MIN && kernels().name === "wasm") {
    const bad = quantizeU8Wasm(x, inv, zp, qmin, qmax, out);
    if (bad !== null) return bad ? firstNonFinite(x) : -1;
  }
  return quantizeU8Ts(x, n, inv, zp, qmin, qmax, out);
}

const mm = new Float64Array(2);

/**
 * The minimum and maximum of a float32 array in one pass (torch's `aminmax` over all elements),
 * for dynamic quantization, plus the index of the first NaN/±Infinity element (then `min` and
 * `max` are NaN: the caller decides how to fail). An empty array gives `Infinity`/`−Infinity`.
 * A zero result is reported as +0. `x` is not modified.
 *
 * @throws {TypeError} when `x` is not a `Float32Array`.
 * @example
 * ```ts
 * aminmaxF32(new Float32Array([2, -1, 5])); // { min: -1, max: 5, firstNonFinite: -1 }
 * aminmaxF32(new Float32Array([2, NaN])); // { min: NaN, max: NaN, firstNonFinite: 1 }
 * ```
 */
export function aminmaxF32(x: Float32Array): MinMaxResult {
  if (!(x instanceof Float32Array)) throw new TypeError(`aminmaxF32: x must be a Float32Array (got ${describeValue(x)})`);
  const n = x.length;
  let bad: number;
  const ran = n >= WASM_MIN && kernels().name === "wasm" ? minMaxWasm(x, mm) : null;
  if (ran === null) bad = minMaxTs(x, n, mm);
  else bad = ran ? firstNonFinite(x) : -1;
  if (bad >= 0) return { min: NaN, max: NaN, firstNonFinite: bad };
  return { min: mm[0]! + 0, max: mm[1]! + 0, firstNonFinite: -1 };
}
