/**
 * @file Emits the WebAssembly SIMD packing kernels of the GEMM. The JS driver first copies rows
 * of an operand into a staging area with `TypedArray.set` (a memcpy), then one of these turns the
 * staged block into `W`-wide k-major micro-panels: `dst[panel][p][0..W)` (see `gemm-kernel.ts`).
 *
 * - `pack_copy{W}`: the staged rows are indexed by p (row-major B, or column-major A): each step
 *   copies `W` contiguous floats;
 * - `pack_tr{W}`: the staged rows are indexed by the panel's row/column (row-major A, or
 *   column-major B): 4×4 blocks are transposed with `i8x16.shuffle` (unpck/movlh patterns).
 *
 * Both take `(src, ldBytes, panels, kc, dst)`: byte addresses, the staging row stride in bytes,
 * the number of micro-panels and the depth. They read whole panels, so the GEMM driver packs the
 * last, partial panel of an operand (fewer than `W` live rows or columns) with the scalar
 * `pack_edge`, which reads only live elements and writes zeros for the rest.
 */
import type { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { ValType } from "./opcodes.js";

/** Byte lanes of `i8x16.shuffle` selecting f32 lanes (0–3 from the first operand, 4–7 from the second). */
function f32Lanes(...lanes: number[]): number[] {
  return lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
}

const UNPACK_LO = f32Lanes(0, 4, 1, 5);
const UNPACK_HI = f32Lanes(2, 6, 3, 7);
const MOVE_LH = f32Lanes(0, 1, 4, 5);
const MOVE_HL = f32Lanes(2, 3, 6, 7);

/**
 * Adds `pack_copy{W}(src, ldBytes, panels, kc, dst)`:
 * `dst[(panel·kc + p)·W + j] = src[p·ld + panel·W + j]`.
 *
 * @throws {RangeError} when `w` is not a positive multiple of 4.
 * @example
 * ```ts
 * emitPackCopy(mod, 8); // exports pack_copy8
 * ```
 */
export function emitPackCopy(mod: ModuleBuilder, w: number): number {
  if (!(w >= 4) || w % 4 !== 0) throw new RangeError(`wasm: invalid panel width ${w}`);
  const I = ValType.i32;
  return mod.addFunction([I, I, I, I, I], [], (f) => {
    const [src, ld, panels, kc, dst] = [0, 1, 2, 3, 4];
    const srcEnd = f.local(I), sp = f.local(I), p = f.local(I), dp = f.local(I);
    f.get(panels).i32Eqz().get(kc).i32Eqz().i32Or().if(() => f.return());
    f.get(dst).set(dp);
    f.get(src).get(panels).i32Const(w * 4).i32Mul().i32Add().set(srcEnd);
    f.loop((panelLoop) => {
      f.get(src).set(sp);
      f.get(kc).set(p);
      // counted, not ended by a pointer compare: ld may be 0 (a broadcast operand read in place)
      f.loop((pLoop) => {
        for (let v = 0; v < w / 4; v++) f.get(dp).get(sp).v128Load(16 * v).v128Store(16 * v);
        f.get(dp).i32Const(w * 4).i32Add().set(dp);
        f.get(sp).get(ld).i32Add().set(sp);
        f.get(p).i32Const(-1).i32Add().tee(p).brIf(pLoop);
      });
      f.get(src).i32Const(w * 4).i32Add().tee(src).get(srcEnd).i32Ne().brIf(panelLoop);
    });
  }, `pack_copy${w}`);
}

/**
 * Adds `pack_tr{W}(src, ldBytes, panels, kc, dst)`:
 * `dst[(panel·kc + p)·W + i] = src[(panel·W + i)·ld + p]`.
 *
 * @throws {RangeError} when `w` is not a positive multiple of 4.
 * @example
 * ```ts
 * emitPackTranspose(mod, 4); // exports pack_tr4
 * ```
 */
export function emitPackTranspose(mod: ModuleBuilder, w: number): number {
  if (!(w >= 4) || w % 4 !== 0) throw new RangeError(`wasm: invalid panel width ${w}`);
  const { i32: I, v128: V } = ValType;
  return mod.addFunction([I, I, I, I, I], [], (f) => {
    const [src, ld, panels, kc, dst] = [0, 1, 2, 3, 4];
    const panel = f.local(I), sp = f.local(I), spEnd = f.local(I), dp = f.local(I), row = f.local(I), p = f.local(I);
    const r = [f.local(V), f.local(V), f.local(V), f.local(V)];
    const t = [f.local(V), f.local(V), f.local(V), f.local(V)];
    f.get(panels).i32Eqz().get(kc).i32Eqz().i32Or().if(() => f.return());
    f.get(dst).set(dp);
    f.loop((panelLoop) => {
      // Whole groups of 4 k steps: transpose W/4 blocks of 4×4.
      f.get(src).set(sp);
      f.get(kc).i32Const(-4).i32And().i32Const(2).i32Shl().get(src).i32Add().set(spEnd);
      f.get(sp).get(spEnd).i32Ne().if(() => {
        f.loop((pLoop) => {
          for (let g = 0; g < w / 4; g++) {
            f.get(sp).get(ld).i32Const(4 * g).i32Mul().i32Add().set(row);
            for (let q = 0; q < 4; q++) {
              f.get(row).v128Load().set(r[q]!);
              if (q < 3) f.get(row).get(ld).i32Add().set(row);
            }
            transpose4(f, r, t);
            for (let q = 0; q < 4; q++) f.get(dp).get(r[q]!).v128Store(q * w * 4 + 16 * g);
          }
          f.get(dp).i32Const(4 * w * 4).i32Add().set(dp);
          f.get(sp).i32Const(16).i32Add().tee(sp).get(spEnd).i32Ne().brIf(pLoop);
        });
      });
      // Remaining kc mod 4 steps, one float at a time.
      f.get(kc).i32Const(-4).i32And().set(p);
      f.block((done) => {
        f.loop((tail) => {
          f.get(p).get(kc).i32LtU().i32Eqz().brIf(done);
          for (let i = 0; i < w; i++) {
            f.get(dp).get(src).get(ld).i32Const(i).i32Mul().i32Add().get(p).i32Const(2).i32Shl().i32Add().f32Load().f32Store(4 * i);
          }
          f.get(dp).i32Const(w * 4).i32Add().set(dp);
          f.get(p).i32Const(1).i32Add().set(p);
          f.br(tail);
        });
      });
      f.get(src).get(ld).i32Const(w).i32Mul().i32Add().set(src);
      f.get(panel).i32Const(1).i32Add().tee(panel).get(panels).i32Ne().brIf(panelLoop);
    });
  }, `pack_tr${w}`);
}

/**
 * Adds `pack_edge(src, strideI, strideP, live, w, kc, dst)`, a scalar packer for one partial
 * micro-panel with arbitrary byte strides: `dst[p·w + i] = i < live ? src[i·strideI + p·strideP] : 0`
 * for `p < kc`, `i < w`. Requires `w ≥ 1`.
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * emitPackEdge(mod); // exports pack_edge
 * ```
 */
export function emitPackEdge(mod: ModuleBuilder): number {
  const I = ValType.i32;
  return mod.addFunction([I, I, I, I, I, I, I], [], (f) => {
    const [src, strideI, strideP, live, w, kc, dst] = [0, 1, 2, 3, 4, 5, 6];
    const p = f.local(I), i = f.local(I), q = f.local(I);
    f.get(kc).i32Eqz().if(() => f.return());
    f.loop((pLoop) => {
      f.get(src).set(q);
      f.i32Const(0).set(i);
      f.loop((iLoop) => {
        f.get(dst).i32Const(0).i32Store();
        f.get(i).get(live).i32LtU().if(() => void f.get(dst).get(q).f32Load().f32Store());
        f.get(dst).i32Const(4).i32Add().set(dst);
        f.get(q).get(strideI).i32Add().set(q);
        f.get(i).i32Const(1).i32Add().tee(i).get(w).i32Ne().brIf(iLoop);
      });
      f.get(src).get(strideP).i32Add().set(src);
      f.get(p).i32Const(1).i32Add().tee(p).get(kc).i32Ne().brIf(pLoop);
    });
  }, "pack_edge");
}

/** Transposes the 4×4 block in `r` (rows) in place, using `t` as temporaries. */
function transpose4(f: FunctionBuilder, r: readonly LocalIndex[], t: readonly LocalIndex[]): void {
  const [r0, r1, r2, r3] = r as [LocalIndex, LocalIndex, LocalIndex, LocalIndex];
  const [t0, t1, t2, t3] = t as [LocalIndex, LocalIndex, LocalIndex, LocalIndex];
  f.get(r0).get(r1).i8x16Shuffle(UNPACK_LO).set(t0); // r0[0] r1[0] r0[1] r1[1]
  f.get(r2).get(r3).i8x16Shuffle(UNPACK_LO).set(t1); // r2[0] r3[0] r2[1] r3[1]
  f.get(r0).get(r1).i8x16Shuffle(UNPACK_HI).set(t2); // r0[2] r1[2] r0[3] r1[3]
  f.get(r2).get(r3).i8x16Shuffle(UNPACK_HI).set(t3); // r2[2] r3[2] r2[3] r3[3]
  f.get(t0).get(t1).i8x16Shuffle(MOVE_LH).set(r0); // column 0
  f.get(t0).get(t1).i8x16Shuffle(MOVE_HL).set(r1); // column 1
  f.get(t2).get(t3).i8x16Shuffle(MOVE_LH).set(r2); // column 2
  f.get(t2).get(t3).i8x16Shuffle(MOVE_HL).set(r3); // column 3
}
