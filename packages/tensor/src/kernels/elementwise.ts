/**
 * @file Row kernels for elementwise ops: one tight strided loop per op, chosen by a `switch`
 * outside the loop (no closures or calls per element). Rows come from {@link RowWalker}.
 *
 * Binary ops read `a[ia + k*sa]` and `b[ib + k*sb]` and write `o[io + k*so]`; a stride of 0 is a
 * broadcast. The `*_GRAD` codes are fused backward rules used by autograd (`a` is the upstream
 * gradient, `b` the saved input or output named in the comment).
 */
import { erf } from "../math.js";

/**
 * Binary elementwise op codes.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * binaryOp("maximum", BinOp.MAXIMUM, a, b); // same as maximum(a, b)
 * ```
 */
export const BinOp = {
  ADD: 0, SUB: 1, MUL: 2, DIV: 3, POW: 4, MAXIMUM: 5, MINIMUM: 6,
  EQ: 7, NE: 8, LT: 9, LE: 10, GT: 11, GE: 12, ATAN2: 13,
  /** g * (x > 0) with b = x. */
  RELU_GRAD: 20,
  /** g * (x > 0 ? 1 : p0) with b = x. */
  LEAKY_RELU_GRAD: 21,
  /** g * (1 - y²) with b = y = tanh(x). */
  TANH_GRAD: 22,
  /** g * y * (1 - y) with b = y = sigmoid(x). */
  SIGMOID_GRAD: 23,
  /** g * (Φ(x) + x φ(x)) with b = x. */
  GELU_GRAD: 24,
  /** derivative of the tanh approximation, b = x. */
  GELU_TANH_GRAD: 25,
  /** g * sigmoid(p0 x) (or g when p0 x > p1), b = x. */
  SOFTPLUS_GRAD: 26,
  /** g * sign(x), b = x. */
  ABS_GRAD: 27,
  /** g * 0.5 / y with b = y = sqrt(x). */
  SQRT_GRAD: 28,
  /** g * p0 * x^(p0-1), b = x. */
  POW_GRAD: 29,
  /** g where p0 <= x <= p1, else 0; b = x. */
  CLAMP_GRAD: 30,
  /** g * (x == y): routes gradients of max/min; here b = (x - y) pre-computed, g where b == 0. */
  MASK_EQ_ZERO: 31,
} as const;
/** A binary op code. */
export type BinOp = (typeof BinOp)[keyof typeof BinOp];

/**
 * Unary elementwise op codes (`p0`, `p1` are op parameters).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * unaryOp("clamp", UnOp.CLAMP, x, undefined, -1, 1); // same as clamp(x, -1, 1)
 * ```
 */
export const UnOp = {
  COPY: 0, NEG: 1, EXP: 2, LOG: 3, SQRT: 4, RSQRT: 5, ABS: 6, SIGN: 7, TANH: 8, SIGMOID: 9,
  RELU: 10, LEAKY_RELU: 11, GELU: 12, GELU_TANH: 13, SOFTPLUS: 14, CLAMP: 15, POW: 16,
  SQUARE: 17, RECIPROCAL: 18, SIN: 19, COS: 20, LOG1P: 21, EXPM1: 22, FLOOR: 23, CEIL: 24,
  ROUND: 25, ISNAN: 26, ISFINITE: 27, ISINF: 28, NOT: 29, AFFINE: 30, TRUNC: 31,
} as const;
/** A unary op code. */
export type UnOp = (typeof UnOp)[keyof typeof UnOp];

const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_C = 0.044715;
const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

/** Contiguous rows at least this long take the sign-bit kernels (a view per call pays off). */
const SIGN_BIT_MIN = 64;

