/**
 * @file The int8 GEMM of quantized inference: quint8 activations times packed qint8 weights with
 * exact int32 accumulation ({@link gemmU8I8}), and the same with a fused float32 epilogue
 * (scale, bias, optional ReLU: {@link gemmU8I8Dequant}), and the same from float32 activations
 * quantized on the way ({@link gemmQuantU8I8Dequant}: no quint8 copy is made in JS).
 *
 * Which kernel runs follows the active kernel set (`kernels()`): with the wasm set, the
 * WebAssembly SIMD kernel (`i32x4.dot_i16x8_s`, see `wasm/gemm-int8.ts`) on up to the set's
 * thread count; with any other set (e.g. `jsKernels`), the pure TypeScript kernel, which compiles
 * no WebAssembly. Both compute the same integers (and the same float32 bits in the epilogue).
 */
import { kernels } from "../backend.js";
import { gemmU8I8Wasm, type Int8FloatInput } from "../wasm/gemm-int8.js";
import { mainArena } from "../wasm/runtime.js";
import { numThreads } from "../wasm/threads/pool.js";
import { dequantInto, type Int8Epilogue } from "./dequant.js";
import { gemmU8I8Ts } from "./gemm-ts.js";
import { describeValue, PackedInt8, type PackedInt8Weights } from "./packed.js";
import { quantizeU8Unchecked } from "./quantize.js";
import { firstNonFinite } from "./quantize-ts.js";

/** Checks the arguments shared by the entry points; returns the packed weights. */
function checkCommon(fn: string, x: Uint8Array | Float32Array, xZeroPoint: number, batch: number, w: PackedInt8Weights): PackedInt8 {
  if (!Number.isInteger(xZeroPoint) || xZeroPoint < 0 || xZeroPoint > 255) throw new RangeError(`${fn}: xZeroPoint must be an integer in [0, 255] (got ${xZeroPoint})`);
  if (!Number.isInteger(batch) || batch < 0) throw new RangeError(`${fn}: batch must be a non-negative integer (got ${batch})`);
  if (!(w instanceof PackedInt8)) throw new TypeError(`${fn}: w must be weights returned by packInt8Weights (got ${describeValue(w)})`);
  w.check(fn);
  if (x.length !== batch * w.inFeatures) {
    throw new RangeError(`${fn}: x has ${x.length} elements, expected batch·inFeatures = ${batch}·${w.inFeatures} = ${batch * w.inFeatures}`);
  }
  return w;
}

/** Checks that `x` holds quint8 activations. */
function checkBytes(fn: string, x: Uint8Array): void {
  if (!(x instanceof Uint8Array)) throw new TypeError(`${fn}: x must be a Uint8Array of quint8 activations (got ${describeValue(x)})`);
}

/** Checks the float epilogue's arguments for `n` output features. */
function checkEpilogue(fn: string, n: number, scales: Float32Array, bias: Float32Array | null, relu: boolean): void {
  if (!(scales instanceof Float32Array)) throw new TypeError(`${fn}: scales must be a Float32Array (got ${describeValue(scales)})`);
  if (scales.length !== n) throw new RangeError(`${fn}: scales has ${scales.length} elements, expected outFeatures = ${n}`);
  if (bias !== null) {
    if (!(bias instanceof Float32Array)) throw new TypeError(`${fn}: bias must be a Float32Array or null (got ${describeValue(bias)})`);
    if (bias.length !== n) throw new RangeError(`${fn}: bias has ${bias.length} elements, expected outFeatures = ${n}`);
  }
  if (typeof relu !== "boolean") throw new TypeError(`${fn}: relu must be a boolean (got ${describeValue(relu)})`);
}

/** Checks `out` (an array of `type` with `len` elements) or allocates it. */
function outArray<T extends Int32Array | Float32Array>(fn: string, out: T | undefined, make: new (n: number) => T, len: number, batch: number, n: number): T {
  if (out === undefined) return new make(len);
  if (!(out instanceof make)) throw new TypeError(`${fn}: out must be ${/^[AEIOU]/.test(make.name) ? "an" : "a"} ${make.name} (got ${describeValue(out)})`);
  if (out.length !== len) throw new RangeError(`${fn}: out has ${out.length} elements, expected batch·outFeatures = ${batch}·${n} = ${len}`);
  return out;
}

/** Runs the GEMM on the active backend: into `acc` (int32), then the epilogue into `ep.out` when given. */
function run(x: Uint8Array, zp: number, batch: number, w: PackedInt8, acc: Int32Array | null, ep: Int8Epilogue | null): void {
  const set = kernels();
  const arena = set.name === "wasm" ? mainArena() : undefined;
  if (arena && gemmU8I8Wasm(arena, set.threads ?? numThreads(), x, zp, batch, w, acc, ep)) return;
  const n = w.outFeatures;
  const ints = acc ?? scratchInts(batch * n);
  if (w.inFeatures === 0) ints.fill(0, 0, batch * n);
  else gemmU8I8Ts(x, zp, batch, w, w.data(), ints);
  if (ep) dequantInto(ints, 0, n, batch, n, ep);
}

