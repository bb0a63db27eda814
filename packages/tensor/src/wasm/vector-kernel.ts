/**
 * @file Emits the in-place vector kernels over float32 arrays in wasm memory — the sum of squares
 * and scaling — plus `vec_job(desc, phase, item, tid) → i32`, which runs one of them on piece
 * `item` of a table (how the worker pool shares them between threads; `item = −1` returns the
 * number of pieces).
 *
 * Every kernel computes exactly what its JS twin in `vector.ts` computes, bit for bit, so results
 * do not depend on the kernel set, on where an array lives or on the thread count:
 * - `scale32(ptr, n, c)`: `x ← x·c` in float32 (the correctly rounded float32 product, which is
 *   `fround(x·c)` of the float64 product when `c` is a float32 value); `scale64`: `fround(x·c)`
 *   for any float64 `c`;
 * - `sumsq(ptr, n, acc)`: `acc + Σx²` with exact float64 squares in one fixed summation order:
 *   chunks of {@link SUMSQ_CHUNK} floats from the array start, each summed in 8 float64 partial
 *   sums (float `8g + l` goes to partial `l`) combined as `((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7))`,
 *   then its last `len mod 8` squares in order; chunk sums are added to the running total in order.
 *   A float32 value squared is at most ~1.2e77, so no finite input overflows (`[1e20, 1e20]` gives
 *   2e40), and the relative error is float64-grade (about 1e-16·√(n/8) at worst).
 */
