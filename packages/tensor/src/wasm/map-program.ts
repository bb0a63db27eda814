/**
 * @file Emits one element step of a map kernel's program (see `map-plan.ts` for how values are
 * held): the SIMD body for four elements and the scalar body for one (the loop tail, and the
 * per-call values computed before the loop). Both compute the interpreter's operations, so the
 * bits are the same (`map/interpret.ts`).
 */
import { MapOp } from "../map/expr.js";
import { POW2_MAGIC } from "../map/loops.js";
import type { MapInstr } from "../map/compile.js";
import type { FunctionBuilder } from "./function-builder.js";
import { MiscOp, Op, SimdOp } from "./opcodes.js";
import { Form, Mode } from "./map-plan.js";
import type { ProgramLocals } from "./map-locals.js";

export { ProgramLocals } from "./map-locals.js";

/** Byte lanes moving f32 lanes 2–3 of a vector into lanes 0–1. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Byte lanes joining lanes 0–1 of two vectors. */
const JOIN_LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
/** Byte lanes taking the low 32 bits of each 64-bit lane of two vectors (mask halves → i32x4 mask). */
const NARROW_MASK = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const SIGN32 = 0x80000000 | 0;

const F64X2: Partial<Record<MapOp, number>> = {
  [MapOp.add]: SimdOp.f64x2_add, [MapOp.sub]: SimdOp.f64x2_sub, [MapOp.mul]: SimdOp.f64x2_mul, [MapOp.div]: SimdOp.f64x2_div,
  [MapOp.max]: SimdOp.f64x2_max, [MapOp.min]: SimdOp.f64x2_min, [MapOp.neg]: SimdOp.f64x2_neg, [MapOp.abs]: SimdOp.f64x2_abs,
  [MapOp.sqrt]: SimdOp.f64x2_sqrt, [MapOp.floor]: SimdOp.f64x2_floor, [MapOp.ceil]: SimdOp.f64x2_ceil, [MapOp.trunc]: SimdOp.f64x2_trunc,
  [MapOp.nearest]: SimdOp.f64x2_nearest, [MapOp.gt]: SimdOp.f64x2_gt, [MapOp.ge]: SimdOp.f64x2_ge, [MapOp.lt]: SimdOp.f64x2_lt,
  [MapOp.le]: SimdOp.f64x2_le, [MapOp.eq]: SimdOp.f64x2_eq, [MapOp.ne]: SimdOp.f64x2_ne,
};
const F32X4: Partial<Record<MapOp, number>> = {
  [MapOp.add]: SimdOp.f32x4_add, [MapOp.sub]: SimdOp.f32x4_sub, [MapOp.mul]: SimdOp.f32x4_mul, [MapOp.div]: SimdOp.f32x4_div,
  [MapOp.max]: SimdOp.f32x4_max, [MapOp.min]: SimdOp.f32x4_min, [MapOp.neg]: SimdOp.f32x4_neg, [MapOp.abs]: SimdOp.f32x4_abs,
  [MapOp.sqrt]: SimdOp.f32x4_sqrt, [MapOp.floor]: SimdOp.f32x4_floor, [MapOp.ceil]: SimdOp.f32x4_ceil, [MapOp.trunc]: SimdOp.f32x4_trunc,
  [MapOp.nearest]: SimdOp.f32x4_nearest, [MapOp.gt]: SimdOp.f32x4_gt, [MapOp.ge]: SimdOp.f32x4_ge, [MapOp.lt]: SimdOp.f32x4_lt,
  [MapOp.le]: SimdOp.f32x4_le, [MapOp.eq]: SimdOp.f32x4_eq, [MapOp.ne]: SimdOp.f32x4_ne,
};
const F64: Partial<Record<MapOp, number>> = {
  [MapOp.add]: Op.f64_add, [MapOp.sub]: Op.f64_sub, [MapOp.mul]: Op.f64_mul, [MapOp.div]: Op.f64_div, [MapOp.max]: Op.f64_max,
  [MapOp.min]: Op.f64_min, [MapOp.neg]: Op.f64_neg, [MapOp.abs]: Op.f64_abs, [MapOp.sqrt]: Op.f64_sqrt, [MapOp.floor]: Op.f64_floor,
  [MapOp.ceil]: Op.f64_ceil, [MapOp.trunc]: Op.f64_trunc, [MapOp.nearest]: Op.f64_nearest, [MapOp.copysign]: Op.f64_copysign,
  [MapOp.gt]: Op.f64_gt, [MapOp.ge]: Op.f64_ge, [MapOp.lt]: Op.f64_lt, [MapOp.le]: Op.f64_le, [MapOp.eq]: Op.f64_eq, [MapOp.ne]: Op.f64_ne,
};

