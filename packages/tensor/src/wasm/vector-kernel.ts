/**
 * @file Emits the in-place vector kernels over float32 arrays in wasm memory: sum of squares,
 * scale, axpy and a fused (clip-scaled) SGD step, plus `vec_job(desc, phase, item, tid) → i32`,
 * which runs one of them on piece `item` of a table (how the worker pool shares them between
 * threads; `item = −1` returns the number of pieces).
 *
 * Every kernel computes exactly what its JS twin in `vector.ts` computes, bit for bit, so results
 * do not depend on where an array lives or on the thread count:
 * - arithmetic is float64 with the same roundings to float32 (`fround` = demote + promote) as the
 *   JS expressions (`y[i] = y[i] + a * x[i]` rounds once when stored);
 * - the sums of squares use a fixed summation structure: chunks of {@link SUMSQ_CHUNK} floats from
 *   the array start, chunk sums added to a running float64 total in order.
 *   `sumsq` (fast): per 16 floats `x[i..i+16)`, lane `l < 4` forms in float32
 *   `q_l = (x[i+l]² + x[i+4+l]²) + (x[i+8+l]² + x[i+12+l]²)` and adds it to float64 partial `s_l`;
 *   a chunk's sum is `(s0 + s2) + (s1 + s3)` plus its last `len mod 16` squares in float64, in
 *   order. Each `q` is within about 4 float32 ulps, independently, so the total's relative error
 *   is about 1e-7/√(n/16) — but float32 squares overflow above 1.8e19 and underflow below 1e-19,
 *   which the caller detects (a non-finite or tiny total) and then uses
 *   `sumsq64` (exact): 8 float64 partial sums of exact squares (float `8g + l` goes to partial `l`),
 *   combined as `((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7))`, then the last `len mod 8` in order.
 */
import type { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder, LocalIndex } from "./function-builder.js";
import { Op, SimdOp, ValType } from "./opcodes.js";

/** Floats per chunk of the sum of squares (also the piece size when threads split one). */
export const SUMSQ_CHUNK = 16384;

/** Operation codes of `vec_job`. */
export const VecOp = { sumsq: 0, scale32: 1, scale64: 2, axpy: 3, sgd: 4, sumsq64: 5 } as const;

/** Byte offsets in a `vec_job` descriptor. */
export const VecDesc = { op: 0, table: 4, count: 8, out: 12, hp: 16, c: 24 } as const;
/** Bytes per `vec_job` descriptor. */
export const VEC_DESC_BYTES = 64;
/** Bytes per piece-table entry: `n, p0, p1, p2` (i32). */
export const VEC_PIECE_BYTES = 16;

/** Byte offsets of the SGD hyper-parameter block (f64 values, then i32 flags). */
export const SgdHp = { lr: 0, mu: 8, keep: 16, wd: 24, gs: 32, flags: 40, bytes: 48 } as const;
/** Flag bits of the SGD block. */
export const SgdFlag = { first: 1, nesterov: 2, momentum: 4, decay: 8, unitKeep: 16, unitScale: 32 } as const;

const { i32, f32, f64, v128 } = ValType;

/** `fround` on both f64x2 lanes (on the stack). */
function fround2(f: FunctionBuilder): FunctionBuilder {
  return f.simd(SimdOp.f32x4_demote_f64x2_zero).simd(SimdOp.f64x2_promote_low_f32x4);
}

/** Demotes two f64x2 locals into one f32x4 (lo lanes 0–1, hi lanes 2–3) on the stack. */
function demotePair(f: FunctionBuilder, lo: LocalIndex, hi: LocalIndex): void {
  f.get(lo).simd(SimdOp.f32x4_demote_f64x2_zero).get(hi).simd(SimdOp.f32x4_demote_f64x2_zero);
  f.i8x16Shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
}

/**
 * Adds the vector kernels and `vec_job`; returns `vec_job`'s index.
 *
 * Exports: `sumsq(ptr, n, acc) → f64`, `sumsq64(ptr, n, acc) → f64`, `scale32(ptr, n, c: f32)`, `scale64(ptr, n, c: f64)`,
 * `axpy(y, x, n, a: f64)`, `sgd(p, g, b, n, hp)`, `vec_job(desc, phase, item, tid) → i32`.
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * emitVectorKernels(mod); // then: instance.exports.sumsq(ptr, n, 0)
 * ```
 */
