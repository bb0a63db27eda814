/**
 * @file Emits the two register-tile kernels of the WebAssembly SIMD int8 GEMM, which phase 1 of
 * the int8 job (`gemm-int8-kernel.ts`) calls per K block: `block`, a 4×8 tile over packed 4-row
 * activation panels, and `rowBlock`, one row at a time for products with fewer than 4 rows.
 *
 * Operands are byte addresses: `(x[k], x[k+1])` pairs of packed activations (int16, 16 bytes per
 * pair step of a 4-row panel, see the job's phase 0), 8-column weight panels of
 * `(w[k], w[k+1])` pairs (32 bytes per pair step, packed once, see `int8/packed.ts`) and C
 * (int32, row stride `ldc` bytes), which the first K block stores and later ones add to.
 *
 * The 4×8 register tile is 8 `i32x4` accumulators: per pair step it loads the panel's two
 * vectors of `(w[k], w[k+1])` pairs, broadcasts each row's `(x[k], x[k+1])` pair with
 * `v128.load32_splat` and does `acc += i32x4.dot_i16x8_s(a, b)`: 64 multiply-adds in 16
 * arithmetic instructions, exact in int32 (a pair's products sum to at most 2·255·128). 11 vector
 * registers are live, which fits V8's allocatable XMM registers. The one-row kernel takes each
 * row's lane of the packed panel, 32 features = 8 accumulators at a time, so a batch of 1 does not
 * pay for 4 rows.
 */
