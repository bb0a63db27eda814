/**
 * @file The bytes of tapegrad's WebAssembly modules, produced at run time by the emitter: the
 * kernel module (GEMM block, sum of squares, scale) and the one-instruction SIMD probe used for
 * feature detection.
 */
import { ModuleBuilder } from "./emitter.js";
import { DEFAULT_GEMM_KERNEL, emitGemmBlock, type GemmKernelConfig } from "./gemm-kernel.js";
import { Op, SimdOp } from "./opcodes.js";
import { emitPackCopy, emitPackTranspose } from "./pack-kernel.js";
import { emitScale, emitSumSquares } from "./reduce-kernel.js";

/** Exports of the kernel module; all addresses are byte offsets into its memory. */
export interface KernelExports {
  /** See `emitGemmBlock`. */
  gemm_block(pa: number, pb: number, pc: number, mc: number, nc: number, kc: number, ldcBytes: number, first: number): void;
  /** Packs staged rows indexed by k into 4-wide micro-panels (see `pack-kernel.ts`). */
  pack_copy4(src: number, ldBytes: number, panels: number, kc: number, dst: number): void;
  /** Same, 8-wide. */
  pack_copy8(src: number, ldBytes: number, panels: number, kc: number, dst: number): void;
  /** Packs staged rows indexed by the panel's rows/columns into 4-wide micro-panels (transposing). */
  pack_tr4(src: number, ldBytes: number, panels: number, kc: number, dst: number): void;
  /** Same, 8-wide. */
  pack_tr8(src: number, ldBytes: number, panels: number, kc: number, dst: number): void;
  /** Σ x² over `n` floats at `ptr` (float64 result). */
  sumsq(ptr: number, n: number): number;
  /** `x ← x·s` over `n` floats at `ptr`. */
  scale(ptr: number, n: number, s: number): void;
}

/** Options of {@link kernelModuleBytes}. */
export interface KernelModuleOptions {
  /** Import a shared memory (threads); `maximumPages` is then required. */
  readonly shared?: boolean;
  /** Declared maximum of the imported memory, in 64 KiB pages. */
  readonly maximumPages?: number;
  /** Register tile of the GEMM kernel. */
  readonly gemm?: GemmKernelConfig;
}

/**
 * Emits the kernel module. It imports its memory as `env.memory`.
 *
 * @throws {Error} when `shared` is set without `maximumPages`.
 * @example
 * ```ts
 * const bytes = kernelModuleBytes();
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
 * ```
 */
export function kernelModuleBytes(opts: KernelModuleOptions = {}): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder();
  const limits = opts.maximumPages === undefined ? { initial: 1 } : { initial: 1, maximum: opts.maximumPages };
  mod.importMemory("env", "memory", { ...limits, shared: opts.shared ?? false });
  emitGemmBlock(mod, opts.gemm ?? DEFAULT_GEMM_KERNEL);
  emitPackCopy(mod, 4);
  emitPackCopy(mod, 8);
  emitPackTranspose(mod, 4);
  emitPackTranspose(mod, 8);
  emitSumSquares(mod);
  emitScale(mod);
  return mod.finish();
}

/**
 * A minimal module using `f32x4.relaxed_madd`; engines without relaxed SIMD reject it.
 *
 * @example
 * ```ts
 * WebAssembly.validate(relaxedSimdProbeBytes()); // true on Chrome 114+, Node 22+
 * ```
 */
export function relaxedSimdProbeBytes(): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder();
  mod.addFunction([], [], (f) => {
    f.f32x4Const(0).f32x4Const(0).f32x4Const(0).simd(SimdOp.f32x4_relaxed_madd).op(Op.drop);
  });
  return mod.finish();
}

/**
 * A minimal module using one SIMD instruction (`v128.const`); engines without fixed-width SIMD
 * reject it in `WebAssembly.validate`.
 *
 * @example
 * ```ts
 * WebAssembly.validate(simdProbeBytes()); // true on Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+
 * ```
 */
export function simdProbeBytes(): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder();
  mod.addFunction([], [], (f) => {
    f.f32x4Const(0).op(Op.drop);
  });
  return mod.finish();
}
