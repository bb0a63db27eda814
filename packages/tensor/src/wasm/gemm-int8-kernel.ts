/**
 * @file Emits the WebAssembly SIMD int8 GEMM module: `job(desc, phase, item, tid) → i32`, driven
 * by one descriptor ({@link Int8Desc}) in wasm memory, so that the calling thread and pool
 * workers run the same items (see `threads/pool.ts`; the module is an "extra" module of the pool).
 *
 * - Phase 0 packs the activations: item `i` takes {@link Int8Desc.packGroup} panels of 4 rows of
 *   the staged quint8 `x` (row stride `k` bytes) and writes, per pair of inputs `(2p, 2p+1)`, the
 *   4 rows' `(x − zp)` pairs as int16: `Ã[panel][p][r] = (x[r, 2p] − zp, x[r, 2p+1] − zp)`. Eight
 *   inputs of 4 rows are one `v128.load64_zero` + `i16x8.extend_low_i8x16_u` + `i16x8.sub` per row
 *   and a 4×4 transpose of 32-bit lanes (a lane is a pair). Inputs beyond `k` and rows beyond `m`
 *   read whatever follows in memory: they only meet zero weights or land in discarded rows.
 * - With float input (`Int8Desc.quant`), a phase before phase 0 quantizes the float32 activations
 *   into the staged quint8 `x` (`quantize-u8-kernel.ts`, in items of `qchunk` elements); the
 *   phases below then follow, numbered one higher.
 * - Phase 2 (only with the float epilogue) turns C into float32 in place, rows of an item at a
 *   time: `fl32(fl32(acc·scale) + bias)`, the product in float64 (`f64x2.convert_low_i32x4_s`,
 *   `f64x2.mul`, `f32x4.demote_f64x2_zero`: the same roundings as `int8/dequant.ts`), the bias
 *   added in float32, then `f32x4.max(·, 0)` for ReLU.
 * - Phase 1 computes: item `i` owns a block of rows × a block of output panels of C (int32, row
 *   stride `ldc` bytes, padded to whole tiles). Per K block of `kc` pairs, the macro-kernel walks
 *   the 8-column weight panels (packed once, see `int8/packed.ts`) and, for each, the 4-row
 *   activation panels, with a 4×8 register tile of `i32x4.dot_i16x8_s` (exact in int32); with
 *   fewer than 4 rows a one-row kernel runs instead, so a batch of 1 does not pay for 4 rows. Both
 *   register-tile kernels are in `gemm-int8-block-kernel.ts`.
 */
import { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { Op, SimdOp, ValType } from "./opcodes.js";
import { sharedMaxPages } from "./runtime.js";
import { emitQuantizeU8 } from "./quantize-u8-kernel.js";
import { emitInt8Block, emitInt8RowBlock } from "./gemm-int8-block-kernel.js";

/** SIMD opcodes used here that `SimdOp` does not name. */
const S = {
  f64x2_convert_low_i32x4_s: 0xfe,
  i16x8_splat: 0x10,
  i16x8_extend_low_i8x16_u: 0x89,
  i16x8_sub: 0x91,
} as const;

/**
 * Word indices (i32) of an int8 GEMM descriptor. Addresses and strides are in bytes.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * arena.i32[(desc >>> 2) + Int8Desc.m] = m;
 * ```
 */
export const Int8Desc = {
  /** Rows of x and C. */
  m: 0,
  /** Inputs per row (the byte stride of the staged x). */
  k: 1,
  /** Staged x (quint8, row-major). */
  x: 2,
  zp: 3,
  /** Packed activations; bytes per 4-row panel (`groups·64`); 8-input groups per panel. */
  a: 4, aStride: 5, groups: 6,
  /** k-pairs of the weights (`⌈k/2⌉`). */
  pairs: 7,
  /** Packed weights; bytes per 8-feature panel (`pairs·32`). */
  b: 8, bStride: 9,
  /** C (int32) and its row stride. */
  c: 10, ldc: 11,
  mPanels: 12, nPanels: 13,
  /** Activation panels per packing item. */
  packGroup: 14,
  /** Activation panels per row block, weight panels per column block, pairs per K block. */
  mcp: 15, ncp: 16, kc: 17,
  /** Column blocks (phase-1 items are `rowBlocks × colBlocks`). */
  colBlocks: 18, rowBlocks: 19,
  /** Epilogue (phase 2): {@link Int8Epi} flags, per-column float32 scales and bias (`ldc` bytes each), rows per item. */
  epi: 20, scales: 21, bias: 22, epiRows: 23,
  /**
   * Float input (`quant` = 1): a phase before the others quantizes the float32 activations at
   * `xf` to quint8 at `x` in items of `qchunk` elements (`inv`, `qlo` = `0 − zp`, `qhi` =
   * `255 − zp` as float32 bits); an item that meets a NaN/±Infinity sets `bad` to 1.
   */
  quant: 24, xf: 25, inv: 26, qlo: 27, qhi: 28, bad: 29, qchunk: 30,
} as const;

/**
 * Flags of the descriptor's `epi` word.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * i32[d + Int8Desc.epi] = Int8Epi.on | (bias ? Int8Epi.bias : 0) | (relu ? Int8Epi.relu : 0);
 * ```
 */
export const Int8Epi = { on: 1, bias: 2, relu: 4 } as const;

/**
 * Bytes per descriptor.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const packedA = base + INT8_DESC_BYTES;
 * ```
 */
export const INT8_DESC_BYTES = 128;

const I = ValType.i32;
const V = ValType.v128;

/**
 * The int8 GEMM module's bytes; it imports its memory as `env.memory` (shared, with the runtime's
 * maximum, when `shared`) and exports `job`.
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * const mod = new WebAssembly.Module(int8GemmModuleBytes(arena.shared));
 * ```
 */
export function int8GemmModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder();
  mod.importMemory("env", "memory", shared ? { initial: 1, maximum: sharedMaxPages(), shared: true } : { initial: 1 });
  emitInt8Job(mod);
  return mod.finish();
}

/**
 * Adds `job(desc, phase, item, tid) → i32` (and its internal functions) to `mod`; `item < 0`
 * asks for the number of items of `phase` (see the file comment).
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * emitInt8Job(mod);
 * ```
 */
export function emitInt8Job(mod: ModuleBuilder): number {
  const block = emitInt8Block(mod);
  const pack = mod.addFunction([I, I], [I], emitPackA);
  const rowBlock = emitInt8RowBlock(mod);
  const compute = mod.addFunction([I, I], [I], (f) => emitCompute(f, block, rowBlock));
  const epilogue = mod.addFunction([I, I], [I], emitEpilogue);
  const quantize = emitQuantizeU8(mod);
  const quantizeItem = mod.addFunction([I, I], [I], (f) => emitQuantizeItem(f, quantize));
  return mod.addFunction([I, I, I, I], [I], (f) => {
    const [desc, phase, item] = [0, 1, 2];
    load(f, desc, Int8Desc.quant).if(() => {
      f.get(phase).i32Eqz().if(() => void f.get(desc).get(item).call(quantizeItem).return());
      f.get(phase).i32Const(1).i32Sub().set(phase);
    });
    f.get(phase).i32Eqz().if(() => void f.get(desc).get(item).call(pack).return());
    f.get(phase).i32Const(1).op(Op.i32_eq).if(() => void f.get(desc).get(item).call(compute).return());
    f.get(desc).get(item).call(epilogue);
  }, "job");
}

/** Pushes descriptor word `w`. */
function load(f: FunctionBuilder, desc: LocalIndex, w: number): FunctionBuilder {
  return f.get(desc).i32Load(4 * w);
}

/** `x ← min(a, b)` (signed; both non-negative here). */
function min(f: FunctionBuilder, a: () => void, b: () => void, x: LocalIndex): void {
  a();
  b();
  a();
  b();
  f.op(Op.i32_lt_s).select().set(x);
}

/** Byte lanes of `i8x16.shuffle` selecting 32-bit lanes (0–3 from the first operand, 4–7 from the second). */
function lanes32(...ls: number[]): number[] {
  return ls.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
}
const UNPACK_LO = lanes32(0, 4, 1, 5);
const UNPACK_HI = lanes32(2, 6, 3, 7);
const MOVE_LH = lanes32(0, 1, 4, 5);
const MOVE_HL = lanes32(2, 3, 6, 7);
const HIGH_HALF = lanes32(2, 3, 2, 3);