/**
 * Emits the SIMD step of instruction `ins` (its primary form and the conversions its consumers
 * need). `load` pushes the input vector of an array.
 *
 * @throws {Error} `internal:` for an instruction that has no vector form (host calls).
 * @example
 * ```ts
 * for (const ins of kernel.instrs) emitVector(f, L, ins, (j) => f.get(ptr[j]).v128Load(0));
 * ```
 */
export function emitVector(f: FunctionBuilder, L: ProgramLocals, ins: MapInstr, load: (array: number) => void): void {
  const p = L.p, s = ins.dst;
  if (p.uniform[s] || p.mode[s] === Mode.alias || !isLive(L, s)) return;
  switch (p.mode[s]) {
    case Mode.load:
      load(ins.a);
      f.set(L.vecL[s]!);
      break;
    case Mode.demote:
      demote(f, () => L.half(f, ins.a, 0), () => L.half(f, ins.a, 1));
      f.set(L.vecL[s]!);
      break;
    case Mode.f32op:
      vectorOp(f, L, p.byDst.get(p.via[s]!)!);
      f.set(L.vecL[s]!);
      break;
    case Mode.halves:
      for (const h of [0, 1] as const) {
        const pm = p.pminmax.get(s);
        if (pm) {
          L.half(f, pm[0], h);
          L.half(f, pm[1], h);
          f.simd(pm[2] ? SimdOp.f64x2_pmax : SimdOp.f64x2_pmin);
        } else if (ins.op === MapOp.exp2i) {
          // NaN → 0, clamp to [−1022, 1023], round; then 2^k from the bits of k + 2^52 + 1023
          L.half(f, ins.a, h);
          f.set(L.t[0]!).get(L.t[0]!).get(L.t[0]!).get(L.t[0]!).simd(SimdOp.f64x2_eq).simd(SimdOp.v128_and);
          f.f64x2Const(-1022).simd(SimdOp.f64x2_pmax).f64x2Const(1023).simd(SimdOp.f64x2_pmin).simd(SimdOp.f64x2_nearest);
          f.f64x2Const(4503599627371519).simd(SimdOp.f64x2_add).i32Const(52).simd(SimdOp.i64x2_shl);
        } else if (ins.op === MapOp.select) {
          L.half(f, ins.b, h);
          L.half(f, ins.c, h);
          L.m64(f, ins.a, h);
          f.simd(SimdOp.v128_bitselect);
        } else if (ins.op === MapOp.copysign) {
          L.half(f, ins.b, h);
          L.half(f, ins.a, h);
          f.i32x4Const(0, SIGN32, 0, SIGN32).simd(SimdOp.v128_bitselect);
        } else {
          L.half(f, ins.a, h);
          if (ins.b >= 0) L.half(f, ins.b, h);
          f.simd(simdOp(F64X2, ins.op));
        }
        f.set((h ? L.hi : L.lo)[s]!);
      }
      break;
    case Mode.mask:
      if (p.form[s] === Form.mask32) {
        if (ins.op === MapOp.and || ins.op === MapOp.or) {
          L.m32(f, ins.a);
          L.m32(f, ins.b);
          f.simd(ins.op === MapOp.and ? SimdOp.v128_and : SimdOp.v128_or);
        } else {
          L.vec(f, ins.a);
          L.vec(f, ins.b);
          f.simd(simdOp(F32X4, ins.op));
        }
        f.set(L.m32L[s]!);
      } else {
        for (const h of [0, 1] as const) {
          if (ins.op === MapOp.and || ins.op === MapOp.or) {
            L.m64(f, ins.a, h);
            L.m64(f, ins.b, h);
            f.simd(ins.op === MapOp.and ? SimdOp.v128_and : SimdOp.v128_or);
          } else {
            L.half(f, ins.a, h);
            L.half(f, ins.b, h);
            f.simd(simdOp(F64X2, ins.op));
          }
          f.set((h ? L.mhi : L.mlo)[s]!);
        }
      }
      break;
    default:
      throw new Error(`internal: map op ${ins.op} has no vector form`);
  }
  convert(f, L, s);
}