/** The same storage as int32 bit patterns. */
function int32View(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * ReLU on float32 bit patterns, branch-free: a negative sign bit (and not NaN) gives +0, anything
 * else passes through. Same results as `v <= 0 ? 0 : v` (-0 → +0, NaN kept, -Infinity → 0).
 * NOTE: on random signs the compare-and-branch form mispredicts about half the time (about 3×
 * slower on V8/x64, which emits a branch, not a select, for the float ternary).
 */
function reluBits(x: Int32Array, ix: number, o: Int32Array, io: number, n: number): void {
  for (let k = 0; k < n; k++) {
    const b = x[ix + k]!;
    const nan = (0x7f800000 - (b & 0x7fffffff)) >> 31; // -1 iff NaN
    o[io + k] = b & ~((b >> 31) & ~nan);
  }
}

/**
 * `x > 0 ? g : 0` on float32 bit patterns, branch-free: `x` is positive and not NaN exactly when
 * its sign bit is clear and `t = (bits & 0x7fffffff) − 1` lies in `[0, 0x7f800000)` (+Infinity
 * included, ±0 and NaN excluded). Every intermediate stays within int32 (no overflow paths).
 */
function reluGradBits(g: Int32Array, ig: number, x: Int32Array, ix: number, o: Int32Array, io: number, n: number): void {
  for (let k = 0; k < n; k++) {
    const b = x[ix + k]!;
    const t = (b & 0x7fffffff) - 1;
    o[io + k] = g[ig + k]! & ~(b >> 31) & ~(t >> 31) & ((t - 0x7f800000) >> 31);
  }
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Applies a binary op to one row of `n` elements.
 *
 * @throws {Error} `internal:` for an unknown op code.
 * @example
 * ```ts
 * binaryRow(BinOp.ADD, a, 0, 1, b, 0, 0, out, 0, 1, n, 0, 0); // out = a + b[0]
 * ```
 */
export function binaryRow(
  op: BinOp, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number,
  o: Float32Array, io: number, so: number, n: number, p0: number, p1: number,
): void {
  const end = io + n * so;
  switch (op) {
    case BinOp.ADD:
      if (sa === 1 && sb === 1 && so === 1) { for (let k = 0; k < n; k++) o[io + k] = a[ia + k]! + b[ib + k]!; return; }
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia]! + b[ib]!; return;
    case BinOp.SUB:
      if (sa === 1 && sb === 1 && so === 1) { for (let k = 0; k < n; k++) o[io + k] = a[ia + k]! - b[ib + k]!; return; }
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia]! - b[ib]!; return;
    case BinOp.MUL:
      if (sa === 1 && sb === 1 && so === 1) { for (let k = 0; k < n; k++) o[io + k] = a[ia + k]! * b[ib + k]!; return; }
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia]! * b[ib]!; return;
    case BinOp.DIV:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia]! / b[ib]!; return;
    case BinOp.POW:
      // NOTE: IEEE-754/C pow (and torch) give pow(1, y) = 1 for every y, NaN included, and
      // pow(-1, ±Infinity) = 1; Math.pow gives NaN for those.
      for (; io !== end; io += so, ia += sa, ib += sb) {
        const x = a[ia]!, y = b[ib]!;
        o[io] = x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y);
      }
      return;
    case BinOp.MAXIMUM:
      for (; io !== end; io += so, ia += sa, ib += sb) { const x = a[ia]!, y = b[ib]!; o[io] = x !== x || x > y ? x : y; } return;
    case BinOp.MINIMUM:
      for (; io !== end; io += so, ia += sa, ib += sb) { const x = a[ia]!, y = b[ib]!; o[io] = x !== x || x < y ? x : y; } return;
    case BinOp.EQ:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia] === b[ib] ? 1 : 0; return;
    case BinOp.NE:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia] !== b[ib] ? 1 : 0; return;
    case BinOp.LT:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia]! < b[ib]! ? 1 : 0; return;
    case BinOp.LE:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia]! <= b[ib]! ? 1 : 0; return;
    case BinOp.GT:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia]! > b[ib]! ? 1 : 0; return;
    case BinOp.GE:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = a[ia]! >= b[ib]! ? 1 : 0; return;
    case BinOp.ATAN2:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = Math.atan2(a[ia]!, b[ib]!); return;
    case BinOp.RELU_GRAD:
      if (sa === 1 && sb === 1 && so === 1 && n >= SIGN_BIT_MIN) { reluGradBits(int32View(a), ia, int32View(b), ib, int32View(o), io, n); return; }
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = b[ib]! > 0 ? a[ia]! : 0; return;
    case BinOp.LEAKY_RELU_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = b[ib]! > 0 ? a[ia]! : a[ia]! * p0; return;
    case BinOp.TANH_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) { const y = b[ib]!; o[io] = a[ia]! * (1 - y * y); } return;
    case BinOp.SIGMOID_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) { const y = b[ib]!; o[io] = a[ia]! * y * (1 - y); } return;
    case BinOp.GELU_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) {
        const x = b[ib]!;
        o[io] = a[ia]! * (0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x));
      }
      return;
    case BinOp.GELU_TANH_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) {
        const x = b[ib]!;
        const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
        o[io] = a[ia]! * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x));
      }
      return;
    case BinOp.SOFTPLUS_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) {
        const z = b[ib]! * p0;
        o[io] = z > p1 ? a[ia]! : a[ia]! / (1 + Math.exp(-z));
      }
      return;
    case BinOp.ABS_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) { const x = b[ib]!; o[io] = x > 0 ? a[ia]! : x < 0 ? -a[ia]! : 0; } return;
    case BinOp.SQRT_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = (0.5 * a[ia]!) / b[ib]!; return;
    case BinOp.POW_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = p0 === 0 ? 0 : a[ia]! * p0 * Math.pow(b[ib]!, p0 - 1); return;
    case BinOp.CLAMP_GRAD:
      for (; io !== end; io += so, ia += sa, ib += sb) { const x = b[ib]!; o[io] = x >= p0 && x <= p1 ? a[ia]! : 0; } return;
    case BinOp.MASK_EQ_ZERO:
      for (; io !== end; io += so, ia += sa, ib += sb) o[io] = b[ib] === 0 ? a[ia]! : 0; return;
    default:
      throw new Error(`internal: unknown binary op code ${op as number}`);
  }
}