/** Transposes the 4×4 block of 32-bit lanes in `r` in place (`t`: temporaries). */
function transpose4(f: FunctionBuilder, r: readonly LocalIndex[], t: readonly LocalIndex[]): void {
  const [r0, r1, r2, r3] = r as [LocalIndex, LocalIndex, LocalIndex, LocalIndex];
  const [t0, t1, t2, t3] = t as [LocalIndex, LocalIndex, LocalIndex, LocalIndex];
  f.get(r0).get(r1).i8x16Shuffle(UNPACK_LO).set(t0);
  f.get(r2).get(r3).i8x16Shuffle(UNPACK_LO).set(t1);
  f.get(r0).get(r1).i8x16Shuffle(UNPACK_HI).set(t2);
  f.get(r2).get(r3).i8x16Shuffle(UNPACK_HI).set(t3);
  f.get(t0).get(t1).i8x16Shuffle(MOVE_LH).set(r0);
  f.get(t0).get(t1).i8x16Shuffle(MOVE_HL).set(r1);
  f.get(t2).get(t3).i8x16Shuffle(MOVE_LH).set(r2);
  f.get(t2).get(t3).i8x16Shuffle(MOVE_HL).set(r3);
}

/** `pack(desc, item) → i32`: phase 0 (see the file comment). */
function emitPackA(f: FunctionBuilder): void {
  const [desc, item] = [0, 1];
  const group = f.local(I), panel = f.local(I), end = f.local(I), k = f.local(I), dst = f.local(I), g = f.local(I);
  const src = [f.local(I), f.local(I), f.local(I), f.local(I)];
  const zpv = f.local(V);
  const r = [f.local(V), f.local(V), f.local(V), f.local(V)];
  const t = [f.local(V), f.local(V), f.local(V), f.local(V)];
  load(f, desc, Int8Desc.packGroup).set(group);
  f.get(item).i32Const(0).i32LtS().if(() => void load(f, desc, Int8Desc.mPanels).get(group).i32Add().i32Const(1).i32Sub().get(group).i32DivU().return());
  f.get(item).get(group).i32Mul().set(panel);
  min(f, () => void f.get(panel).get(group).i32Add(), () => void load(f, desc, Int8Desc.mPanels), end);
  load(f, desc, Int8Desc.k).set(k);
  load(f, desc, Int8Desc.zp).simd(S.i16x8_splat).set(zpv);
  f.block((done) => {
    f.get(panel).get(end).i32LtU().i32Eqz().brIf(done);
    f.loop((panels) => {
      // row pointers of the panel's 4 rows, and its packed destination
      load(f, desc, Int8Desc.x).get(panel).i32Const(2).i32Shl().get(k).i32Mul().i32Add().set(src[0]!);
      for (let i = 1; i < 4; i++) f.get(src[i - 1]!).get(k).i32Add().set(src[i]!);
      load(f, desc, Int8Desc.a).get(panel);
      load(f, desc, Int8Desc.aStride).i32Mul().i32Add().set(dst);
      load(f, desc, Int8Desc.groups).set(g);
      f.loop((groups) => {
        for (let i = 0; i < 4; i++) {
          f.get(src[i]!).v128Load64Zero().simd(S.i16x8_extend_low_i8x16_u).get(zpv).simd(S.i16x8_sub).set(r[i]!);
          f.get(src[i]!).i32Const(8).i32Add().set(src[i]!);
        }
        transpose4(f, r, t);
        for (let q = 0; q < 4; q++) f.get(dst).get(r[q]!).v128Store(16 * q);
        f.get(dst).i32Const(64).i32Add().set(dst);
        f.get(g).i32Const(1).i32Sub().tee(g).brIf(groups);
      });
      f.get(panel).i32Const(1).i32Add().tee(panel).get(end).i32LtU().brIf(panels);
    });
  });
  f.i32Const(0);
}