import type { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { Op, SimdOp, ValType } from "./opcodes.js";

/** SIMD opcodes used here that `SimdOp` does not name. */
const S = {
  i32x4_dot_i16x8_s: 0xba,
} as const;

const I = ValType.i32;
const V = ValType.v128;

/**
 * Adds `block(pa, pb, pc, mPanels, nPanels, depth, ldc, first, aStride, bStride)` to `mod`: the 4×8
 * tiles of C `(+)=` packed activations × weights (see `emitBlock` below); returns its function index.
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * const block = emitInt8Block(mod);
 * f.get(pa).get(pb).get(pc).get(mPan).get(nPan).get(depth).get(ldc).get(first).get(aStride).get(bStride).call(block);
 * ```
 */
export function emitInt8Block(mod: ModuleBuilder): number {
  return mod.addFunction([I, I, I, I, I, I, I, I, I, I], [], emitBlock);
}

/**
 * Adds `rowBlock(ap, pb, pc, nPanels, depth, first, bStride)` to `mod`: one row
 * of C `(+)=` its activations × weights (see `emitRowBlock` below); returns its function index.
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * const rowBlock = emitInt8RowBlock(mod);
 * f.get(ap).get(pb).get(pc).get(nPan).get(depth).get(first).get(bStride).call(rowBlock);
 * ```
 */
export function emitInt8RowBlock(mod: ModuleBuilder): number {
  return mod.addFunction([I, I, I, I, I, I, I], [], emitRowBlock);
}

/**
 * `rowBlock(ap, pb, pc, nPanels, depth, first, bStride)`: one row of C (at `pc`) `(+)=` its
 * activations (the row's lane of a packed 4-row panel: pairs 16 bytes apart from `ap`) times
 * `nPanels` weight panels, over `depth ≥ 1` pairs: 4 panels (32 features, 8 accumulators) at a
 * time, then single panels. For products with fewer than 4 rows.
 */
function emitRowBlock(f: FunctionBuilder): void {
  const [ap0, pb, pc, nPan, depth, first, bStride] = [0, 1, 2, 3, 4, 5, 6];
  const ap = f.local(I), aEnd = f.local(I), left = f.local(I), cp = f.local(I), bp0 = f.local(I);
  const bp = [f.local(I), f.local(I), f.local(I), f.local(I)];
  const acc: LocalIndex[] = [];
  for (let i = 0; i < 8; i++) acc.push(f.local(V));
  const av = f.local(V), b0 = f.local(V), b1 = f.local(V);
  f.get(pb).set(bp0);
  f.get(pc).set(cp);
  f.get(nPan).set(left);
  /** `w` panels (1 or 4) from `bp0` into C at `cp`; advances both. */
  const panels = (w: number) => {
    for (let j = 0; j < 2 * w; j++) f.i32x4Const(0).set(acc[j]!);
    for (let j = 0; j < w; j++) {
      f.get(bp0);
      if (j > 0) f.get(bStride).i32Const(j).i32Mul().i32Add();
      f.set(bp[j]!);
    }
    f.get(ap0).tee(ap).get(depth).i32Const(4).i32Shl().i32Add().set(aEnd);
    f.loop((kLoop) => {
      f.get(ap).v128Load32Splat().set(av);
      for (let j = 0; j < w; j++) {
        f.get(bp[j]!).v128Load(0).set(b0);
        f.get(bp[j]!).v128Load(16).set(b1);
        f.get(acc[2 * j]!).get(av).get(b0).simd(S.i32x4_dot_i16x8_s).simd(SimdOp.i32x4_add).set(acc[2 * j]!);
        f.get(acc[2 * j + 1]!).get(av).get(b1).simd(S.i32x4_dot_i16x8_s).simd(SimdOp.i32x4_add).set(acc[2 * j + 1]!);
        f.get(bp[j]!).i32Const(32).i32Add().set(bp[j]!);
      }
      f.get(ap).i32Const(16).i32Add().tee(ap).get(aEnd).i32Ne().brIf(kLoop);
    });
    f.get(first).if(
      () => {
        for (let j = 0; j < 2 * w; j++) f.get(cp).get(acc[j]!).v128Store(16 * j);
      },
      () => {
        for (let j = 0; j < 2 * w; j++) f.get(cp).get(cp).v128Load(16 * j).get(acc[j]!).simd(SimdOp.i32x4_add).v128Store(16 * j);
      },
    );
    f.get(cp).i32Const(32 * w).i32Add().set(cp);
    f.get(bp0).get(bStride).i32Const(w).i32Mul().i32Add().set(bp0);
    f.get(left).i32Const(w).i32Sub().set(left);
  };
  f.block((wide) => f.loop((next) => {
    f.get(left).i32Const(4).op(Op.i32_lt_s).brIf(wide);
    panels(4);
    f.br(next);
  }));
  f.block((done) => f.loop((next) => {
    f.get(left).i32Eqz().brIf(done);
    panels(1);
    f.br(next);
  }));
}

/**
 * `block(pa, pb, pc, mPanels, nPanels, depth, ldc, first, aStride, bStride)`: C tiles
 * `(+)= Ã·B̃` over `depth ≥ 1` pairs, for `mPanels × nPanels ≥ 1` tiles of 4×8 (panel strides in bytes).
 */
function emitBlock(f: FunctionBuilder): void {
  const [pa, pb, pc, mPan, nPan, depth, ldc, first, aStride, bStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const bp0 = f.local(I), cCol = f.local(I), ap0 = f.local(I), cp = f.local(I), ir = f.local(I);
  const ap = f.local(I), bp = f.local(I), aEnd = f.local(I), depthBytes = f.local(I);
  const acc: LocalIndex[] = [];
  for (let i = 0; i < 8; i++) acc.push(f.local(V));
  const b0 = f.local(V), b1 = f.local(V), av = f.local(V);
  f.get(depth).i32Const(4).i32Shl().set(depthBytes);
  f.get(pb).set(bp0);
  f.get(pc).set(cCol);
  f.loop((jrLoop) => {
    f.get(pa).set(ap0);
    f.get(cCol).set(cp);
    f.get(mPan).set(ir);
    f.loop((irLoop) => {
      for (const r of acc) f.i32x4Const(0).set(r);
      f.get(ap0).tee(ap).get(depthBytes).i32Add().set(aEnd);
      f.get(bp0).set(bp);
      f.loop((kLoop) => {
        f.get(bp).v128Load(0).set(b0);
        f.get(bp).v128Load(16).set(b1);
        for (let i = 0; i < 4; i++) {
          f.get(ap).v128Load32Splat(4 * i).set(av);
          f.get(acc[2 * i]!).get(av).get(b0).simd(S.i32x4_dot_i16x8_s).simd(SimdOp.i32x4_add).set(acc[2 * i]!);
          f.get(acc[2 * i + 1]!).get(av).get(b1).simd(S.i32x4_dot_i16x8_s).simd(SimdOp.i32x4_add).set(acc[2 * i + 1]!);
        }
        f.get(bp).i32Const(32).i32Add().set(bp);
        f.get(ap).i32Const(16).i32Add().tee(ap).get(aEnd).i32Ne().brIf(kLoop);
      });
      storeTile(f, acc, cp, ldc, first);
      f.get(cp).get(ldc).i32Const(2).i32Shl().i32Add().set(cp);
      f.get(ap0).get(aStride).i32Add().set(ap0);
      f.get(ir).i32Const(1).i32Sub().tee(ir).brIf(irLoop);
    });
    f.get(cCol).i32Const(32).i32Add().set(cCol);
    f.get(bp0).get(bStride).i32Add().set(bp0);
    f.get(nPan).i32Const(1).i32Sub().tee(nPan).brIf(jrLoop);
  });
}

/** Writes the 4×8 tile to C at `cp` (row stride `ldc` bytes): store when `first`, else add. */
function storeTile(f: FunctionBuilder, acc: readonly LocalIndex[], cp: LocalIndex, ldc: LocalIndex, first: LocalIndex): void {
  const rowAddr = (i: number) => {
    f.get(cp);
    if (i > 0) f.get(ldc).i32Const(i).i32Mul().i32Add();
  };
  f.get(first).if(
    () => {
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 2; j++) {
          rowAddr(i);
          f.get(acc[2 * i + j]!).v128Store(16 * j);
        }
      }
    },
    () => {
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 2; j++) {
          rowAddr(i);
          rowAddr(i);
          f.v128Load(16 * j).get(acc[2 * i + j]!).simd(SimdOp.i32x4_add).v128Store(16 * j);
        }
      }
    },
  );
}
