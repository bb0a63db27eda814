/**
 * @file The bytes of tapegrad's WebAssembly module, produced at run time by the emitter: the
 * kernel module (GEMM macro-kernel, packing, the per-thread GEMM job, vector kernels and their
 * job; map kernels get modules of their own, see `map-emitter.ts`) and the one-instruction probes used for feature detection.
 */
import { ModuleBuilder } from "./emitter.js";
import { DEFAULT_GEMM_KERNEL, emitGemmBlock, type GemmKernelConfig } from "./gemm-kernel.js";
import { emitGemmJob } from "./gemm-job-kernel.js";
import { Op, SimdOp } from "./opcodes.js";
import { emitPackCopy, emitPackEdge, emitPackTranspose } from "./pack-kernel.js";
import { emitVectorKernels } from "./vector-kernel.js";
import { emitReduceKernels } from "./reduce-kernel.js";

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
  /** Packs one partial micro-panel with arbitrary strides, zero-filling (see `pack-kernel.ts`). */
  pack_edge(src: number, strideI: number, strideP: number, live: number, w: number, kc: number, dst: number): void;
  /** Item `item` of phase `phase` of the GEMM at `desc` on thread `tid`; `item < 0`: item count (see `gemm-job-kernel.ts`). */
  gemm_job(desc: number, phase: number, item: number, tid: number): number;
  /** `acc + Σx²` over `n` floats at `ptr`, exact float64 squares in a fixed order (see `vector-kernel.ts`). */
  sumsq(ptr: number, n: number, acc: number): number;
  /** `x ← x·c` in float32. */
  scale32(ptr: number, n: number, c: number): void;
  /** `x ← fround(x·c)` with `c` a float64. */
  scale64(ptr: number, n: number, c: number): void;
  /** Folds `n` floats at `ptr` into the four float64 lanes at `lanes` (see `reduce-kernel.ts`); also fold_prod, fold_max, fold_min, fold_sqdev. */
  fold_sum(ptr: number, n: number, c: number, lanes: number): void;
  fold_prod(ptr: number, n: number, c: number, lanes: number): void;
  fold_max(ptr: number, n: number, c: number, lanes: number): void;
  fold_min(ptr: number, n: number, c: number, lanes: number): void;
  fold_sqdev(ptr: number, n: number, c: number, lanes: number): void;
  /** Piece `item` of the vector job at `desc`; `item < 0`: the piece count. */
  vec_job(desc: number, phase: number, item: number, tid: number): number;
}

/**
 * Exports that run job items, `(desc, phase, item, tid) → i32`; workers look them up by these names.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * pool.run(JOB_EXPORTS.indexOf("gemm_job"), desc, phases, threads, arena.exports.gemm_job);
 * ```
 */
export const JOB_EXPORTS = ["gemm_job", "vec_job"] as const;

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
  const gemmBlock = emitGemmBlock(mod, opts.gemm ?? DEFAULT_GEMM_KERNEL);
  const packCopy4 = emitPackCopy(mod, 4);
  const packCopy8 = emitPackCopy(mod, 8);
  const packTr4 = emitPackTranspose(mod, 4);
  const packTr8 = emitPackTranspose(mod, 8);
  const packEdge = emitPackEdge(mod);
  emitGemmJob(mod, { gemmBlock, packCopy4, packCopy8, packTr4, packTr8, packEdge });
  emitVectorKernels(mod);
  emitReduceKernels(mod);
  return mod.finish();
}

/**
 * A minimal module using `f32x4.relaxed_madd`; engines without relaxed SIMD reject it.
 *
 * @throws never.
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
 * @throws never.
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