/** The float input handed to the wasm kernel (reused; `x` is dropped after each call). */
const NO_FLOATS = new Float32Array(0);
const floatInput: Int8FloatInput = { x: NO_FLOATS, inv: 1, nonFinite: false };

/**
 * Quantizes `x` (float32) and runs the GEMM with the epilogue into `ep.out`; returns the first
 * non-finite input's index, or −1.
 */
function runQuantized(x: Float32Array, inv: number, zp: number, batch: number, w: PackedInt8, ep: Int8Epilogue): number {
  const set = kernels();
  const arena = set.name === "wasm" ? mainArena() : undefined;
  if (arena) {
    floatInput.x = x;
    floatInput.inv = inv;
    floatInput.nonFinite = false;
    try {
      if (gemmU8I8Wasm(arena, set.threads ?? numThreads(), floatInput, zp, batch, w, null, ep)) return floatInput.nonFinite ? firstNonFinite(x) : -1;
    } finally {
      floatInput.x = NO_FLOATS;
    }
  }
  if (bytes8.length < x.length) bytes8 = new Uint8Array(x.length);
  const xq = bytes8.length === x.length ? bytes8 : bytes8.subarray(0, x.length);
  const bad = quantizeU8Unchecked(x, inv, zp, 0, 255, xq);
  run(xq, zp, batch, w, null, ep);
  return bad;
}

/** Quint8 scratch of the fallback path of {@link gemmQuantU8I8Dequant}, reused. */
let bytes8 = new Uint8Array(0);

/** Int32 scratch of the TS path's epilogue, reused. */
let ints32 = new Int32Array(0);
function scratchInts(len: number): Int32Array {
  if (ints32.length < len) ints32 = new Int32Array(len);
  return ints32;
}

/**
 * Int8 GEMM with exact int32 accumulation (the integer core of a quantized `nn.Linear`):
 * `out[b·outF + o] = Σ_i (x[b·inF + i] − xZeroPoint)·w[o·inF + i]`, with `x` the row-major
 * `[batch, inF]` quint8 activations and `w` the `[outF, inF]` qint8 weights packed by
 * {@link packInt8Weights}. Exact for `inF` ≤ 65,793 whatever the values; beyond, sums wrap
 * modulo 2³² like int32. Runs in WebAssembly SIMD (on several threads for large products when
 * configured) with the wasm kernel set, in pure TypeScript otherwise; the same integers either way.
 * Inputs are not modified.
 *
 * @param out optional result, `batch·outF` int32 (overwritten).
 * @throws {TypeError} when `x` is not a `Uint8Array`, `w` does not come from `packInt8Weights`, or `out` is not an `Int32Array`.
 * @throws {RangeError} for a zero point outside [0, 255], a bad batch, or a length that does not match the shapes.
 * @throws {Error} when `w` was disposed.
 * @example
 * ```ts
 * const w = packInt8Weights(new Int8Array([1, 2, 3, -1, -2, -3]), 2, 3);
 * gemmU8I8(new Uint8Array([129, 130, 131]), 128, 1, w); // Int32Array [14, -14]
 * ```
 */
export function gemmU8I8(x: Uint8Array, xZeroPoint: number, batch: number, w: PackedInt8Weights, out?: Int32Array): Int32Array {
  checkBytes("gemmU8I8", x);
  const p = checkCommon("gemmU8I8", x, xZeroPoint, batch, w);
  const res = outArray("gemmU8I8", out, Int32Array, batch * p.outFeatures, batch, p.outFeatures);
  if (res.length > 0) run(x, xZeroPoint, batch, p, res, null);
  return res;
}

/**
 * {@link gemmU8I8} followed by the float32 dequantization of a quantized `nn.Linear`:
 * `out[b·outF + o] = fl32(fl32(acc·scales[o]) + bias[o])` (the product `acc·scales[o]` computed in
 * float64 and rounded once to float32; no bias term when `bias` is null), then `max(·, 0)` when
 * `relu`. `scales[o]` is typically `fl32(xScale·wScale[o])`. The int32 accumulators never leave
 * the kernel. Inputs are not modified.
 *
 * @param scales per output feature, `outF` float32 values.
 * @param bias per output feature, or null.
 * @param out optional result, `batch·outF` float32 (overwritten).
 * @param relu apply ReLU to the result (default false).
 * @throws {TypeError} for arrays of the wrong type or weights not from `packInt8Weights`.
 * @throws {RangeError} for a zero point outside [0, 255], a bad batch, or a length that does not match the shapes.
 * @throws {Error} when `w` was disposed.
 * @example
 * ```ts
 * const w = packInt8Weights(new Int8Array([1, 2, 3, -1, -2, -3]), 2, 3);
 * const y = gemmU8I8Dequant(new Uint8Array([129, 130, 131]), 128, 1, w, new Float32Array([0.5, 0.5]), new Float32Array([1, 1]), undefined, true);
 * // Float32Array [8, 0]
 * ```
 */