import type { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { Op, SimdOp, ValType } from "./opcodes.js";
import { SUMSQ_CHUNK } from "../kernels/vector.js";


/**
 * Operation codes of `vec_job`.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * arena.i32[(desc + VecDesc.op) >>> 2] = VecOp.scale64;
 * ```
 */
export const VecOp = { sumsq: 0, scale32: 1, scale64: 2 } as const;

/**
 * Byte offsets in a `vec_job` descriptor.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * arena.f64[(desc + VecDesc.c) >>> 3] = c; // the scale factor
 * ```
 */
export const VecDesc = { op: 0, table: 4, count: 8, out: 12, c: 24 } as const;
/**
 * Bytes per `vec_job` descriptor.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const table = base + VEC_DESC_BYTES; // the piece table follows the descriptor
 * ```
 */
export const VEC_DESC_BYTES = 64;
/**
 * Bytes per piece-table entry: `n, p0` (i32) and padding.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const out = table + pieces * VEC_PIECE_BYTES; // per-piece sums follow the table
 * ```
 */
export const VEC_PIECE_BYTES = 16;

const { i32, f32, f64, v128 } = ValType;

/** Demotes two f64x2 locals into one f32x4 (lo lanes 0–1, hi lanes 2–3) on the stack. */
function demotePair(f: FunctionBuilder, lo: LocalIndex, hi: LocalIndex): void {
  f.get(lo).simd(SimdOp.f32x4_demote_f64x2_zero).get(hi).simd(SimdOp.f32x4_demote_f64x2_zero);
  f.i8x16Shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
}

/**
 * Adds the vector kernels and `vec_job`; returns `vec_job`'s index.
 *
 * Exports: `sumsq(ptr, n, acc) → f64`, `scale32(ptr, n, c: f32)`, `scale64(ptr, n, c: f64)`,
 * `vec_job(desc, phase, item, tid) → i32`.
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * emitVectorKernels(mod); // then: instance.exports.sumsq(ptr, n, 0)
 * ```
 */
export function emitVectorKernels(mod: ModuleBuilder): number {
  const sumsq = mod.addFunction([i32, i32, f64], [f64], emitSumsq, "sumsq");
  const scale32 = mod.addFunction([i32, i32, f32], [], emitScale32, "scale32");
  const scale64 = mod.addFunction([i32, i32, f64], [], emitScale64, "scale64");
  return mod.addFunction([i32, i32, i32, i32], [i32], (f) => {
    const [desc, , item] = [0, 1, 2];
    const e = f.local(i32), op = f.local(i32), c = f.local(f64);
    f.get(item).i32Const(0).i32LtS().if(() => void f.get(desc).i32Load(VecDesc.count).return());
    f.get(desc).i32Load(VecDesc.op).set(op);
    f.get(desc).f64Load(VecDesc.c).set(c);
    f.get(desc).i32Load(VecDesc.table).get(item).i32Const(4).i32Shl().i32Add().set(e);
    const n = () => void f.get(e).i32Load(0);
    const p = (k: number) => void f.get(e).i32Load(4 + 4 * k);
    f.get(op).i32Const(VecOp.sumsq).op(Op.i32_eq).if(() => {
      f.get(desc).i32Load(VecDesc.out).get(item).i32Const(3).i32Shl().i32Add();
      p(0);
      n();
      f.f64Const(0).call(sumsq).f64Store();
    });
    f.get(op).i32Const(VecOp.scale32).op(Op.i32_eq).if(() => {
      p(0);
      n();
      f.get(c).op(Op.f32_demote_f64).call(scale32);
    });
    f.get(op).i32Const(VecOp.scale64).op(Op.i32_eq).if(() => {
      p(0);
      n();
      f.get(c).call(scale64);
    });
    f.i32Const(0);
  }, "vec_job");
}

/** `sumsq(ptr, n, acc)`: `acc` plus Σx² in the order of the file comment. */
function emitSumsq(f: FunctionBuilder): void {
  const [p, n, total] = [0, 1, 2];
  const end = f.local(i32), chunkEnd = f.local(i32), vecEnd = f.local(i32);
  const acc = [f.local(v128), f.local(v128), f.local(v128), f.local(v128)];
  const v = f.local(v128), r = f.local(f64), x = f.local(f64);
  f.get(p).get(n).i32Const(2).i32Shl().i32Add().set(end);
  f.get(n).i32Eqz().if(() => void f.get(total).return());
  f.loop((chunks) => {
    // chunkEnd = min(p + CHUNK·4, end); vecEnd = p + floor((chunkEnd − p) / 32)·32
    f.get(p).i32Const(SUMSQ_CHUNK * 4).i32Add().get(end);
    f.get(p).i32Const(SUMSQ_CHUNK * 4).i32Add().get(end).i32LtU().select().set(chunkEnd);
    f.get(chunkEnd).get(p).i32Sub().i32Const(-32).i32And().get(p).i32Add().set(vecEnd);
    for (const a of acc) f.f32x4Const(0).set(a);
    f.get(p).get(vecEnd).i32Ne().if(() => {
      f.loop((vec) => {
        acc.forEach((a, i) => {
          f.get(p).v128Load64Zero(8 * i).simd(SimdOp.f64x2_promote_low_f32x4).tee(v);
          f.get(v).simd(SimdOp.f64x2_mul).get(a).simd(SimdOp.f64x2_add).set(a);
        });
        f.get(p).i32Const(32).i32Add().tee(p).get(vecEnd).i32Ne().brIf(vec);
      });
    });
    // (acc0 + acc1) + (acc2 + acc3), then lane 0 + lane 1
    f.get(acc[0]!).get(acc[1]!).simd(SimdOp.f64x2_add).get(acc[2]!).get(acc[3]!).simd(SimdOp.f64x2_add).simd(SimdOp.f64x2_add).set(v);
    f.get(v).f64x2ExtractLane(0).get(v).f64x2ExtractLane(1).f64Add().set(r);
    f.block((done) => {
      f.loop((tail) => {
        f.get(p).get(chunkEnd).i32LtU().i32Eqz().brIf(done);
        f.get(p).f32Load().f64PromoteF32().set(x);
        f.get(r).get(x).get(x).f64Mul().f64Add().set(r);
        f.get(p).i32Const(4).i32Add().set(p);
        f.br(tail);
      });
    });
    f.get(total).get(r).f64Add().set(total);
    f.get(p).get(end).i32LtU().brIf(chunks);
  });
  f.get(total);
}

/** `scale32(ptr, n, c)`: `x ← x·c` in float32 (exact twin of JS when `c` is a float32 value). */
function emitScale32(f: FunctionBuilder): void {
  const [p, n, s] = [0, 1, 2];
  const end = f.local(i32), vecEnd = f.local(i32), sv = f.local(v128);
  f.get(p).get(n).i32Const(2).i32Shl().i32Add().set(end);
  f.get(n).i32Const(-16).i32And().i32Const(2).i32Shl().get(p).i32Add().set(vecEnd);
  f.get(s).f32x4Splat().set(sv);
  f.get(p).get(vecEnd).i32Ne().if(() => {
    f.loop((vec) => {
      for (let i = 0; i < 4; i++) f.get(p).get(p).v128Load(16 * i).get(sv).f32x4Mul().v128Store(16 * i);
      f.get(p).i32Const(64).i32Add().tee(p).get(vecEnd).i32Ne().brIf(vec);
    });
  });
  f.block((done) => {
    f.loop((tail) => {
      f.get(p).get(end).i32LtU().i32Eqz().brIf(done);
      f.get(p).get(p).f32Load().get(s).f32Mul().f32Store();
      f.get(p).i32Const(4).i32Add().set(p);
      f.br(tail);
    });
  });
}

/** `scale64(ptr, n, c)`: `x ← fround(x·c)`, four floats per step as two f64x2 halves; a scalar tail. */
function emitScale64(f: FunctionBuilder): void {
  const [y, n, c] = [0, 1, 2];
  const end = f.local(i32), vecEnd = f.local(i32), cv = f.local(v128), lo = f.local(v128), hi = f.local(v128);
  f.get(y).get(n).i32Const(2).i32Shl().i32Add().set(end);
  f.get(n).i32Const(-4).i32And().i32Const(2).i32Shl().get(y).i32Add().set(vecEnd);
  f.get(c).simd(SimdOp.f64x2_splat).set(cv);
  const half = (off: number, out: LocalIndex) => void f.get(y).v128Load64Zero(off).simd(SimdOp.f64x2_promote_low_f32x4).get(cv).simd(SimdOp.f64x2_mul).set(out);
  f.get(y).get(vecEnd).i32Ne().if(() => {
    f.loop((vec) => {
      half(0, lo);
      half(8, hi);
      f.get(y);
      demotePair(f, lo, hi);
      f.v128Store();
      f.get(y).i32Const(16).i32Add().tee(y).get(vecEnd).i32Ne().brIf(vec);
    });
  });
  f.block((done) => {
    f.loop((tail) => {
      f.get(y).get(end).i32LtU().i32Eqz().brIf(done);
      f.get(y).get(y).f32Load().f64PromoteF32().get(c).f64Mul().op(Op.f32_demote_f64).f32Store();
      f.get(y).i32Const(4).i32Add().set(y);
      f.br(tail);
    });
  });
}
