/**
 * @file Emits the reduction folds of the kernel module: `fold_sum`, `fold_prod`, `fold_max`,
 * `fold_min` and `fold_sqdev`, each `(ptr, n, c, lanes)`: `n` contiguous floats at `ptr` folded
 * into the four float64 lane accumulators at `lanes` (element `k` into lane `k mod 4`, the order
 * of `kernels/reduce-row.ts`; `c` is SQDEV's center). Two `f64x2` registers hold the lanes: per
 * four floats one load, two promotions and two folds. The lanes stay in memory between calls, so
 * a long row can be folded in pieces (whose lengths are multiples of 4) with the same bits.
 */
import type { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { Op, SimdOp, ValType } from "./opcodes.js";
import { ReduceKind } from "../kernels/reduce-row.js";

const { i32, f64, v128 } = ValType;
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/**
 * Export names of the folds, by reduction kind (EXPSUM has none: it needs `exp`).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * arena.exports[FOLD_EXPORTS[ReduceKind.SUM]!];
 * ```
 */
export const FOLD_EXPORTS: Partial<Record<ReduceKind, "fold_sum" | "fold_prod" | "fold_max" | "fold_min" | "fold_sqdev">> = {
  [ReduceKind.SUM]: "fold_sum", [ReduceKind.PROD]: "fold_prod", [ReduceKind.MAX]: "fold_max",
  [ReduceKind.MIN]: "fold_min", [ReduceKind.SQDEV]: "fold_sqdev",
};

/** Folds the two float64 lanes of `v` into the accumulator lanes `a` for `kind` (`c`: SQDEV's center, splat). */
function foldVec(f: FunctionBuilder, kind: ReduceKind, a: LocalIndex, v: LocalIndex, c: LocalIndex): void {
  if (kind === ReduceKind.SQDEV) {
    f.get(v).get(c).simd(SimdOp.f64x2_sub).tee(v).get(v).simd(SimdOp.f64x2_mul).set(v);
  }
  if (kind === ReduceKind.SUM || kind === ReduceKind.SQDEV) f.get(a).get(v).simd(SimdOp.f64x2_add).set(a);
  else if (kind === ReduceKind.PROD) f.get(a).get(v).simd(SimdOp.f64x2_mul).set(a);
  else {
    // a ← v where v beats a or v is NaN (NaN wins)
    f.get(v).get(a).get(v).get(a).simd(kind === ReduceKind.MAX ? SimdOp.f64x2_gt : SimdOp.f64x2_lt);
    f.get(v).get(v).simd(SimdOp.f64x2_ne).simd(SimdOp.v128_or).simd(SimdOp.v128_bitselect).set(a);
  }
}

/** The same for one float64 lane (`a`, `v` and `c` f64 locals). */
function foldScalar(f: FunctionBuilder, kind: ReduceKind, a: LocalIndex, v: LocalIndex, c: number): void {
  if (kind === ReduceKind.SQDEV) f.get(v).get(c).op(Op.f64_sub).tee(v).get(v).op(Op.f64_mul).set(v);
  if (kind === ReduceKind.SUM || kind === ReduceKind.SQDEV) f.get(a).get(v).op(Op.f64_add).set(a);
  else if (kind === ReduceKind.PROD) f.get(a).get(v).op(Op.f64_mul).set(a);
  else {
    f.get(v).get(a).get(v).get(a).op(kind === ReduceKind.MAX ? Op.f64_gt : Op.f64_lt);
    f.get(v).get(v).op(Op.f64_ne).op(Op.i32_or).select().set(a);
  }
}

function emitFold(f: FunctionBuilder, kind: ReduceKind): void {
  const [ptr, n, c, lanes] = [0, 1, 2, 3];
  const A = f.local(v128), B = f.local(v128), v = f.local(v128), w = f.local(v128), cv = f.local(v128), x = f.local(v128);
  const end = f.local(i32), s = f.local(f64);
  const l = [f.local(f64), f.local(f64), f.local(f64)];
  f.get(lanes).v128Load(0).set(A);
  f.get(lanes).v128Load(16).set(B);
  f.get(c).simd(SimdOp.f64x2_splat).set(cv);
  f.get(n).i32Const(-4).i32And().i32Const(2).i32Shl().get(ptr).i32Add().set(end);
  f.block((done) => f.loop((next) => {
    f.get(ptr).get(end).i32GeU().brIf(done);
    f.get(ptr).v128Load(0).tee(x).simd(SimdOp.f64x2_promote_low_f32x4).set(v);
    f.get(x).get(x).i8x16Shuffle(HIGH_HALF).simd(SimdOp.f64x2_promote_low_f32x4).set(w);
    foldVec(f, kind, A, v, cv);
    foldVec(f, kind, B, w, cv);
    f.get(ptr).i32Const(16).i32Add().set(ptr).br(next);
  }));
  f.get(lanes).get(A).v128Store(0);
  f.get(lanes).get(B).v128Store(16);
  // The last n mod 4 elements go to lanes 0, 1, 2.
  f.get(lanes).f64Load(0).set(l[0]!);
  f.get(lanes).f64Load(8).set(l[1]!);
  f.get(lanes).f64Load(16).set(l[2]!);
  for (let t = 0; t < 3; t++) {
    f.get(n).i32Const(3).i32And().i32Const(t).op(Op.i32_gt_u).if(() => {
      f.get(ptr).f32Load(4 * t).f64PromoteF32().set(s);
      foldScalar(f, kind, l[t]!, s, c);
    });
  }
  f.get(lanes).get(l[0]!).f64Store(0);
  f.get(lanes).get(l[1]!).f64Store(8);
  f.get(lanes).get(l[2]!).f64Store(16);
}

/**
 * Adds the fold functions to `mod` (see the file comment).
 *
 * @throws never.
 * @example
 * ```ts
 * emitReduceKernels(mod); // exports fold_sum, fold_prod, fold_max, fold_min, fold_sqdev
 * ```
 */
export function emitReduceKernels(mod: ModuleBuilder): void {
  for (const [kind, name] of Object.entries(FOLD_EXPORTS)) {
    mod.addFunction([i32, i32, f64, i32], [], (f) => emitFold(f, Number(kind) as ReduceKind), name);
  }
}
