/**
 * @file Emits the WebAssembly SIMD kernels of activation quantization:
 *
 * - `quantize_u8(src, dst, n, inv, lo, hi, zp) → i32`: `n` floats at `src` to bytes at `dst`,
 *   `dst[i] = zp + rne(clamp(fl32(src[i]·inv), lo, hi))` with `lo = qmin − zp`, `hi = qmax − zp`
 *   (the same bytes as torch's `clamp(zp + rne(x·inv), qmin, qmax)`, see `int8/quantize-ts.ts`):
 *   `f32x4.mul`, `f32x4.pmax(lo, ·)` (a NaN gives `lo`, as the TS kernel), `f32x4.pmin(hi, ·)`,
 *   `f32x4.nearest` (round half to even), `i32x4.trunc_sat_f32x4_s` (exact: the value is an
 *   integer in [−255, 255], so no int32 overflow whatever the input), `+ zp`, then two
 *   saturating narrowings to 16 bytes. 16 floats per step, then 4, then 1. Returns non-zero when
 *   an input was NaN/±Infinity: `x − x` is +0 for every finite `x` and NaN otherwise, OR-ed into
 *   one vector tested once at the end.
 * - `minmax_f32(src, n, acc) → i32`: folds `n` floats into the running minimum and maximum
 *   vectors at `acc` (`acc` = 4 min lanes, `acc + 16` = 4 max lanes), 16 floats per step in 4
 *   independent pairs of `f32x4.pmin`/`pmax`, the tail by `v128.load32_splat`; returns non-zero
 *   when an input was non-finite (the lanes are then meaningless). The vectors stay in memory, so
 *   an array can be folded in pieces.
 *
 * {@link emitQuantizeU8} is also called by the int8 GEMM module, whose first phase quantizes
 * float activations with it.
 */
import { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { SimdOp, ValType } from "./opcodes.js";
import { sharedMaxPages } from "./runtime.js";

/** Opcodes used here that `SimdOp` does not name. */
const S = {
  i8x16_narrow_i16x8_u: 0x66,
  i16x8_narrow_i32x4_s: 0x85,
  v128_any_true: 0x53,
  v128_store8_lane: 0x58,
} as const;

const { i32, f32, v128 } = ValType;

/** Pushes the quantized int32 lanes of the floats in `x` (see the file comment). */
function quantizeLanes(f: FunctionBuilder, x: LocalIndex, inv: LocalIndex, lo: LocalIndex, hi: LocalIndex, zp: LocalIndex, bad: LocalIndex): void {
  f.get(bad).get(x).get(x).simd(SimdOp.f32x4_sub).simd(SimdOp.v128_or).set(bad);
  f.get(hi).get(lo).get(x).get(inv).f32x4Mul().simd(SimdOp.f32x4_pmax).simd(SimdOp.f32x4_pmin);
  f.simd(SimdOp.f32x4_nearest).simd(SimdOp.i32x4_trunc_sat_f32x4_s).get(zp).simd(SimdOp.i32x4_add);
}

/**
 * Adds `quantize_u8(src, dst, n, inv: f32, lo: f32, hi: f32, zp) → i32` to `mod` (exported
 * under `exportName` when given); returns its function index.
 *
 * @throws never.
 * @example
 * ```ts
 * const quant = emitQuantizeU8(mod); // call it from another function of mod
 * ```
 */
export function emitQuantizeU8(mod: ModuleBuilder, exportName?: string): number {
  return mod.addFunction([i32, i32, i32, f32, f32, f32, i32], [i32], (f) => {
    const [src, dst, n, invS, loS, hiS, zpS] = [0, 1, 2, 3, 4, 5, 6];
    const inv = f.local(v128), lo = f.local(v128), hi = f.local(v128), zp = f.local(v128), bad = f.local(v128);
    const x = f.local(v128), q = [f.local(v128), f.local(v128), f.local(v128), f.local(v128)];
    const end16 = f.local(i32), end4 = f.local(i32), end = f.local(i32);
    f.get(invS).f32x4Splat().set(inv);
    f.get(loS).f32x4Splat().set(lo);
    f.get(hiS).f32x4Splat().set(hi);
    f.get(zpS).simd(SimdOp.i32x4_splat).set(zp);
    f.get(src).get(n).i32Const(2).i32Shl().i32Add().set(end);
    f.get(src).get(n).i32Const(-16).i32And().i32Const(2).i32Shl().i32Add().set(end16);
    f.get(src).get(n).i32Const(-4).i32And().i32Const(2).i32Shl().i32Add().set(end4);
    f.block((done) => f.loop((next) => {
      f.get(src).get(end16).i32GeU().brIf(done);
      for (let j = 0; j < 4; j++) {
        f.get(src).v128Load(16 * j).set(x);
        quantizeLanes(f, x, inv, lo, hi, zp, bad);
        f.set(q[j]!);
      }
      f.get(dst);
      f.get(q[0]!).get(q[1]!).simd(S.i16x8_narrow_i32x4_s).get(q[2]!).get(q[3]!).simd(S.i16x8_narrow_i32x4_s);
      f.simd(S.i8x16_narrow_i16x8_u).v128Store();
      f.get(src).i32Const(64).i32Add().set(src);
      f.get(dst).i32Const(16).i32Add().set(dst).br(next);
    }));
    f.block((done) => f.loop((next) => {
      f.get(src).get(end4).i32GeU().brIf(done);
      f.get(src).v128Load().set(x);
      f.get(dst);
      quantizeLanes(f, x, inv, lo, hi, zp, bad);
      f.set(q[0]!).get(q[0]!).get(q[0]!).simd(S.i16x8_narrow_i32x4_s).set(q[0]!).get(q[0]!).get(q[0]!);
      f.simd(S.i8x16_narrow_i16x8_u).v128Store32Lane(0, 0);
      f.get(src).i32Const(16).i32Add().set(src);
      f.get(dst).i32Const(4).i32Add().set(dst).br(next);
    }));
    f.block((done) => f.loop((next) => {
      f.get(src).get(end).i32GeU().brIf(done);
      f.get(src).v128Load32Zero().set(x); // the zero lanes quantize harmlessly and are not stored
      f.get(dst);
      quantizeLanes(f, x, inv, lo, hi, zp, bad);
      f.set(q[0]!).get(q[0]!).get(q[0]!).simd(S.i16x8_narrow_i32x4_s).set(q[0]!).get(q[0]!).get(q[0]!);
      // v128.store8_lane: memarg (align 0, offset 0), lane 0 (one-byte LEB128 immediates)
      f.simd(S.i8x16_narrow_i16x8_u).simd(S.v128_store8_lane).i32LebRaw(0).i32LebRaw(0).i32LebRaw(0);
      f.get(src).i32Const(4).i32Add().set(src);
      f.get(dst).i32Const(1).i32Add().set(dst).br(next);
    }));
    f.get(bad).simd(S.v128_any_true);
  }, exportName);
}

/**
 * Adds `minmax_f32(src, n, acc) → i32` to `mod` (exported under `exportName` when given);
 * returns its function index.
 *
 * @throws never.
 * @example
 * ```ts
 * emitMinMaxF32(mod, "minmax_f32");
 * ```
 */
export function emitMinMaxF32(mod: ModuleBuilder, exportName?: string): number {
  return mod.addFunction([i32, i32, i32], [i32], (f) => {
    const [src, n, acc] = [0, 1, 2];
    const mn = [f.local(v128), f.local(v128), f.local(v128), f.local(v128)];
    const mx = [f.local(v128), f.local(v128), f.local(v128), f.local(v128)];
    const x = f.local(v128), bad = f.local(v128), end16 = f.local(i32), end = f.local(i32);
    /** Folds `x` into pair `j` and the non-finite flag. */
    const fold = (j: number) => {
      f.get(bad).get(x).get(x).simd(SimdOp.f32x4_sub).simd(SimdOp.v128_or).set(bad);
      f.get(mn[j]!).get(x).simd(SimdOp.f32x4_pmin).set(mn[j]!);
      f.get(mx[j]!).get(x).simd(SimdOp.f32x4_pmax).set(mx[j]!);
    };
    for (let j = 0; j < 4; j++) {
      f.get(acc).v128Load(0).set(mn[j]!);
      f.get(acc).v128Load(16).set(mx[j]!);
    }
    f.get(src).get(n).i32Const(2).i32Shl().i32Add().set(end);
    f.get(src).get(n).i32Const(-16).i32And().i32Const(2).i32Shl().i32Add().set(end16);
    f.block((done) => f.loop((next) => {
      f.get(src).get(end16).i32GeU().brIf(done);
      for (let j = 0; j < 4; j++) {
        f.get(src).v128Load(16 * j).set(x);
        fold(j);
      }
      f.get(src).i32Const(64).i32Add().set(src).br(next);
    }));
    f.block((done) => f.loop((next) => {
      f.get(src).get(end).i32GeU().brIf(done);
      f.get(src).v128Load32Splat().set(x);
      fold(0);
      f.get(src).i32Const(4).i32Add().set(src).br(next);
    }));
    for (let j = 1; j < 4; j++) {
      f.get(mn[0]!).get(mn[j]!).simd(SimdOp.f32x4_pmin).set(mn[0]!);
      f.get(mx[0]!).get(mx[j]!).simd(SimdOp.f32x4_pmax).set(mx[0]!);
    }
    f.get(acc).get(mn[0]!).v128Store(0);
    f.get(acc).get(mx[0]!).v128Store(16);
    f.get(bad).simd(S.v128_any_true);
  }, exportName);
}

/**
 * The standalone quantization module's bytes: imports its memory as `env.memory` (shared, with
 * the runtime's maximum, when `shared`) and exports `quantize_u8` and `minmax_f32`.
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * const mod = new WebAssembly.Module(quantizeModuleBytes(arena.shared));
 * ```
 */
export function quantizeModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder();
  mod.importMemory("env", "memory", shared ? { initial: 1, maximum: sharedMaxPages(), shared: true } : { initial: 1 });
  emitQuantizeU8(mod, "quantize_u8");
  emitMinMaxF32(mod, "minmax_f32");
  return mod.finish();
}
