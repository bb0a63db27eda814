/**
 * @file The loops of the map-kernel interpreter (`interpret.ts`): one small function per
 * operation and operand kind (a chunk `V` of per-element values, or a uniform number `U`), each a
 * tight loop over `n` float64 slots, called through tables keyed by {@link MapOp}. An `R` suffix
 * rounds the result to float32 in the same pass (a fused `.f32()`).
 *
 * NOTE: one small function per loop, never inlined into a dispatcher: V8 compiles a tight loop
 * in a small function several times faster than the same loop inside a large function with
 * many loops (the cause of the slow elementwise rows this replaces).
 */
import { HOST_FUNCTIONS } from "./host.js";
import { MapOp } from "./expr.js";

type T = Float64Array;
/** `t ← op(x)`. */
export type UnaryLoop = (t: T, x: T, n: number, fn: number) => void;
/** `t ← op(x, y)`, both chunks. */
export type VVLoop = (t: T, x: T, y: T, n: number, fn: number) => void;
/** `t ← op(x, c)`, `c` uniform. */
export type VULoop = (t: T, x: T, c: number, n: number, fn: number) => void;
/** `t ← op(c, y)`, `c` uniform. */
export type UVLoop = (t: T, c: number, y: T, n: number, fn: number) => void;

const fround = Math.fround;
/** Float32 bits of a chunk (exponent, mantissa). */
const F32 = new Float32Array(256);
const I32 = new Int32Array(F32.buffer);
/** 2^k for k in [−126, 127] at index k + 126. */
const POW2 = Float64Array.from({ length: 254 }, (_, i) => 2 ** (i - 126));

/**
 * Round half to even (`MapOp.nearest`, WebAssembly's `nearest`), for any float64.
 *
 * @throws never.
 * @example
 * ```ts
 * nearestEven(2.5); // 2
 * ```
 */
export function nearestEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `fround(fround(x)·2ⁿ)` as {@link MapOp.scalbn} defines it (two exact scalings, one rounding).
 *
 * @throws never.
 * @example
 * ```ts
 * scalbnF32(1.5, 3); // 12
 * ```
 */
export function scalbnF32(x: number, n: number): number {
  let k = Math.trunc(fround(n));
  k = k !== k ? 0 : k < -252 ? -252 : k > 254 ? 254 : k;
  const k1 = k >> 1;
  return fround(fround(fround(x) * POW2[k1 + 126]!) * POW2[k - k1 + 126]!);
}

/**
 * `2ⁿ` as {@link MapOp.exp2i} defines it: `n` rounded to the nearest integer (ties to even),
 * clamped to [−1022, 1023]; NaN gives 1.
 *
 * @throws never.
 * @example
 * ```ts
 * exp2i(-3); // 0.125
 * ```
 */
export function exp2i(n: number): number {
  const k = n !== n ? 0 : n < -1022 ? -1022 : n > 1023 ? 1023 : n;
  return 2 ** nearestEven(k);
}

/** `fround(n) + 0x1.8p23 + 127`: its float32 bits shifted left by 23 are `2ⁿ` ({@link MapOp.pow2}). */
export const POW2_MAGIC = 12583039;

/**
 * `2ⁿ` as {@link MapOp.pow2} defines it: the bits of `fround(fround(n) + 0x1.8p23 + 127)` shifted
 * left by 23 (exactly `2ⁿ` for an integral `n` in [−126, 127]).
 *
 * @throws never.
 * @example
 * ```ts
 * pow2F32(-3); // 0.125
 * ```
 */
export function pow2F32(n: number): number {
  F32[0] = fround(n) + POW2_MAGIC;
  I32[0] = I32[0]! << 23;
  return F32[0]!;
}

/**
 * `|x|` with the sign of `y` (the sign of a NaN `y` reads as positive).
 *
 * @throws never.
 * @example
 * ```ts
 * copysign(2, -0); // -2
 * ```
 */
export function copysign(x: number, y: number): number {
  return y < 0 || (y === 0 && 1 / y < 0) ? -Math.abs(x) : Math.abs(x);
}

/**
 * One operation on uniform operands (a condition gives 1 or 0), for instructions whose operands
 * are all per-call values.
 *
 * @throws {Error} `internal:` for an input or unknown op.
 * @example
 * ```ts
 * evalUniform(MapOp.add, 1, 2, 0, -1); // 3
 * ```
 */