export function emitVectorKernels(mod: ModuleBuilder): number {
  const sumsq = mod.addFunction([i32, i32, f64], [f64], emitSumsqFast, "sumsq");
  const sumsq64 = mod.addFunction([i32, i32, f64], [f64], emitSumsq, "sumsq64");
  const scale32 = mod.addFunction([i32, i32, f32], [], emitScale32, "scale32");
  const scale64 = mod.addFunction([i32, i32, f64], [], (f) => emitMap(f, false), "scale64");
  const axpy = mod.addFunction([i32, i32, i32, f64], [], (f) => emitMap(f, true), "axpy");
  const sgd = mod.addFunction([i32, i32, i32, i32, i32], [], emitSgd, "sgd");
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
    f.get(op).i32Const(VecOp.sumsq64).op(Op.i32_eq).if(() => {
      f.get(desc).i32Load(VecDesc.out).get(item).i32Const(3).i32Shl().i32Add();
      p(0);
      n();
      f.f64Const(0).call(sumsq64).f64Store();
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
    f.get(op).i32Const(VecOp.axpy).op(Op.i32_eq).if(() => {
      p(0);
      p(1);
      n();
      f.get(c).call(axpy);
    });
    f.get(op).i32Const(VecOp.sgd).op(Op.i32_eq).if(() => {
      p(0);
      p(1);
      p(2);
      n();
      f.get(desc).i32Load(VecDesc.hp).call(sgd);
    });
    f.i32Const(0);
  }, "vec_job");
}

