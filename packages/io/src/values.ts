/**
 * @file Values of a read tensor: `values` gives the exact typed array of its dtype
 * (`BigInt64Array` for I64, `Int8Array` for I8, …), `toFloat32`/`toTensor` convert any engine
 * dtype to float32 (the dtype stays on the {@link SafeTensor}). Bytes are decoded little-endian
 * through a DataView, so the result does not depend on the host's byte order.
 */
import { LITTLE_ENDIAN } from "./encode.js";
import { Tensor } from "@tapegrad/tensor";
import type { EngineDtype } from "./dtype.js";
import { bf16ToNumber, f16ToNumber } from "./float16.js";

/** The typed array {@link values} returns for each engine dtype. */
export interface DtypeArrays {
  F64: Float64Array;
  F32: Float32Array;
  F16: Float32Array;
  BF16: Float32Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}

/** The parts of a tensor the conversions need (a {@link SafeTensor} has them). */
export interface RawTensor {
  readonly name?: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** Throws unless `t` looks like a stored tensor: `{ dtype, shape, bytes: Uint8Array }`. */
function checkRaw(fn: string, t: unknown): void {
  const r = t as Partial<RawTensor> | null;
  if (r === null || typeof r !== "object" || !(r.bytes instanceof Uint8Array) || typeof r.dtype !== "string" || !Array.isArray(r.shape)) {
    throw new TypeError(`${fn}: expected a stored tensor {dtype, shape, bytes: Uint8Array} (e.g. one of readSafetensors(...).tensors) (got ${t === null ? "null" : typeof t})`);
  }
}

function view(t: RawTensor): DataView {
  return new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
}

function unsupported(fn: string, t: RawTensor): never {
  throw new TypeError(`${fn}: tensor ${JSON.stringify(t.name ?? "")} has dtype ${t.dtype}, which has no value conversion (engine dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL); its raw bytes are in .bytes`);
}

/**
 * The exact values of a tensor as the typed array of its dtype: `Float64Array` (F64),
 * `Float32Array` (F32, and the exactly representable F16/BF16 values), `BigInt64Array` (I64),
 * `Int32Array`, `Int16Array`, `Int8Array`, `Uint8Array` (U8, and BOOL as 0/1), row-major.
 *
 * @throws {TypeError} for an argument that is not a stored tensor, a dtype outside the engine
 * dtypes (F8_*, U16, …) or bytes whose length
 * is not a whole number of elements.
 * @example
 * ```ts
 * const ids = values(tensors.find((t) => t.name === "idx")!) as BigInt64Array; // I64
 * ```
 */
export function values<D extends EngineDtype>(t: RawTensor & { dtype: D }): DtypeArrays[D];
export function values(t: RawTensor): DtypeArrays[EngineDtype];
export function values(t: RawTensor): DtypeArrays[EngineDtype] {
  checkRaw("values", t);
  const dv = view(t);
  const size = (bytes: number): number => {
    if (t.bytes.length % bytes !== 0) throw new TypeError(`values: tensor ${JSON.stringify(t.name ?? "")} has ${t.bytes.length} bytes, not a multiple of ${bytes} (${t.dtype})`);
    return t.bytes.length / bytes;
  };
  switch (t.dtype) {
    // bit-for-bit copies on little-endian hosts (a DataView load may quiet a signaling NaN)
    case "F64": return LITTLE_ENDIAN ? new Float64Array(new Uint8Array(t.bytes.subarray(0, 8 * size(8))).buffer) : Float64Array.from({ length: size(8) }, (_, i) => dv.getFloat64(8 * i, true));
    case "F32": return LITTLE_ENDIAN ? new Float32Array(new Uint8Array(t.bytes.subarray(0, 4 * size(4))).buffer) : Float32Array.from({ length: size(4) }, (_, i) => dv.getFloat32(4 * i, true));
    case "F16": return Float32Array.from({ length: size(2) }, (_, i) => f16ToNumber(dv.getUint16(2 * i, true)));
    case "BF16": return Float32Array.from({ length: size(2) }, (_, i) => bf16ToNumber(dv.getUint16(2 * i, true)));
    case "I64": return BigInt64Array.from({ length: size(8) }, (_, i) => dv.getBigInt64(8 * i, true));
    case "I32": return Int32Array.from({ length: size(4) }, (_, i) => dv.getInt32(4 * i, true));
    case "I16": return Int16Array.from({ length: size(2) }, (_, i) => dv.getInt16(2 * i, true));
    case "I8": return new Int8Array(new Uint8Array(t.bytes).buffer); // copies (t.bytes may be a Node Buffer, whose slice() is a view)
    case "U8": return new Uint8Array(t.bytes);
    case "BOOL": return Uint8Array.from(t.bytes, (b) => (b !== 0 ? 1 : 0));
    default: return unsupported("values", t);
  }
}

/**
 * The values converted to float32 (I64 exactly within ±2^24, rounded beyond; BOOL as 0/1).
 *
 * @throws {TypeError} as {@link values}.
 * @example
 * ```ts
 * const w = toFloat32(tensors[0]); // Float32Array, whatever the stored dtype
 * ```
 */
export function toFloat32(t: RawTensor): Float32Array {
  checkRaw("toFloat32", t);
  const v = values(t);
  if (v instanceof Float32Array) return v;
  if (v instanceof BigInt64Array) return Float32Array.from(v, (x) => Number(x));
  return Float32Array.from(v);
}

/**
 * The values as a float32 {@link Tensor} of the tensor's shape (see {@link toFloat32}).
 *
 * @throws {TypeError} as {@link values}.
 * @example
 * ```ts
 * model.loadStateDict(Object.fromEntries(tensors.map((t) => [t.name, toTensor(t)])));
 * ```
 */
export function toTensor(t: RawTensor): Tensor {
  checkRaw("toTensor", t);
  return new Tensor(toFloat32(t), t.shape);
}