/** `quantizeItem(desc, item) → i32`: the float-input phase, elements `item·qchunk ..` of x. */
function emitQuantizeItem(f: FunctionBuilder, quantize: number): void {
  const [desc, item] = [0, 1];
  const n = f.local(I), chunk = f.local(I), start = f.local(I), len = f.local(I);
  load(f, desc, Int8Desc.m);
  load(f, desc, Int8Desc.k).i32Mul().set(n);
  load(f, desc, Int8Desc.qchunk).set(chunk);
  f.get(item).i32Const(0).i32LtS().if(() => void f.get(n).get(chunk).i32Add().i32Const(1).i32Sub().get(chunk).i32DivU().return());
  f.get(item).get(chunk).i32Mul().set(start);
  min(f, () => void f.get(chunk), () => void f.get(n).get(start).i32Sub(), len);
  load(f, desc, Int8Desc.xf).get(start).i32Const(2).i32Shl().i32Add();
  load(f, desc, Int8Desc.x).get(start).i32Add();
  f.get(len);
  f.get(desc).f32Load(4 * Int8Desc.inv);
  f.get(desc).f32Load(4 * Int8Desc.qlo);
  f.get(desc).f32Load(4 * Int8Desc.qhi);
  load(f, desc, Int8Desc.zp).call(quantize).if(() => void f.get(desc).i32Const(1).i32Store(4 * Int8Desc.bad));
  f.i32Const(0);
}

/** `compute(desc, item) → i32`: phase 1, one block of rows × panels over all of K. */
function emitCompute(f: FunctionBuilder, block: number, rowBlock: number): void {
  const [desc, item] = [0, 1];
  const colBlocks = f.local(I), rb = f.local(I), cb = f.local(I), mPan = f.local(I), nPan = f.local(I);
  const pa = f.local(I), pb = f.local(I), pc = f.local(I), kc0 = f.local(I), kc = f.local(I), pairs = f.local(I), depth = f.local(I);
  const aStride = f.local(I), bStride = f.local(I), ldc = f.local(I), ip0 = f.local(I), jp0 = f.local(I), m = f.local(I), r = f.local(I);
  load(f, desc, Int8Desc.colBlocks).set(colBlocks);
  load(f, desc, Int8Desc.m).set(m);
  f.get(item).i32Const(0).i32LtS().if(() => void load(f, desc, Int8Desc.rowBlocks).get(colBlocks).i32Mul().return());
  f.get(item).get(colBlocks).i32DivU().set(rb);
  f.get(item).get(rb).get(colBlocks).i32Mul().i32Sub().set(cb);
  load(f, desc, Int8Desc.aStride).set(aStride);
  load(f, desc, Int8Desc.bStride).set(bStride);
  load(f, desc, Int8Desc.ldc).set(ldc);
  load(f, desc, Int8Desc.kc).set(kc);
  load(f, desc, Int8Desc.pairs).set(pairs);
  f.get(rb);
  load(f, desc, Int8Desc.mcp).i32Mul().set(ip0);
  f.get(cb);
  load(f, desc, Int8Desc.ncp).i32Mul().set(jp0);
  min(f, () => void load(f, desc, Int8Desc.mcp), () => void load(f, desc, Int8Desc.mPanels).get(ip0).i32Sub(), mPan);
  min(f, () => void load(f, desc, Int8Desc.ncp), () => void load(f, desc, Int8Desc.nPanels).get(jp0).i32Sub(), nPan);
  load(f, desc, Int8Desc.a).get(ip0).get(aStride).i32Mul().i32Add().set(pa);
  load(f, desc, Int8Desc.b).get(jp0).get(bStride).i32Mul().i32Add().set(pb);
  load(f, desc, Int8Desc.c).get(ip0).i32Const(2).i32Shl().get(ldc).i32Mul().i32Add().get(jp0).i32Const(5).i32Shl().i32Add().set(pc);
  f.loop((kLoop) => {
    min(f, () => void f.get(kc), () => void f.get(pairs).get(kc0).i32Sub(), depth);
    f.get(m).i32Const(4).i32LtU().if(
      () => {
        // fewer than 4 rows: one row at a time (a 4-row tile would waste most of its work)
        f.i32Const(0).set(r);
        f.loop((rows) => {
          f.get(pa).get(kc0).i32Const(4).i32Shl().i32Add().get(r).i32Const(2).i32Shl().i32Add();
          f.get(pb).get(kc0).i32Const(5).i32Shl().i32Add();
          f.get(pc).get(r).get(ldc).i32Mul().i32Add().get(nPan).get(depth).get(kc0).i32Eqz().get(bStride).call(rowBlock);
          f.get(r).i32Const(1).i32Add().tee(r).get(m).i32LtU().brIf(rows);
        });
      },
      () => {
        f.get(pa).get(kc0).i32Const(4).i32Shl().i32Add();
        f.get(pb).get(kc0).i32Const(5).i32Shl().i32Add();
        f.get(pc).get(mPan).get(nPan).get(depth).get(ldc).get(kc0).i32Eqz().get(aStride).get(bStride).call(block);
      },
    );
    f.get(kc0).get(kc).i32Add().tee(kc0).get(pairs).i32LtU().brIf(kLoop);
  });
  f.i32Const(0);
}

