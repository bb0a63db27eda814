/**
 * @file Emits WebAssembly SIMD kernels for long float32 vectors: the sum of squares (for
 * norms and clip-by-global-norm) and an in-place scale.
 *
 * NOTE: `sumsq` keeps four f32x4 partial sums inside chunks of {@link SUMSQ_CHUNK} floats (16
 * partial sums of 256 squares each, so float32 rounding stays near 1e-7 relative), and adds the
 * chunk totals in float64, so the error does not grow with the vector length.
 */
import type { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder, LocalIndex } from "./function-builder.js";
import { ValType } from "./opcodes.js";

/** Floats per float32-accumulated chunk of `sumsq`. */
export const SUMSQ_CHUNK = 4096;

const UNROLL_BYTES = 64; // four f32x4 per loop iteration

/**
 * Adds `sumsq(ptr, n) -> f64`: Σ x² over `n` float32 at byte address `ptr` (4-byte aligned).
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * emitSumSquares(mod); // then: instance.exports.sumsq(ptr, n)
 * ```
 */
export function emitSumSquares(mod: ModuleBuilder, exportName = "sumsq"): number {
  const { i32, f64, v128 } = ValType;
  return mod.addFunction([i32, i32], [f64], (f) => {
    const [p, n] = [0, 1];
    const total = f.local(f64), end = f.local(i32), chunkEnd = f.local(i32), vecEnd = f.local(i32);
    const acc = [f.local(v128), f.local(v128), f.local(v128), f.local(v128)];
    const v = f.local(v128), x = f.local(ValType.f32);

    f.get(p).get(n).i32Const(2).i32Shl().i32Add().set(end);
    f.get(n).i32Eqz().if(() => {
      f.f64Const(0).return();
    });
    f.loop((chunks) => {
      // chunkEnd = min(p + CHUNK·4, end); vecEnd = p + floor((chunkEnd − p) / 64)·64
      f.get(p).i32Const(SUMSQ_CHUNK * 4).i32Add().get(end);
      f.get(p).i32Const(SUMSQ_CHUNK * 4).i32Add().get(end).i32LtU().select().set(chunkEnd);
      f.get(chunkEnd).get(p).i32Sub().i32Const(-UNROLL_BYTES).i32And().get(p).i32Add().set(vecEnd);
      for (const a of acc) f.f32x4Const(0).set(a);
      f.get(p).get(vecEnd).i32Ne().if(() => {
        f.loop((vec) => {
          acc.forEach((a, i) => {
            f.get(p).v128Load(16 * i).tee(v).get(v).f32x4Mul().get(a).f32x4Add().set(a);
          });
          f.get(p).i32Const(UNROLL_BYTES).i32Add().tee(p).get(vecEnd).i32Ne().brIf(vec);
        });
      });
      f.get(acc[0]!).get(acc[1]!).f32x4Add().get(acc[2]!).get(acc[3]!).f32x4Add().f32x4Add().set(v);
      addLanesF64(f, v, total);
      // Scalar tail (only in the last chunk), squared in float64.
      f.block((done) => {
        f.loop((tail) => {
          f.get(p).get(chunkEnd).i32LtU().i32Eqz().brIf(done);
          f.get(p).f32Load().set(x);
          f.get(total).get(x).f64PromoteF32().get(x).f64PromoteF32().f64Mul().f64Add().set(total);
          f.get(p).i32Const(4).i32Add().set(p);
          f.br(tail);
        });
      });
      f.get(p).get(end).i32LtU().brIf(chunks);
    });
    f.get(total);
  }, exportName);
}

/** `total += (v0 + v1) + (v2 + v3)` with the lanes promoted to float64 first. */
function addLanesF64(f: FunctionBuilder, v: LocalIndex, total: LocalIndex): void {
  f.get(total);
  f.get(v).f32x4ExtractLane(0).f64PromoteF32().get(v).f32x4ExtractLane(1).f64PromoteF32().f64Add();
  f.get(v).f32x4ExtractLane(2).f64PromoteF32().get(v).f32x4ExtractLane(3).f64PromoteF32().f64Add();
  f.f64Add().f64Add().set(total);
}

/**
 * Adds `scale(ptr, n, s)`: `x ← x·s` in place for `n` float32 at byte address `ptr`.
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * emitScale(mod); // then: instance.exports.scale(ptr, n, 0.5)
 * ```
 */
export function emitScale(mod: ModuleBuilder, exportName = "scale"): number {
  const { i32, f32, v128 } = ValType;
  return mod.addFunction([i32, i32, f32], [], (f) => {
    const [p, n, s] = [0, 1, 2];
    const end = f.local(i32), vecEnd = f.local(i32), sv = f.local(v128);
    f.get(p).get(n).i32Const(2).i32Shl().i32Add().set(end);
    f.get(n).i32Const(-16).i32And().i32Const(2).i32Shl().get(p).i32Add().set(vecEnd);
    f.get(s).f32x4Splat().set(sv);
    f.get(p).get(vecEnd).i32Ne().if(() => {
      f.loop((vec) => {
        for (let i = 0; i < 4; i++) f.get(p).get(p).v128Load(16 * i).get(sv).f32x4Mul().v128Store(16 * i);
        f.get(p).i32Const(UNROLL_BYTES).i32Add().tee(p).get(vecEnd).i32Ne().brIf(vec);
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
  }, exportName);
}
