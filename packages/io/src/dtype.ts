/**
 * @file The safetensors dtypes: their names, sizes in bits and their rank (the declaration order
 * of the reference's `enum Dtype`, which orders tensors in a written file).
 */

/**
 * Every dtype the format defines, in the reference's declaration order (ascending rank).
 *
 * @example
 * ```ts
 * DTYPE_ORDER.indexOf("F32") > DTYPE_ORDER.indexOf("I32"); // true: F32 ranks higher
 * ```
 * @throws never (a constant).
 */
export const DTYPE_ORDER = [
  "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ",
  "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
] as const;

/** A safetensors dtype name (case-sensitive: `"F32"`, never `"f32"` or `"float32"`). */
export type Dtype = (typeof DTYPE_ORDER)[number];

/**
 * The dtypes whose values the engine decodes (`values`, `toFloat32`) and encodes from numbers.
 *
 * @example
 * ```ts
 * ENGINE_DTYPES.includes("BF16"); // true
 * ```
 * @throws never (a constant).
 */
export const ENGINE_DTYPES = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"] as const;

/** A dtype with value conversions (see {@link ENGINE_DTYPES}). */
export type EngineDtype = (typeof ENGINE_DTYPES)[number];

const BITS: Record<Dtype, number> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};

const RANK = new Map<string, number>(DTYPE_ORDER.map((d, i) => [d, i]));

/**
 * True when `s` is a safetensors dtype name.
 *
 * @throws never.
 * @example `isDtype("F32"); // true; isDtype("float32"); // false`
 */
export function isDtype(s: unknown): s is Dtype {
  return typeof s === "string" && RANK.has(s);
}

/**
 * True when the engine converts values of this dtype (see {@link ENGINE_DTYPES}).
 *
 * @throws never.
 * @example `isEngineDtype("BF16"); // true; isEngineDtype("F8_E4M3"); // false`
 */
export function isEngineDtype(s: unknown): s is EngineDtype {
  return typeof s === "string" && (ENGINE_DTYPES as readonly string[]).includes(s);
}

/**
 * Size of one element in bits (4 and 6 for the sub-byte float formats).
 *
 * @throws {TypeError} for an unknown dtype.
 * @example `dtypeBits("BF16"); // 16`
 */
export function dtypeBits(d: Dtype): number {
  const b = BITS[d];
  if (b === undefined) throw new TypeError(`dtypeBits: unknown dtype ${JSON.stringify(d)}`);
  return b;
}

/**
 * Rank of a dtype in the reference's `enum Dtype` (higher ranks are written first).
 *
 * @throws {TypeError} for an unknown dtype.
 * @example `dtypeRank("I64") > dtypeRank("F64"); // true`
 */
export function dtypeRank(d: Dtype): number {
  const r = RANK.get(d);
  if (r === undefined) throw new TypeError(`dtypeRank: unknown dtype ${JSON.stringify(d)}`);
  return r;
}