function isLive(L: ProgramLocals, s: number): boolean {
  return L.p.live[s]!;
}

function simdOp(table: Partial<Record<MapOp, number>>, op: MapOp): number {
  const code = table[op];
  if (code === undefined) throw new Error(`internal: map op ${op} has no SIMD instruction`);
  return code;
}

/** The forms of slot `s` its consumers need besides its primary one. */
function convert(f: FunctionBuilder, L: ProgramLocals, s: number): void {
  const p = L.p;
  if (p.needHalves[s]) {
    f.get(L.vecL[s]!).simd(SimdOp.f64x2_promote_low_f32x4).set(L.lo[s]!);
    f.get(L.vecL[s]!).get(L.vecL[s]!).i8x16Shuffle(HIGH_HALF).simd(SimdOp.f64x2_promote_low_f32x4).set(L.hi[s]!);
  }
  if (p.needVec[s]) {
    demote(f, () => f.get(L.lo[s]!), () => f.get(L.hi[s]!));
    f.set(L.vecL[s]!);
  }
  if (p.needMask64[s]) {
    f.get(L.m32L[s]!).simd(SimdOp.i64x2_extend_low_i32x4_s).set(L.mlo[s]!);
    f.get(L.m32L[s]!).simd(SimdOp.i64x2_extend_high_i32x4_s).set(L.mhi[s]!);
  }
  if (p.needMask32[s]) f.get(L.mlo[s]!).get(L.mhi[s]!).i8x16Shuffle(NARROW_MASK).set(L.m32L[s]!);
}

/** Pushes the float32 vector of two f64x2 halves (each pushed by its callback). */
function demote(f: FunctionBuilder, lo: () => void, hi: () => void): void {
  lo();
  f.simd(SimdOp.f32x4_demote_f64x2_zero);
  hi();
  f.simd(SimdOp.f32x4_demote_f64x2_zero).i8x16Shuffle(JOIN_LOW);
}

/** True when slot `s` is the constant +0. */
function isPlusZero(L: ProgramLocals, s: number): boolean {
  const k = L.k;
  return s >= k.numScalars && s < k.numScalars + k.consts.length && Object.is(k.consts[s - k.numScalars], 0);
}

