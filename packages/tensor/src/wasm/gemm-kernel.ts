/**
 * @file Emits the WebAssembly SIMD GEMM macro-kernel: `C (+)= Ã·B̃` for one packed block.
 *
 * Layout contract with the packing code (see `gemm.ts`):
 * - Ã is `mc/MR` micro-panels, each `kc` steps of `MR` floats (k-major): `Ã[ir][p][i]`;
 * - B̃ is `nc/NR` micro-panels, each `kc` steps of `NR` floats: `B̃[jr][p][j]`;
 * - C is row-major with a stride of `ldc` bytes; `mc` and `nc` are multiples of MR and NR (the
 *   caller pads, and ignores the padded rows and columns).
 *
 * The micro-kernel keeps an `MR × NR` tile of C in `MR·NR/4` f32x4 registers. Each k step loads
 * `NR/4` vectors of B̃, broadcasts each of the `MR` values of Ã (`v128.load32_splat`) and does
 * `MR·NR/4` multiply-adds. With 4×8 that is 8 accumulators + 2 B vectors + 1 broadcast = 11
 * registers, which fits V8's 15 allocatable XMM registers; larger tiles spill.
 *
 * NOTE: products are accumulated in float32 (as BLAS sgemm does), not float64 like `gemmTs`.
 */
