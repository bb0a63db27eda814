/**
 * @file The int8 GEMM of quantized inference: quint8 activations times packed qint8 weights with
 * exact int32 accumulation ({@link gemmU8I8}), and the same with a fused float32 epilogue
 * (scale, bias, optional ReLU: {@link gemmU8I8Dequant}).
 *
 * Which kernel runs follows the active kernel set (`kernels()`): with the wasm set, the
 * WebAssembly SIMD kernel (`i32x4.dot_i16x8_s`, see `wasm/gemm-int8.ts`) on up to the set's
 * thread count; with any other set (e.g. `jsKernels`), the pure TypeScript kernel, which compiles
 * no WebAssembly. Both compute the same integers (and the same float32 bits in the epilogue).
 */
import { kernels } from "../backend.js";
import { gemmU8I8Wasm } from "../wasm/gemm-int8.js";
import { mainArena } from "../wasm/runtime.js";
import { numThreads } from "../wasm/threads/pool.js";
import { dequantInto, type Int8Epilogue } from "./dequant.js";
import { gemmU8I8Ts } from "./gemm-ts.js";
import { describeValue, PackedInt8, type PackedInt8Weights } from "./packed.js";

/** Checks the arguments shared by both entry points; returns the packed weights. */
function checkCommon(fn: string, x: Uint8Array, xZeroPoint: number, batch: number, w: PackedInt8Weights): PackedInt8 {
  if (!(x instanceof Uint8Array)) throw new TypeError(`${fn}: x must be a Uint8Array of quint8 activations (got ${describeValue(x)})`);
  if (!Number.isInteger(xZeroPoint) || xZeroPoint < 0 || xZeroPoint > 255) throw new RangeError(`${fn}: xZeroPoint must be an integer in [0, 255] (got ${xZeroPoint})`);
  if (!Number.isInteger(batch) || batch < 0) throw new RangeError(`${fn}: batch must be a non-negative integer (got ${batch})`);
  if (!(w instanceof PackedInt8)) throw new TypeError(`${fn}: w must be weights returned by packInt8Weights (got ${describeValue(w)})`);
  w.check(fn);
  if (x.length !== batch * w.inFeatures) {
    throw new RangeError(`${fn}: x has ${x.length} elements, expected batch·inFeatures = ${batch}·${w.inFeatures} = ${batch * w.inFeatures}`);
  }
  return w;
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
  const p = checkCommon(fn, x, xZeroPoint, batch, w);
  const n = p.outFeatures;
  if (!(scales instanceof Float32Array)) throw new TypeError(`${fn}: scales must be a Float32Array (got ${describeValue(scales)})`);
  if (scales.length !== n) throw new RangeError(`${fn}: scales has ${scales.length} elements, expected outFeatures = ${n}`);
  if (bias !== null) {
    if (!(bias instanceof Float32Array)) throw new TypeError(`${fn}: bias must be a Float32Array or null (got ${describeValue(bias)})`);
    if (bias.length !== n) throw new RangeError(`${fn}: bias has ${bias.length} elements, expected outFeatures = ${n}`);
  }
  if (typeof relu !== "boolean") throw new TypeError(`${fn}: relu must be a boolean (got ${describeValue(relu)})`);
  const res = outArray(fn, out, Float32Array, batch * n, batch, n);
  if (res.length > 0) run(x, xZeroPoint, batch, p, null, { scales, bias, relu, out: res });
  return res;
}