/** Pushes `op` computed on vectors (exact ops, fused arithmetic, select, scalbn, exponent, mantissa). */
function vectorOp(f: FunctionBuilder, L: ProgramLocals, op: MapInstr): void {
  const [t, k1, k2] = L.t as [number, number, number];
  switch (op.op) {
    case MapOp.select: {
      const pm = L.p.pminmax.get(op.dst);
      if (pm) {
        L.vec(f, pm[0]);
        L.vec(f, pm[1]);
        f.simd(pm[2] ? SimdOp.f32x4_pmax : SimdOp.f32x4_pmin);
        return;
      }
      // c ? a : +0 is a & mask; c ? +0 : b is b & ~mask (+0 has no bits set)
      if (isPlusZero(L, op.c)) {
        L.vec(f, op.b);
        L.m32(f, op.a);
        f.simd(SimdOp.v128_and);
      } else if (isPlusZero(L, op.b)) {
        L.vec(f, op.c);
        L.m32(f, op.a);
        f.simd(SimdOp.v128_andnot);
      } else {
        L.vec(f, op.b);
        L.vec(f, op.c);
        L.m32(f, op.a);
        f.simd(SimdOp.v128_bitselect);
      }
      return;
    }
    case MapOp.copysign:
      L.vec(f, op.b);
      L.vec(f, op.a);
      f.i32x4Const(SIGN32).simd(SimdOp.v128_bitselect);
      return;
    case MapOp.exponent:
      L.vec(f, op.a);
      f.i32Const(23).simd(SimdOp.i32x4_shr_u).i32x4Const(255).simd(SimdOp.v128_and);
      f.i32x4Const(127).simd(SimdOp.i32x4_sub).simd(SimdOp.f32x4_convert_i32x4_s);
      return;
    case MapOp.pow2:
      L.vec(f, op.a);
      f.f32x4Const(POW2_MAGIC).simd(SimdOp.f32x4_add).i32Const(23).simd(SimdOp.i32x4_shl);
      return;
    case MapOp.mantissa:
      L.vec(f, op.a);
      f.i32x4Const(0x807fffff).simd(SimdOp.v128_and).i32x4Const(0x3f800000).simd(SimdOp.v128_or);
      return;
    case MapOp.scalbn:
      // k = clamp(trunc(n), −252, 254); x·2^(k>>1)·2^(k − (k>>1)), powers of two built from bits
      L.vec(f, op.b);
      f.simd(SimdOp.i32x4_trunc_sat_f32x4_s).i32x4Const(254).simd(SimdOp.i32x4_min_s).i32x4Const(-252).simd(SimdOp.i32x4_max_s).tee(t);
      f.i32Const(1).simd(SimdOp.i32x4_shr_s).set(k1);
      f.get(t).get(k1).simd(SimdOp.i32x4_sub).set(k2);
      L.vec(f, op.a);
      for (const k of [k1, k2]) f.get(k).i32x4Const(127).simd(SimdOp.i32x4_add).i32Const(23).simd(SimdOp.i32x4_shl).simd(SimdOp.f32x4_mul);
      return;
    default:
      L.vec(f, op.a);
      if (op.b >= 0) L.vec(f, op.b);
      f.simd(simdOp(F32X4, op.op));
  }
}

/**
 * Emits the scalar step of `ins` into its scalar local (`sc`, or `cnd` for conditions; the
 * uniform locals for per-call values). `load` pushes the f32 element of an array.
 *
 * @throws {Error} `internal:` for host calls.
 * @example
 * ```ts
 * emitScalar(f, L, ins, (j) => f.get(ptr[j]).f32Load(0));
 * ```
 */