import type { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { SimdOp, ValType } from "./opcodes.js";

/** Shape of the register tile and instruction choices of the emitted kernel. */
export interface GemmKernelConfig {
  /** Rows of the register tile (broadcast values of Ã per k step). */
  readonly mr: number;
  /** Columns of the register tile, a multiple of 4. */
  readonly nr: number;
  /** Use `f32x4.relaxed_madd` (fused where the CPU has FMA; needs relaxed SIMD). */
  readonly relaxedMadd: boolean;
}

/**
 * The tile measured fastest on V8/x64 (see the file comment).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * emitGemmBlock(mod, { ...DEFAULT_GEMM_KERNEL, relaxedMadd: relaxedSimdSupported() });
 * ```
 */
export const DEFAULT_GEMM_KERNEL: GemmKernelConfig = { mr: 4, nr: 8, relaxedMadd: false };

/**
 * Adds `gemm_block(pa, pb, pc, mc, nc, kc, ldcBytes, first)` to `mod` (all i32; byte addresses).
 * With `first` non-zero the tile overwrites C, otherwise it is added to C. Requires `kc ≥ 1`,
 * `mc ≥ mr`, `nc ≥ nr`.
 *
 * @throws {RangeError} when `nr` is not a positive multiple of 4 or `mr` is not positive.
 * @example
 * ```ts
 * const mod = new ModuleBuilder().importMemory("env", "memory", { initial: 1 });
 * emitGemmBlock(mod, DEFAULT_GEMM_KERNEL);
 * ```
 */
export function emitGemmBlock(mod: ModuleBuilder, cfg: GemmKernelConfig, exportName = "gemm_block"): number {
  const { mr, nr } = cfg;
  if (!(mr >= 1) || !(nr >= 4) || nr % 4 !== 0) throw new RangeError(`wasm: invalid GEMM tile ${mr}x${nr}`);
  const nv = nr / 4;
  const I = ValType.i32;
  return mod.addFunction([I, I, I, I, I, I, I, I], [], (f) => {
    const [pa, pb, pc, mc, nc, kc, ldc, first] = [0, 1, 2, 3, 4, 5, 6, 7];
    const aPanelBytes = f.local(I), bPanelBytes = f.local(I);
    const aEndAll = f.local(I), bEndAll = f.local(I);
    const bPanel = f.local(I), cCol = f.local(I);
    const aPanel = f.local(I), cp = f.local(I);
    const ap = f.local(I), bp = f.local(I), aEnd = f.local(I);
    const acc: LocalIndex[] = [];
    for (let i = 0; i < mr * nv; i++) acc.push(f.local(ValType.v128));
    const bv: LocalIndex[] = [];
    for (let j = 0; j < nv; j++) bv.push(f.local(ValType.v128));
    const av = f.local(ValType.v128);

    // Bytes per micro-panel and end addresses of the packed blocks.
    f.get(kc).i32Const(mr * 4).i32Mul().set(aPanelBytes);
    f.get(kc).i32Const(nr * 4).i32Mul().set(bPanelBytes);
    // mc·kc floats of Ã and nc·kc floats of B̃ in total.
    f.get(mc).get(kc).i32Mul().i32Const(2).i32Shl().get(pa).i32Add().set(aEndAll);
    f.get(nc).get(kc).i32Mul().i32Const(2).i32Shl().get(pb).i32Add().set(bEndAll);
    f.get(pb).set(bPanel);
    f.get(pc).set(cCol);

    f.loop((jrLoop) => {
      f.get(pa).set(aPanel);
      f.get(cCol).set(cp);
      f.loop((irLoop) => {
        for (const r of acc) f.f32x4Const(0).set(r);
        f.get(aPanel).set(ap);
        f.get(bPanel).set(bp);
        f.get(aPanel).get(aPanelBytes).i32Add().set(aEnd);
        // NOTE: no manual unrolling: V8 unrolls this loop itself, and unrolling here spills.
        f.loop((kLoop) => {
          for (let j = 0; j < nv; j++) f.get(bp).v128Load(16 * j).set(bv[j]!);
          for (let i = 0; i < mr; i++) {
            f.get(ap).v128Load32Splat(4 * i).set(av);
            for (let j = 0; j < nv; j++) madd(f, cfg, acc[i * nv + j]!, av, bv[j]!);
          }
          f.get(bp).i32Const(nr * 4).i32Add().set(bp);
          f.get(ap).i32Const(mr * 4).i32Add().tee(ap).get(aEnd).i32Ne().brIf(kLoop);
        });
        storeTile(f, mr, nv, acc, cp, ldc, first);
        f.get(cp).get(ldc).i32Const(mr).i32Mul().i32Add().set(cp);
        f.get(aEnd).tee(aPanel).get(aEndAll).i32Ne().brIf(irLoop);
      });
      f.get(cCol).i32Const(nr * 4).i32Add().set(cCol);
      f.get(bPanel).get(bPanelBytes).i32Add().tee(bPanel).get(bEndAll).i32Ne().brIf(jrLoop);
    });
  }, exportName);
}

/** `acc += a·b`, fused with relaxed SIMD when configured. */
function madd(f: FunctionBuilder, cfg: GemmKernelConfig, acc: LocalIndex, a: LocalIndex, b: LocalIndex): void {
  if (cfg.relaxedMadd) f.get(a).get(b).get(acc).simd(SimdOp.f32x4_relaxed_madd).set(acc);
  else f.get(acc).get(a).get(b).f32x4Mul().f32x4Add().set(acc);
}

/** Writes the register tile to C at `cp` (row stride `ldc` bytes): store, or load-add-store. */
function storeTile(f: FunctionBuilder, mr: number, nv: number, acc: readonly LocalIndex[], cp: LocalIndex, ldc: LocalIndex, first: LocalIndex): void {
  const rowAddr = (i: number) => {
    f.get(cp);
    if (i > 0) f.get(ldc).i32Const(i).i32Mul().i32Add();
  };
  f.get(first).if(
    () => {
      for (let i = 0; i < mr; i++) {
        for (let j = 0; j < nv; j++) {
          rowAddr(i);
          f.get(acc[i * nv + j]!).v128Store(16 * j);
        }
      }
    },
    () => {
      for (let i = 0; i < mr; i++) {
        for (let j = 0; j < nv; j++) {
          rowAddr(i);
          rowAddr(i);
          f.v128Load(16 * j).get(acc[i * nv + j]!).f32x4Add().v128Store(16 * j);
        }
      }
    },
  );
}