/** `epilogue(desc, item) → i32`: phase 2, float32 results in place of rows `item·epiRows ..` of C. */
function emitEpilogue(f: FunctionBuilder): void {
  const [desc, item] = [0, 1];
  const rows = f.local(I), r = f.local(I), rEnd = f.local(I), ldc = f.local(I), flags = f.local(I);
  const p = f.local(I), pEnd = f.local(I), sc = f.local(I), bi = f.local(I);
  const acc = f.local(V), s = f.local(V), v = f.local(V), hi = f.local(V);
  load(f, desc, Int8Desc.epiRows).set(rows);
  f.get(item).i32Const(0).i32LtS().if(() => void load(f, desc, Int8Desc.m).get(rows).i32Add().i32Const(1).i32Sub().get(rows).i32DivU().return());
  load(f, desc, Int8Desc.ldc).set(ldc);
  load(f, desc, Int8Desc.epi).set(flags);
  f.get(item).get(rows).i32Mul().set(r);
  min(f, () => void f.get(r).get(rows).i32Add(), () => void load(f, desc, Int8Desc.m), rEnd);
  f.loop((rowLoop) => {
    load(f, desc, Int8Desc.c).get(r).get(ldc).i32Mul().i32Add().tee(p).get(ldc).i32Add().set(pEnd);
    load(f, desc, Int8Desc.scales).set(sc);
    load(f, desc, Int8Desc.bias).set(bi);
    f.loop((colLoop) => {
      f.get(p).v128Load().set(acc);
      f.get(sc).v128Load().set(s);
      // lanes 0, 1 and 2, 3 in float64: acc·scale rounded once to float32
      f.get(acc).simd(S.f64x2_convert_low_i32x4_s).get(s).simd(SimdOp.f64x2_promote_low_f32x4).simd(SimdOp.f64x2_mul).simd(SimdOp.f32x4_demote_f64x2_zero).set(v);
      f.get(acc).get(acc).i8x16Shuffle(HIGH_HALF).simd(S.f64x2_convert_low_i32x4_s);
      f.get(s).get(s).i8x16Shuffle(HIGH_HALF).simd(SimdOp.f64x2_promote_low_f32x4).simd(SimdOp.f64x2_mul).simd(SimdOp.f32x4_demote_f64x2_zero).set(hi);
      f.get(v).get(hi).i8x16Shuffle(MOVE_LH).set(v);
      f.get(flags).i32Const(Int8Epi.bias).i32And().if(() => void f.get(v).get(bi).v128Load().f32x4Add().set(v));
      f.get(flags).i32Const(Int8Epi.relu).i32And().if(() => void f.get(v).f32x4Const(0).simd(SimdOp.f32x4_max).set(v));
      f.get(p).get(v).v128Store();
      f.get(sc).i32Const(16).i32Add().set(sc);
      f.get(bi).i32Const(16).i32Add().set(bi);
      f.get(p).i32Const(16).i32Add().tee(p).get(pEnd).i32LtU().brIf(colLoop);
    });
    f.get(r).i32Const(1).i32Add().tee(r).get(rEnd).i32LtU().brIf(rowLoop);
  });
  f.i32Const(0);
}