export function evalUniform(op: MapOp, a: number, b: number, c: number, fn: number): number {
  switch (op) {
    case MapOp.add: return a + b;
    case MapOp.sub: return a - b;
    case MapOp.mul: return a * b;
    case MapOp.div: return a / b;
    case MapOp.max: return Math.max(a, b);
    case MapOp.min: return Math.min(a, b);
    case MapOp.copysign: return copysign(a, b);
    case MapOp.scalbn: return scalbnF32(a, b);
    case MapOp.neg: return -a;
    case MapOp.abs: return Math.abs(a);
    case MapOp.sqrt: return Math.sqrt(a);
    case MapOp.f32: return fround(a);
    case MapOp.floor: return Math.floor(a);
    case MapOp.ceil: return Math.ceil(a);
    case MapOp.trunc: return Math.trunc(a);
    case MapOp.nearest: return nearestEven(a);
    case MapOp.exponent: F32[0] = a; return ((I32[0]! >>> 23) & 255) - 127;
    case MapOp.mantissa: F32[0] = a; I32[0] = (I32[0]! & 0x807fffff) | 0x3f800000; return F32[0]!;
    case MapOp.exp2i: return exp2i(a);
    case MapOp.pow2: return pow2F32(a);
    case MapOp.gt: return a > b ? 1 : 0;
    case MapOp.ge: return a >= b ? 1 : 0;
    case MapOp.lt: return a < b ? 1 : 0;
    case MapOp.le: return a <= b ? 1 : 0;
    case MapOp.eq: return a === b ? 1 : 0;
    case MapOp.ne: return a !== b ? 1 : 0;
    case MapOp.and: return a !== 0 && b !== 0 ? 1 : 0;
    case MapOp.or: return a !== 0 || b !== 0 ? 1 : 0;
    case MapOp.select: return a !== 0 ? b : c;
    case MapOp.call: return HOST_FUNCTIONS[fn]!.f(a, b);
    default: throw new Error(`internal: map op ${op} has no uniform evaluation`);
  }
}

// ---- unary -------------------------------------------------------------------------------
function negV(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = -x[i]!; }
function absV(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.abs(x[i]!); }
function sqrtV(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.sqrt(x[i]!); }
function sqrtR(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(Math.sqrt(x[i]!)); }
function f32V(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(x[i]!); }
function floorV(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.floor(x[i]!); }
function ceilV(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.ceil(x[i]!); }
function truncV(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.trunc(x[i]!); }
function nearestV(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = nearestEven(x[i]!); }
function exponentV(t: T, x: T, n: number): void {
  for (let i = 0; i < n; i++) F32[i] = x[i]!;
  for (let i = 0; i < n; i++) t[i] = ((I32[i]! >>> 23) & 255) - 127;
}
function mantissaV(t: T, x: T, n: number): void {
  for (let i = 0; i < n; i++) F32[i] = x[i]!;
  for (let i = 0; i < n; i++) I32[i] = (I32[i]! & 0x807fffff) | 0x3f800000;
  for (let i = 0; i < n; i++) t[i] = F32[i]!;
}
function exp2iV(t: T, x: T, n: number): void { for (let i = 0; i < n; i++) t[i] = exp2i(x[i]!); }
function pow2V(t: T, x: T, n: number): void {
  for (let i = 0; i < n; i++) F32[i] = fround(x[i]!) + POW2_MAGIC;
  for (let i = 0; i < n; i++) I32[i] = I32[i]! << 23;
  for (let i = 0; i < n; i++) t[i] = F32[i]!;
}
function callV(t: T, x: T, n: number, fn: number): void { const f = HOST_FUNCTIONS[fn]!.f; for (let i = 0; i < n; i++) t[i] = f(x[i]!, 0); }

/**
 * Unary loops by op (`ROUNDED_UNARY` where a fused rounding needs its own loop).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * UNARY[MapOp.sqrt]!(t, x, n, -1); // t ← √x
 * ```
 */
export const UNARY: Partial<Record<MapOp, UnaryLoop>> = {
  [MapOp.neg]: negV, [MapOp.abs]: absV, [MapOp.sqrt]: sqrtV, [MapOp.f32]: f32V, [MapOp.floor]: floorV, [MapOp.ceil]: ceilV,
  [MapOp.trunc]: truncV, [MapOp.nearest]: nearestV, [MapOp.exponent]: exponentV, [MapOp.mantissa]: mantissaV, [MapOp.call]: callV,
  [MapOp.exp2i]: exp2iV, [MapOp.pow2]: pow2V,
};
/**
 * Unary loops that round to float32 in the same pass (ops whose float64 result may not be a float32 value).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * ROUNDED_UNARY[MapOp.sqrt]!(t, x, n, -1); // t ← fround(√x)
 * ```
 */
export const ROUNDED_UNARY: Partial<Record<MapOp, UnaryLoop>> = { [MapOp.sqrt]: sqrtR };