/**
 * Applies a unary op to one row of `n` elements.
 *
 * @throws {Error} `internal:` for an unknown op code.
 * @example
 * ```ts
 * unaryRow(UnOp.EXP, x, 0, 1, out, 0, 1, n, 0, 0);
 * ```
 */
export function unaryRow(op: UnOp, x: Float32Array, ix: number, sx: number, o: Float32Array, io: number, so: number, n: number, p0: number, p1: number): void {
  const end = io + n * so;
  switch (op) {
    case UnOp.COPY: for (; io !== end; io += so, ix += sx) o[io] = x[ix]!; return;
    case UnOp.NEG: for (; io !== end; io += so, ix += sx) o[io] = -x[ix]!; return;
    case UnOp.EXP: for (; io !== end; io += so, ix += sx) o[io] = Math.exp(x[ix]!); return;
    case UnOp.LOG: for (; io !== end; io += so, ix += sx) o[io] = Math.log(x[ix]!); return;
    case UnOp.SQRT: for (; io !== end; io += so, ix += sx) o[io] = Math.sqrt(x[ix]!); return;
    case UnOp.RSQRT: for (; io !== end; io += so, ix += sx) o[io] = 1 / Math.sqrt(x[ix]!); return;
    case UnOp.ABS: for (; io !== end; io += so, ix += sx) o[io] = Math.abs(x[ix]!); return;
    case UnOp.SIGN: for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = v > 0 ? 1 : v < 0 ? -1 : v; } return;
    case UnOp.TANH: for (; io !== end; io += so, ix += sx) o[io] = Math.tanh(x[ix]!); return;
    case UnOp.SIGMOID:
      for (; io !== end; io += so, ix += sx) {
        const v = x[ix]!;
        if (v >= 0) o[io] = 1 / (1 + Math.exp(-v));
        else { const e = Math.exp(v); o[io] = e / (1 + e); }
      }
      return;
    case UnOp.RELU:
      if (sx === 1 && so === 1 && n >= SIGN_BIT_MIN) { reluBits(int32View(x), ix, int32View(o), io, n); return; }
      for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = v <= 0 ? 0 : v; } return;
    case UnOp.LEAKY_RELU: for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = v > 0 ? v : v * p0; } return;
    case UnOp.GELU: for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = 0.5 * v * (1 + erf(v * INV_SQRT2)); } return;
    case UnOp.GELU_TANH:
      for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v))); }
      return;
    case UnOp.SOFTPLUS:
      for (; io !== end; io += so, ix += sx) { const v = x[ix]!; const z = v * p0; o[io] = z > p1 ? v : Math.log1p(Math.exp(z)) / p0; }
      return;
    case UnOp.CLAMP: for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = v < p0 ? p0 : v > p1 ? p1 : v; } return;
    case UnOp.POW:
      if (p0 === 2) { for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = v * v; } return; }
      for (; io !== end; io += so, ix += sx) o[io] = Math.pow(x[ix]!, p0);
      return;
    case UnOp.SQUARE: for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = v * v; } return;
    case UnOp.RECIPROCAL: for (; io !== end; io += so, ix += sx) o[io] = 1 / x[ix]!; return;
    case UnOp.SIN: for (; io !== end; io += so, ix += sx) o[io] = Math.sin(x[ix]!); return;
    case UnOp.COS: for (; io !== end; io += so, ix += sx) o[io] = Math.cos(x[ix]!); return;
    case UnOp.LOG1P: for (; io !== end; io += so, ix += sx) o[io] = Math.log1p(x[ix]!); return;
    case UnOp.EXPM1: for (; io !== end; io += so, ix += sx) o[io] = Math.expm1(x[ix]!); return;
    case UnOp.FLOOR: for (; io !== end; io += so, ix += sx) o[io] = Math.floor(x[ix]!); return;
    case UnOp.CEIL: for (; io !== end; io += so, ix += sx) o[io] = Math.ceil(x[ix]!); return;
    case UnOp.ROUND: for (; io !== end; io += so, ix += sx) o[io] = roundHalfEven(x[ix]!); return;
    case UnOp.TRUNC: for (; io !== end; io += so, ix += sx) o[io] = Math.trunc(x[ix]!); return;
    case UnOp.ISNAN: for (; io !== end; io += so, ix += sx) o[io] = x[ix] !== x[ix] ? 1 : 0; return;
    case UnOp.ISFINITE: for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = v - v === 0 ? 1 : 0; } return;
    case UnOp.ISINF: for (; io !== end; io += so, ix += sx) { const v = x[ix]!; o[io] = v === Infinity || v === -Infinity ? 1 : 0; } return;
    case UnOp.NOT: for (; io !== end; io += so, ix += sx) o[io] = x[ix] === 0 ? 1 : 0; return;
    case UnOp.AFFINE: for (; io !== end; io += so, ix += sx) o[io] = x[ix]! * p0 + p1; return;
    default:
      throw new Error(`internal: unknown unary op code ${op as number}`);
  }
}