export function emitScalar(f: FunctionBuilder, L: ProgramLocals, ins: MapInstr, load: (array: number) => void): void {
  const p = L.p, s = ins.dst, uni = p.uniform[s]!;
  if (!uni && (p.mode[s] === Mode.alias || !p.scalarLive[s])) return;
  const cond = (x: number) => (L.cond(f, x), f);
  const val = (x: number) => (L.val(f, x), f);
  const isCond = ins.op >= MapOp.gt && ins.op <= MapOp.or && ins.op !== MapOp.select;
  switch (ins.op) {
    case MapOp.input: load(ins.a); f.f64PromoteF32(); break;
    case MapOp.f32: val(ins.a).op(Op.f32_demote_f64).f64PromoteF32(); break;
    case MapOp.select: val(ins.b); val(ins.c); cond(ins.a).select(); break;
    case MapOp.and: case MapOp.or: cond(ins.a); cond(ins.b).op(ins.op === MapOp.and ? Op.i32_and : Op.i32_or); break;
    case MapOp.exponent:
      val(ins.a).op(Op.f32_demote_f64).op(Op.i32_reinterpret_f32).i32Const(23).op(Op.i32_shr_u).i32Const(255).i32And();
      f.i32Const(127).i32Sub().op(Op.f64_convert_i32_s);
      break;
    case MapOp.mantissa:
      val(ins.a).op(Op.f32_demote_f64).op(Op.i32_reinterpret_f32).i32Const(0x807fffff).i32And().i32Const(0x3f800000).i32Or();
      f.op(Op.f32_reinterpret_i32).f64PromoteF32();
      break;
    case MapOp.scalbn: scalarScalbn(f, L, ins); break;
    case MapOp.pow2:
      // fround(n) + magic in float64, then rounded: the float32 sum (53 ≥ 2·24 + 2)
      val(ins.a).op(Op.f32_demote_f64).f64PromoteF32().f64Const(POW2_MAGIC).f64Add().op(Op.f32_demote_f64);
      f.op(Op.i32_reinterpret_f32).i32Const(23).i32Shl();
      f.op(Op.f32_reinterpret_i32).f64PromoteF32();
      break;
    case MapOp.exp2i: {
      const x = L.td;
      val(ins.a).set(x);
      f.get(x).f64Const(0).get(x).get(x).op(Op.f64_eq).select().f64Const(-1022).op(Op.f64_max).f64Const(1023).op(Op.f64_min).op(Op.f64_nearest);
      f.misc(MiscOp.i32_trunc_sat_f64_s).i32Const(1023).i32Add().op(Op.i64_extend_i32_u).op(Op.i64_const).i32LebRaw(52).op(Op.i64_shl).op(Op.f64_reinterpret_i64);
      break;
    }
    case MapOp.call: throw new Error("internal: host calls are interpreted, not compiled");
    default:
      val(ins.a);
      if (ins.b >= 0) val(ins.b);
      f.op(F64[ins.op]!);
  }
  if (isCond) f.set(uni ? L.uC[s]! : L.cnd[s]!);
  else f.set(uni ? L.uS[s]! : L.sc[s]!);
}

function scalarScalbn(f: FunctionBuilder, L: ProgramLocals, ins: MapInstr): void {
  const [k, k1, x] = L.ti as [number, number, number];
  L.val(f, ins.b);
  f.op(Op.f32_demote_f64).misc(MiscOp.i32_trunc_sat_f32_s).set(k);
  // clamp into [−252, 254]
  f.i32Const(254).get(k).get(k).i32Const(254).op(Op.i32_gt_s).select().set(k);
  f.i32Const(-252).get(k).get(k).i32Const(-252).i32LtS().select().set(k);
  f.get(k).i32Const(1).op(Op.i32_shr_s).set(k1);
  L.val(f, ins.a);
  f.op(Op.f32_demote_f64).set(x);
  f.get(x).get(k1).i32Const(127).i32Add().i32Const(23).i32Shl().op(Op.f32_reinterpret_i32).f32Mul();
  f.get(k).get(k1).i32Sub().i32Const(127).i32Add().i32Const(23).i32Shl().op(Op.f32_reinterpret_i32).f32Mul();
  f.f64PromoteF32();
}

/**
 * After the per-call values' scalar steps: their vector forms (f64x2 splat, rounded f32x4
 * splat, and all-ones/all-zeros masks for conditions).
 *
 * @throws never.
 * @example
 * ```ts
 * splatUniforms(f, L);
 * ```
 */
export function splatUniforms(f: FunctionBuilder, L: ProgramLocals): void {
  for (let s = 0; s < L.k.numSlots; s++) {
    if (!L.p.uniform[s]) continue;
    f.get(L.uS[s]!).simd(SimdOp.f64x2_splat).set(L.uV[s]!);
    f.get(L.uS[s]!).op(Op.f32_demote_f64).f32x4Splat().set(L.uF[s]!);
    f.i32Const(0).get(L.uC[s]!).i32Sub().simd(SimdOp.i32x4_splat).set(L.uM[s]!);
  }
}
