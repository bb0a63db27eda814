/**
 * @file The two 16-bit float formats of safetensors as bit patterns: IEEE binary16 (`F16`: 5
 * exponent bits, 10 mantissa bits) and bfloat16 (`BF16`: the upper half of a float32, 8 and 7).
 * Decoding is exact (subnormals, ±0, ±inf, NaN); encoding rounds to nearest, ties to even, from a
 * float64 value (one rounding), overflows to ±inf and writes NaN as the canonical quiet NaN.
 */

interface Format {
  exp: number;
  mant: number;
}

const F16: Format = { exp: 5, mant: 10 };
const BF16: Format = { exp: 8, mant: 7 };

function decode(bits: number, f: Format): number {
  const sign = bits >> (f.exp + f.mant) & 1 ? -1 : 1;
  const e = (bits >> f.mant) & ((1 << f.exp) - 1);
  const m = bits & ((1 << f.mant) - 1);
  const bias = (1 << (f.exp - 1)) - 1;
  if (e === (1 << f.exp) - 1) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * m * 2 ** (1 - bias - f.mant);
  return sign * (1 + m / 2 ** f.mant) * 2 ** (e - bias);
}

/** Rounds to the nearest integer, ties to even (exact for the scaled values used here). */
function roundEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

function encode(x: number, f: Format): number {
  const signBit = x < 0 || Object.is(x, -0) ? 1 << (f.exp + f.mant) : 0;
  const expMask = (1 << f.exp) - 1;
  if (Number.isNaN(x)) return (expMask << f.mant) | (1 << (f.mant - 1));
  const a = Math.abs(x);
  const bias = (1 << (f.exp - 1)) - 1;
  const emin = 1 - bias;
  if (a === Infinity) return signBit | (expMask << f.mant);
  if (a < 2 ** emin) return signBit | roundEven(a / 2 ** (emin - f.mant)); // may round up to the smallest normal: still right
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let r = roundEven((a / 2 ** e - 1) * 2 ** f.mant);
  if (r === 2 ** f.mant) {
    e++;
    r = 0;
  }
  if (e > bias) return signBit | (expMask << f.mant);
  return signBit | ((e + bias) << f.mant) | r;
}

/**
 * The value of an IEEE binary16 bit pattern.
 *
 * @throws {RangeError} unless `bits` is an integer in [0, 0xffff].
 * @example `f16ToNumber(0x3c00); // 1; f16ToNumber(0x0001); // 5.960464477539063e-8`
 */
export function f16ToNumber(bits: number): number {
  checkBits("f16ToNumber", bits);
  return decode(bits & 0xffff, F16);
}

/**
 * The binary16 bit pattern nearest to `x` (ties to even; ±inf beyond 65504; NaN as 0x7E00).
 *
 * @throws {TypeError} when `x` is not a number.
 * @example `numberToF16(1); // 0x3c00; numberToF16(65520); // 0x7c00 (inf)`
 */
export function numberToF16(x: number): number {
  if (typeof x !== "number") throw new TypeError(`numberToF16: x must be a number (got ${typeof x})`);
  return encode(x, F16);
}

/**
 * The value of a bfloat16 bit pattern (exactly the float32 with these upper 16 bits).
 *
 * @throws {RangeError} unless `bits` is an integer in [0, 0xffff].
 * @example `bf16ToNumber(0x3f80); // 1`
 */
export function bf16ToNumber(bits: number): number {
  checkBits("bf16ToNumber", bits);
  return decode(bits & 0xffff, BF16);
}

/**
 * The bfloat16 bit pattern nearest to `x` (ties to even; NaN as 0x7FC0).
 *
 * @throws {TypeError} when `x` is not a number.
 * @example `numberToBf16(3.14159); // 0x4049 (3.140625)`
 */
export function numberToBf16(x: number): number {
  if (typeof x !== "number") throw new TypeError(`numberToBf16: x must be a number (got ${typeof x})`);
  return encode(x, BF16);
}

/** Throws unless `bits` is a 16-bit pattern (an integer in [0, 0xffff]). */
function checkBits(fn: string, bits: unknown): void {
  if (!Number.isInteger(bits) || (bits as number) < 0 || (bits as number) > 0xffff) throw new RangeError(`${fn}: bits must be an integer in [0, 0xffff] (got ${String(bits)})`);
}