// ---- binary, both chunks -----------------------------------------------------------------
function addVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! + y[i]!; }
function subVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! - y[i]!; }
function mulVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! * y[i]!; }
function divVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! / y[i]!; }
function addVVR(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(x[i]! + y[i]!); }
function subVVR(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(x[i]! - y[i]!); }
function mulVVR(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(x[i]! * y[i]!); }
function divVVR(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(x[i]! / y[i]!); }
function maxVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.max(x[i]!, y[i]!); }
function minVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.min(x[i]!, y[i]!); }
function copysignVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = copysign(x[i]!, y[i]!); }
function scalbnVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = scalbnF32(x[i]!, y[i]!); }
function gtVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! > y[i]! ? 1 : 0; }
function geVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! >= y[i]! ? 1 : 0; }
function ltVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! < y[i]! ? 1 : 0; }
function leVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! <= y[i]! ? 1 : 0; }
function eqVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! === y[i]! ? 1 : 0; }
function neVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! !== y[i]! ? 1 : 0; }
function andVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! !== 0 && y[i]! !== 0 ? 1 : 0; }
function orVV(t: T, x: T, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! !== 0 || y[i]! !== 0 ? 1 : 0; }
function callVV(t: T, x: T, y: T, n: number, fn: number): void { const f = HOST_FUNCTIONS[fn]!.f; for (let i = 0; i < n; i++) t[i] = f(x[i]!, y[i]!); }

// ---- binary, chunk and uniform -----------------------------------------------------------
function addVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! + c; }
function subVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! - c; }
function mulVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! * c; }
function divVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! / c; }
function addVUR(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(x[i]! + c); }
function subVUR(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(x[i]! - c); }
function mulVUR(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(x[i]! * c); }
function divVUR(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(x[i]! / c); }
function maxVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.max(x[i]!, c); }
function minVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.min(x[i]!, c); }
function copysignVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = copysign(x[i]!, c); }
function scalbnVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = scalbnF32(x[i]!, c); }
function gtVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! > c ? 1 : 0; }
function geVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! >= c ? 1 : 0; }
function ltVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! < c ? 1 : 0; }
function leVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! <= c ? 1 : 0; }
function eqVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! === c ? 1 : 0; }
function neVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! !== c ? 1 : 0; }
function andVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! !== 0 && c !== 0 ? 1 : 0; }
function orVU(t: T, x: T, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! !== 0 || c !== 0 ? 1 : 0; }
function callVU(t: T, x: T, c: number, n: number, fn: number): void { const f = HOST_FUNCTIONS[fn]!.f; for (let i = 0; i < n; i++) t[i] = f(x[i]!, c); }

function subUV(t: T, c: number, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = c - y[i]!; }
function divUV(t: T, c: number, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = c / y[i]!; }
function subUVR(t: T, c: number, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(c - y[i]!); }
function divUVR(t: T, c: number, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = fround(c / y[i]!); }
function maxUV(t: T, c: number, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.max(c, y[i]!); }
function minUV(t: T, c: number, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.min(c, y[i]!); }
function copysignUV(t: T, c: number, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = copysign(c, y[i]!); }
function scalbnUV(t: T, c: number, y: T, n: number): void { for (let i = 0; i < n; i++) t[i] = scalbnF32(c, y[i]!); }
function callUV(t: T, c: number, y: T, n: number, fn: number): void { const f = HOST_FUNCTIONS[fn]!.f; for (let i = 0; i < n; i++) t[i] = f(c, y[i]!); }

/**
 * Binary loops over two chunks, by op.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * BINARY_VV[MapOp.add]!(t, x, y, n, -1); // t ← x + y
 * ```
 */
export const BINARY_VV: Partial<Record<MapOp, VVLoop>> = {
  [MapOp.add]: addVV, [MapOp.sub]: subVV, [MapOp.mul]: mulVV, [MapOp.div]: divVV, [MapOp.max]: maxVV, [MapOp.min]: minVV,
  [MapOp.copysign]: copysignVV, [MapOp.scalbn]: scalbnVV, [MapOp.gt]: gtVV, [MapOp.ge]: geVV, [MapOp.lt]: ltVV, [MapOp.le]: leVV,
  [MapOp.eq]: eqVV, [MapOp.ne]: neVV, [MapOp.and]: andVV, [MapOp.or]: orVV, [MapOp.call]: callVV,
};
/**
 * Binary loops with a uniform second operand, by op.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * BINARY_VU[MapOp.mul]!(t, x, 0.5, n, -1); // t ← x·0.5
 * ```
 */