export function gemmU8I8Dequant(
  x: Uint8Array, xZeroPoint: number, batch: number, w: PackedInt8Weights, scales: Float32Array, bias: Float32Array | null,
  out?: Float32Array, relu = false,
): Float32Array {
  const fn = "gemmU8I8Dequant";
  checkBytes(fn, x);
  const p = checkCommon(fn, x, xZeroPoint, batch, w);
  const n = p.outFeatures;
  checkEpilogue(fn, n, scales, bias, relu);
  const res = outArray(fn, out, Float32Array, batch * n, batch, n);
  if (res.length > 0) run(x, xZeroPoint, batch, p, null, { scales, bias, relu, out: res });
  return res;
}

/**
 * {@link gemmU8I8Dequant} on float32 activations: quantizes `x` to quint8 exactly as
 * `quantizeU8` (`clamp(xZeroPoint + rne(fl32(x·inv)), 0, 255)` with `inv = fl32(1/fl32(xScale))`)
 * inside the kernel, then the int8 GEMM and the float32 epilogue into `out`:
 * `out[b·outF + o] = fl32(fl32(acc·scales[o]) + bias[o])`, then ReLU when `relu`. The same bits as
 * `quantizeU8` followed by `gemmU8I8Dequant`, on every backend; with the wasm kernel set the
 * quantization is a SIMD phase of the GEMM job (on its threads) and no quint8 copy is made in JS.
 * Returns the index of the first NaN/±Infinity in `x`, or −1: the caller decides how to fail
 * (`out` is computed either way, a NaN quantized as 0 and ±Infinity saturated). Inputs are not modified.
 *
 * @param x float32 activations `[batch, inF]`, row-major.
 * @param xScale the activations' quantization scale (a positive float32 with a finite reciprocal).
 * @param xZeroPoint their zero point, an integer in [0, 255].
 * @param scales per output feature, `outF` float32 values (typically `fl32(xScale·wScale[o])`).
 * @param bias per output feature, or null.
 * @param out the result, `batch·outF` float32 (overwritten).
 * @param relu apply ReLU to the result (default false).
 * @returns the index of the first non-finite element of `x`, or −1.
 * @throws {TypeError} for arrays of the wrong type or weights not from `packInt8Weights`.
 * @throws {RangeError} for a bad scale, a zero point outside [0, 255], a bad batch, or a length that does not match the shapes.
 * @throws {Error} when `w` was disposed.
 * @example
 * ```ts
 * const w = packInt8Weights(new Int8Array([1, 2, 3, -1, -2, -3]), 2, 3);
 * const y = new Float32Array(2);
 * gemmQuantU8I8Dequant(new Float32Array([0.5, 1, 1.5]), 0.5, 128, 1, w, new Float32Array([0.25, 0.25]), null, y); // -1
 * // y = [3.5, -3.5]: x quantizes to [129, 130, 131]
 * ```
 */
export function gemmQuantU8I8Dequant(
  x: Float32Array, xScale: number, xZeroPoint: number, batch: number, w: PackedInt8Weights, scales: Float32Array, bias: Float32Array | null,
  out: Float32Array, relu = false,
): number {
  const fn = "gemmQuantU8I8Dequant";
  if (!(x instanceof Float32Array)) throw new TypeError(`${fn}: x must be a Float32Array of float32 activations (got ${describeValue(x)})`);
  const s = Math.fround(xScale);
  if (typeof xScale !== "number" || !(s > 0) || s === Infinity || !Number.isFinite(Math.fround(1 / s))) {
    throw new RangeError(`${fn}: xScale must be a positive finite float32 number with a finite reciprocal (got ${xScale})`);
  }
  const p = checkCommon(fn, x, xZeroPoint, batch, w);
  const n = p.outFeatures;
  checkEpilogue(fn, n, scales, bias, relu);
  if (!(out instanceof Float32Array)) throw new TypeError(`${fn}: out must be a Float32Array (got ${describeValue(out)})`);
  const res = outArray(fn, out, Float32Array, batch * n, batch, n);
  const inv = Math.fround(1 / s);
  return res.length > 0 ? runQuantized(x, inv, xZeroPoint, batch, p, { scales, bias, relu, out: res }) : firstNonFinite(x);
}