/** Byte lanes of `i8x16.shuffle` moving f32 lanes 2–3 to 0–1. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/** `sumsq(ptr, n, acc)`: `acc` plus Σx², fast structure of the file comment. */
function emitSumsqFast(f: FunctionBuilder): void {
  const [p, n, total] = [0, 1, 2];
  const end = f.local(i32), chunkEnd = f.local(i32), vecEnd = f.local(i32);
  const acc = [f.local(v128), f.local(v128)];
  const v = [f.local(v128), f.local(v128), f.local(v128), f.local(v128)];
  const q = f.local(v128), r = f.local(f64), x = f.local(f64);
  f.get(p).get(n).i32Const(2).i32Shl().i32Add().set(end);
  f.get(n).i32Eqz().if(() => void f.get(total).return());
  f.loop((chunks) => {
    // chunkEnd = min(p + CHUNK·4, end); vecEnd = p + floor((chunkEnd − p) / 64)·64
    f.get(p).i32Const(SUMSQ_CHUNK * 4).i32Add().get(end);
    f.get(p).i32Const(SUMSQ_CHUNK * 4).i32Add().get(end).i32LtU().select().set(chunkEnd);
    f.get(chunkEnd).get(p).i32Sub().i32Const(-64).i32And().get(p).i32Add().set(vecEnd);
    for (const a of acc) f.f32x4Const(0).set(a);
    f.get(p).get(vecEnd).i32Ne().if(() => {
      f.loop((vec) => {
        v.forEach((vi, i) => void f.get(p).v128Load(16 * i).tee(vi).get(vi).f32x4Mul().set(vi));
        f.get(v[0]!).get(v[1]!).f32x4Add().get(v[2]!).get(v[3]!).f32x4Add().f32x4Add().set(q);
        f.get(q).simd(SimdOp.f64x2_promote_low_f32x4).get(acc[0]!).simd(SimdOp.f64x2_add).set(acc[0]!);
        f.get(q).get(q).i8x16Shuffle(HIGH_HALF).simd(SimdOp.f64x2_promote_low_f32x4).get(acc[1]!).simd(SimdOp.f64x2_add).set(acc[1]!);
        f.get(p).i32Const(64).i32Add().tee(p).get(vecEnd).i32Ne().brIf(vec);
      });
    });
    // (s0 + s2, s1 + s3), then lane 0 + lane 1
    f.get(acc[0]!).get(acc[1]!).simd(SimdOp.f64x2_add).set(q);
    f.get(q).f64x2ExtractLane(0).get(q).f64x2ExtractLane(1).f64Add().set(r);
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

/** `sumsq64(ptr, n, acc)`: `acc` plus Σx², exact structure of the file comment. */
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

/**
 * `scale64(ptr, n, c)`: `x ← fround(x·c)`; with `axpy`, `axpy(y, x, n, a)`: `y ← fround(y + a·x)`.
 * Four floats per step as two f64x2 halves; a scalar tail.
 */
function emitMap(f: FunctionBuilder, axpy: boolean): void {
  const y = 0, x = axpy ? 1 : 0, n = axpy ? 2 : 1, c = axpy ? 3 : 2;
  const end = f.local(i32), vecEnd = f.local(i32), cv = f.local(v128), lo = f.local(v128), hi = f.local(v128);
  f.get(y).get(n).i32Const(2).i32Shl().i32Add().set(end);
  f.get(n).i32Const(-4).i32And().i32Const(2).i32Shl().get(y).i32Add().set(vecEnd);
  f.get(c).simd(SimdOp.f64x2_splat).set(cv);
  const half = (off: number, out: LocalIndex) => {
    if (axpy) {
      f.get(y).v128Load64Zero(off).simd(SimdOp.f64x2_promote_low_f32x4);
      f.get(cv).get(x).v128Load64Zero(off).simd(SimdOp.f64x2_promote_low_f32x4).simd(SimdOp.f64x2_mul).simd(SimdOp.f64x2_add).set(out);
    } else f.get(y).v128Load64Zero(off).simd(SimdOp.f64x2_promote_low_f32x4).get(cv).simd(SimdOp.f64x2_mul).set(out);
  };
  f.get(y).get(vecEnd).i32Ne().if(() => {
    f.loop((vec) => {
      half(0, lo);
      half(8, hi);
      f.get(y);
      demotePair(f, lo, hi);
      f.v128Store();
      f.get(y).i32Const(16).i32Add().set(y);
      if (axpy) f.get(x).i32Const(16).i32Add().set(x);
      f.get(y).get(vecEnd).i32Ne().brIf(vec);
    });
  });
  f.block((done) => {
    f.loop((tail) => {
      f.get(y).get(end).i32LtU().i32Eqz().brIf(done);
      f.get(y);
      if (axpy) f.get(y).f32Load().f64PromoteF32().get(c).get(x).f32Load().f64PromoteF32().f64Mul().f64Add();
      else f.get(y).f32Load().f64PromoteF32().get(c).f64Mul();
      f.op(Op.f32_demote_f64).f32Store();
      f.get(y).i32Const(4).i32Add().set(y);
      if (axpy) f.get(x).i32Const(4).i32Add().set(x);
      f.br(tail);
    });
  });
}

/**
 * `sgd(p, g, b, n, hp)`: PyTorch's SGD step with the gradient scaled first (see `vector.ts`
 * `sgdStepJs` for the reference expression); two floats per step, one in the tail.
 */
function emitSgd(f: FunctionBuilder): void {
  const [p, g, b, n, hp] = [0, 1, 2, 3, 4];
  const end = f.local(i32), flags = f.local(i32);
  const lr = f.local(v128), mu = f.local(v128), keep = f.local(v128), wd = f.local(v128), gs = f.local(v128);
  const gv = f.local(v128), pv = f.local(v128), bv = f.local(v128);
  f.get(p).get(n).i32Const(2).i32Shl().i32Add().set(end);
  f.get(hp).i32Load(SgdHp.flags).set(flags);
  const splat = (off: number, to: LocalIndex) => void f.get(hp).f64Load(off).simd(SimdOp.f64x2_splat).set(to);
  splat(SgdHp.lr, lr);
  splat(SgdHp.mu, mu);
  splat(SgdHp.keep, keep);
  splat(SgdHp.wd, wd);
  splat(SgdHp.gs, gs);
  const flag = (bit: number) => void f.get(flags).i32Const(bit).i32And();
  /** One step over `w` floats (2: 64-bit loads/stores; 1: 32-bit). */
  const step = (w: 1 | 2) => {
    const ld = (ptr: number) => {
      f.get(ptr);
      if (w === 2) f.v128Load64Zero();
      else f.v128Load32Zero();
      f.simd(SimdOp.f64x2_promote_low_f32x4);
    };
    const st = (ptr: number, v: LocalIndex) => {
      f.get(ptr).get(v).simd(SimdOp.f32x4_demote_f64x2_zero);
      if (w === 2) f.v128Store64Lane(0, 0);
      else f.v128Store32Lane(0, 0);
    };
    ld(g);
    fround2(f.get(gs).simd(SimdOp.f64x2_mul)).set(gv);
    ld(p);
    f.set(pv);
    flag(SgdFlag.decay);
    f.if(() => void fround2(f.get(gv).get(wd).get(pv).simd(SimdOp.f64x2_mul).simd(SimdOp.f64x2_add)).set(gv));
    flag(SgdFlag.momentum);
    f.if(() => {
      flag(SgdFlag.first);
      f.if(
        () => void f.get(gv).set(bv),
        () => {
          ld(b);
          fround2(f.get(mu).simd(SimdOp.f64x2_mul));
          fround2(f.get(keep).get(gv).simd(SimdOp.f64x2_mul).simd(SimdOp.f64x2_add)).set(bv);
        },
      );
      st(b, bv);
      flag(SgdFlag.nesterov);
      f.if(
        () => void fround2(f.get(gv).get(mu).get(bv).simd(SimdOp.f64x2_mul).simd(SimdOp.f64x2_add)).set(gv),
        () => void f.get(bv).set(gv),
      );
    });
    f.get(pv).get(lr).get(gv).simd(SimdOp.f64x2_mul).simd(SimdOp.f64x2_sub).set(pv);
    st(p, pv);
    f.get(p).i32Const(4 * w).i32Add().set(p);
    f.get(g).i32Const(4 * w).i32Add().set(g);
    f.get(b).i32Const(4 * w).i32Add().set(b);
  };
  // PyTorch's default momentum SGD (no dampening, decay, Nesterov or gradient scale) first runs
  // a branch-free loop over 4 floats per iteration; the general loop below does the rest.
  f.get(flags).i32Const(SgdFlag.momentum | SgdFlag.unitKeep | SgdFlag.unitScale).op(Op.i32_eq).if(() => sgdMomentumQuads(f, p, g, b, end, lr, mu));
  f.block((done) => {
    f.loop((pairs) => {
      f.get(p).i32Const(8).i32Add().get(end).op(Op.i32_gt_u).brIf(done);
      step(2);
      f.br(pairs);
    });
  });
  f.get(p).get(end).i32LtU().if(() => step(1));
}

/**
 * The momentum step with `keep = 1` and `gs = 1` over whole groups of 4 floats, advancing the
 * pointers `p`, `g`, `b` (`end` is the end of `p`): the general loop's `b' = fround(fround(μ·b) +
 * g)`, `θ' = θ − lr·b'`, but with the sum of the two float32 values `fround(μ·b)` and `g` done by
 * `f32x4.add`: rounding their exact float64 sum to float32 gives the correctly rounded float32 sum
 * (double rounding is innocuous for float64 → float32 since 53 ≥ 2·24 + 2), so the bits are the
 * same with half the float64 conversions.
 */
function sgdMomentumQuads(f: FunctionBuilder, p: LocalIndex, g: LocalIndex, b: LocalIndex, end: LocalIndex, lr: LocalIndex, mu: LocalIndex): void {
  const lo = f.local(v128), hi = f.local(v128), bq = f.local(v128);
  const scaled = (ptr: LocalIndex, off: number, by: LocalIndex, to: LocalIndex) =>
    void f.get(ptr).v128Load64Zero(off).simd(SimdOp.f64x2_promote_low_f32x4).get(by).simd(SimdOp.f64x2_mul).set(to);
  f.block((done) => {
    f.loop((quads) => {
      f.get(p).i32Const(16).i32Add().get(end).op(Op.i32_gt_u).brIf(done);
      // bq = fround(μ·b) + g in float32, stored as the new b
      scaled(b, 0, mu, lo);
      scaled(b, 8, mu, hi);
      f.get(b);
      demotePair(f, lo, hi);
      f.get(g).v128Load().f32x4Add().tee(bq).v128Store();
      // θ' = θ − lr·b' in float64, per half
      f.get(bq).simd(SimdOp.f64x2_promote_low_f32x4).get(lr).simd(SimdOp.f64x2_mul).set(lo);
      f.get(bq).get(bq).i8x16Shuffle(HIGH_HALF).simd(SimdOp.f64x2_promote_low_f32x4).get(lr).simd(SimdOp.f64x2_mul).set(hi);
      f.get(p).v128Load64Zero(0).simd(SimdOp.f64x2_promote_low_f32x4).get(lo).simd(SimdOp.f64x2_sub).set(lo);
      f.get(p).v128Load64Zero(8).simd(SimdOp.f64x2_promote_low_f32x4).get(hi).simd(SimdOp.f64x2_sub).set(hi);
      f.get(p);
      demotePair(f, lo, hi);
      f.v128Store();
      f.get(p).i32Const(16).i32Add().set(p);
      f.get(g).i32Const(16).i32Add().set(g);
      f.get(b).i32Const(16).i32Add().set(b);
      f.br(quads);
    });
  });
}