export const BINARY_VU: Partial<Record<MapOp, VULoop>> = {
  [MapOp.add]: addVU, [MapOp.sub]: subVU, [MapOp.mul]: mulVU, [MapOp.div]: divVU, [MapOp.max]: maxVU, [MapOp.min]: minVU,
  [MapOp.copysign]: copysignVU, [MapOp.scalbn]: scalbnVU, [MapOp.gt]: gtVU, [MapOp.ge]: geVU, [MapOp.lt]: ltVU, [MapOp.le]: leVU,
  [MapOp.eq]: eqVU, [MapOp.ne]: neVU, [MapOp.and]: andVU, [MapOp.or]: orVU, [MapOp.call]: callVU,
};
/**
 * Binary loops with a uniform first operand, by op (commutative ops and comparisons swap into {@link BINARY_VU}).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * BINARY_UV[MapOp.sub]!(t, 1, y, n, -1); // t ← 1 − y
 * ```
 */
export const BINARY_UV: Partial<Record<MapOp, UVLoop>> = {
  [MapOp.sub]: subUV, [MapOp.div]: divUV, [MapOp.max]: maxUV, [MapOp.min]: minUV, [MapOp.copysign]: copysignUV,
  [MapOp.scalbn]: scalbnUV, [MapOp.call]: callUV,
};
/**
 * Binary loops that round to float32 in the same pass.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * ROUNDED_VV[MapOp.add]!(t, x, y, n, -1); // t ← fround(x + y)
 * ```
 */
export const ROUNDED_VV: Partial<Record<MapOp, VVLoop>> = { [MapOp.add]: addVVR, [MapOp.sub]: subVVR, [MapOp.mul]: mulVVR, [MapOp.div]: divVVR };
/**
 * As {@link ROUNDED_VV}, with a uniform second operand.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * ROUNDED_VU[MapOp.mul]!(t, x, 0.1, n, -1); // t ← fround(x·0.1)
 * ```
 */
export const ROUNDED_VU: Partial<Record<MapOp, VULoop>> = { [MapOp.add]: addVUR, [MapOp.sub]: subVUR, [MapOp.mul]: mulVUR, [MapOp.div]: divVUR };
/**
 * As {@link ROUNDED_VV}, with a uniform first operand.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * ROUNDED_UV[MapOp.div]!(t, 1, y, n, -1); // t ← fround(1/y)
 * ```
 */
export const ROUNDED_UV: Partial<Record<MapOp, UVLoop>> = { [MapOp.sub]: subUVR, [MapOp.div]: divUVR };

/**
 * For a uniform first operand: the op with operands swapped, where that is the same operation
 * (`c + y = y + c`, `c > y ⟺ y < c`), else undefined.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * SWAPPED[MapOp.gt]; // MapOp.lt
 * ```
 */
export const SWAPPED: Partial<Record<MapOp, MapOp>> = {
  [MapOp.add]: MapOp.add, [MapOp.mul]: MapOp.mul, [MapOp.eq]: MapOp.eq, [MapOp.ne]: MapOp.ne, [MapOp.and]: MapOp.and, [MapOp.or]: MapOp.or,
  [MapOp.gt]: MapOp.lt, [MapOp.ge]: MapOp.le, [MapOp.lt]: MapOp.gt, [MapOp.le]: MapOp.ge,
};

// ---- select ------------------------------------------------------------------------------
/**
 * `t ← c ? a : b` for chunks `c`, `a`, `b`.
 *
 * @throws never.
 * @example
 * ```ts
 * selectVVV(t, c, a, b, n);
 * ```
 */
export function selectVVV(t: T, c: T, a: T, b: T, n: number): void { for (let i = 0; i < n; i++) t[i] = c[i] !== 0 ? a[i]! : b[i]!; }
/**
 * `t ← c ? a : v` for chunks `c`, `a` and a uniform `v`.
 *
 * @throws never.
 * @example
 * ```ts
 * selectVVU(t, c, a, 0, n);
 * ```
 */
export function selectVVU(t: T, c: T, a: T, v: number, n: number): void { for (let i = 0; i < n; i++) t[i] = c[i] !== 0 ? a[i]! : v; }
/**
 * `t ← c ? v : b` for chunks `c`, `b` and a uniform `v`.
 *
 * @throws never.
 * @example
 * ```ts
 * selectVUV(t, c, 1, b, n);
 * ```
 */
export function selectVUV(t: T, c: T, v: number, b: T, n: number): void { for (let i = 0; i < n; i++) t[i] = c[i] !== 0 ? v : b[i]!; }
/**
 * `t ← c ? u : v` for a chunk `c` and uniforms `u`, `v`.
 *
 * @throws never.
 * @example
 * ```ts
 * selectVUU(t, c, 1, 0, n); // a 0/1 flag
 * ```
 */
export function selectVUU(t: T, c: T, u: number, v: number, n: number): void { for (let i = 0; i < n; i++) t[i] = c[i] !== 0 ? u : v; }
