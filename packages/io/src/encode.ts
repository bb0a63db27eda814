/**
 * @file The writer's inputs turned into little-endian bytes: a float32 `Tensor` (F32), raw bytes
 * with any dtype (what {@link readSafetensors} returns, so files round-trip unchanged), or values
 * with an engine dtype (typed arrays, number/bigint/boolean arrays), each checked against its
 * shape and its dtype's range with an error naming the tensor.
 */
import { Tensor } from "@tapegrad/tensor";
import { type Dtype, type EngineDtype, dtypeBits, isDtype, isEngineDtype } from "./dtype.js";
import { numberToBf16, numberToF16 } from "./float16.js";

/** Raw little-endian bytes with their dtype and shape (a {@link SafeTensor} is one). */
export interface RawInput {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** Values in row-major order with an engine dtype; integers must fit the dtype exactly. */
export interface ValuesInput {
  readonly dtype: EngineDtype;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number | bigint | boolean>;
}

/** One tensor to write: a float32 `Tensor` (written as F32), raw bytes, or typed values. */
export type TensorInput = Tensor | RawInput | ValuesInput;

/** A tensor ready to write: its dtype, shape and bytes. */
export interface Encoded {
  name: string;
  dtype: Dtype;
  shape: number[];
  bytes: Uint8Array;
}

const FN = "writeSafetensors";

/**
 * safetensors is little-endian; so is every JavaScript engine in practice (checked, not assumed).
 *
 * @example
 * ```ts
 * LITTLE_ENDIAN; // true on every engine in practice
 * ```
 * @throws never (a constant).
 */
export const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** A copy of a typed array's bytes (its exact bit patterns). */
function rawBytes(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

const INT_RANGE: Partial<Record<EngineDtype, [number, number]>> = {
  I32: [-(2 ** 31), 2 ** 31 - 1], I16: [-32768, 32767], I8: [-128, 127], U8: [0, 255], BOOL: [0, 1],
};

function checkShape(q: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== "number" || !Number.isSafeInteger(d) || d < 0)) {
    throw new TypeError(`${FN}: tensor ${q}: shape must be an array of non-negative integers (got ${JSON.stringify(shape)})`);
  }
  return shape.slice() as number[];
}

function encodeValues(q: string, dtype: EngineDtype, data: ArrayLike<unknown>, count: number): Uint8Array {
  if (data.length !== count) throw new RangeError(`${FN}: tensor ${q}: data has ${data.length} values, the shape needs ${count}`);
  const size = dtypeBits(dtype) / 8;
  const out = new Uint8Array(count * size);
  const dv = new DataView(out.buffer);
  const bad = (i: number, why: string): never => {
    throw new RangeError(`${FN}: tensor ${q}: value ${String(data[i])} at index ${i} ${why}`);
  };
  for (let i = 0; i < count; i++) {
    let v = data[i];
    if (dtype === "I64") {
      if (typeof v === "number") {
        if (!Number.isSafeInteger(v)) bad(i, "is not an integer within ±(2^53-1) (pass a bigint for larger values)");
        v = BigInt(v);
      }
      if (typeof v !== "bigint" || v < -(1n << 63n) || v >= 1n << 63n) bad(i, "is not a 64-bit signed integer");
      dv.setBigInt64(8 * i, v as bigint, true);
      continue;
    }
    if (dtype === "BOOL" && typeof v === "boolean") v = v ? 1 : 0;
    if (typeof v !== "number") bad(i, `is not a number (dtype ${dtype})`);
    const x = v as number;
    switch (dtype) {
      case "F64": dv.setFloat64(8 * i, x, true); break;
      case "F32": dv.setFloat32(4 * i, x, true); break;
      case "F16": dv.setUint16(2 * i, numberToF16(x), true); break;
      case "BF16": dv.setUint16(2 * i, numberToBf16(x), true); break;
      default: {
        const [lo, hi] = INT_RANGE[dtype]!;
        if (!Number.isInteger(x) || x < lo || x > hi) bad(i, `is not an integer in [${lo}, ${hi}] (dtype ${dtype})`);
        if (dtype === "I32") dv.setInt32(4 * i, x, true);
        else if (dtype === "I16") dv.setInt16(2 * i, x, true);
        else if (dtype === "I8") dv.setInt8(i, x);
        else dv.setUint8(i, x);
      }
    }
  }
  return out;
}

/**
 * Encodes one writer input (see {@link TensorInput}); `name` is only used in messages and kept.
 *
 * @throws {TypeError} for an unknown dtype, a bad shape or an input of no known form.
 * @throws {RangeError} when the data length or byte length does not match the shape, or a value
 * does not fit the dtype.
 * @example
 * ```ts
 * encodeTensor("ids", { dtype: "I64", shape: [2], data: [1, 2n ** 40n] }).bytes.length; // 16
 * ```
 */
export function encodeTensor(name: string, t: TensorInput): Encoded {
  const q = JSON.stringify(name);
  if (t instanceof Tensor) {
    const c = t.contiguous();
    const data = c.data.subarray(c.offset, c.offset + c.size);
    return { name, dtype: "F32", shape: [...t.shape], bytes: LITTLE_ENDIAN ? rawBytes(data) : encodeValues(q, "F32", data, c.size) };
  }
  if (typeof t !== "object" || t === null) throw new TypeError(`${FN}: tensor ${q} must be a Tensor or {dtype, shape, bytes|data} (got ${String(t)})`);
  const dtype = (t as { dtype?: unknown }).dtype;
  if (!isDtype(dtype)) throw new TypeError(`${FN}: tensor ${q}: unknown dtype ${JSON.stringify(dtype)} (use F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, …)`);
  const shape = checkShape(q, (t as { shape?: unknown }).shape);
  const count = shape.reduce((p, d) => p * d, 1);
  if ("bytes" in t && t.bytes !== undefined) {
    if (!(t.bytes instanceof Uint8Array)) throw new TypeError(`${FN}: tensor ${q}: bytes must be a Uint8Array`);
    const nbits = count * dtypeBits(dtype);
    if (nbits % 8 !== 0 || t.bytes.length !== nbits / 8) throw new RangeError(`${FN}: tensor ${q}: ${t.bytes.length} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${nbits / 8}`);
    return { name, dtype, shape, bytes: new Uint8Array(t.bytes) }; // a plain copy, also of a Node Buffer
  }
  if ("data" in t && t.data !== undefined) {
    if (!isEngineDtype(dtype)) throw new TypeError(`${FN}: tensor ${q}: values of dtype ${dtype} cannot be encoded (pass its raw bytes as {dtype, shape, bytes})`);
    const data = t.data as ArrayLike<unknown>;
    if (typeof data !== "object" || data === null || typeof data.length !== "number") throw new TypeError(`${FN}: tensor ${q}: data must be an array or typed array`);
    // float arrays of their own dtype are copied bit for bit (NaN payloads included: a DataView store may quiet a signaling NaN)
    if (LITTLE_ENDIAN && data.length === count && ((dtype === "F32" && data instanceof Float32Array) || (dtype === "F64" && data instanceof Float64Array))) return { name, dtype, shape, bytes: rawBytes(data) };
    return { name, dtype, shape, bytes: encodeValues(q, dtype, data, count) };
  }
  throw new TypeError(`${FN}: tensor ${q} has neither bytes nor data`);
}
