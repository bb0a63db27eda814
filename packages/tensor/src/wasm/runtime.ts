/**
 * @file Feature detection, compilation and instantiation of the kernel module.
 *
 * - {@link simdSupported} validates a one-instruction SIMD module (no compilation).
 * - {@link initWasmSync} compiles synchronously. Node allows this for any size; Chrome's main
 *   thread only for modules up to 4 KB, and the kernel module stays well under that (a test checks
 *   it), so it works on browser main threads too unless a Content-Security-Policy forbids
 *   WebAssembly (`'wasm-unsafe-eval'` missing), in which case it returns false.
 * - {@link initWasm} does the same asynchronously (`WebAssembly.compile`), for browsers that
 *   restrict synchronous compilation and for callers that prefer not to block.
 *
 * Every failure is caught and recorded in {@link wasmStatus}: callers fall back to pure TS.
 */
import { kernelModuleBytes, relaxedSimdProbeBytes, simdProbeBytes, type KernelExports } from "./module.js";
import { DEFAULT_GEMM_KERNEL } from "./gemm-kernel.js";

const PAGE = 65536;

/**
 * One instance of the kernel module with its own linear memory. The memory grows on demand and
 * is never shrunk; {@link KernelInstance.f32} always returns a view of the current buffer (a
 * non-shared memory's old `ArrayBuffer` is detached by `memory.grow`).
 */
export class KernelInstance {
  /** The instance's linear memory. */
  readonly memory: WebAssembly.Memory;
  /** The kernel functions. */
  readonly exports: KernelExports;
  private view: Float32Array;

  /**
   * Wraps an instance of the kernel module and the memory it imported.
   *
   * @example
   * ```ts
   * const inst = KernelInstance.create(module); // or: await KernelInstance.instantiate(module)
   * ```
   */
  constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory) {
    this.memory = memory;
    this.exports = instance.exports as unknown as KernelExports;
    this.view = new Float32Array(memory.buffer);
  }

  /**
   * Instantiates `module` synchronously over `memory` (a fresh 1-page memory by default).
   *
   * @throws {WebAssembly.LinkError} when `memory` does not match the module's import.
   * @example
   * ```ts
   * const inst = KernelInstance.create(new WebAssembly.Module(kernelModuleBytes()));
   * ```
   */
  static create(module: WebAssembly.Module, memory: WebAssembly.Memory = new WebAssembly.Memory({ initial: 1 })): KernelInstance {
    return new KernelInstance(new WebAssembly.Instance(module, { env: { memory } }), memory);
  }

  /**
   * Instantiates `module` asynchronously (no main-thread size limit in browsers).
   *
   * @throws {WebAssembly.LinkError} (as a rejection) when `memory` does not match the import.
   * @example
   * ```ts
   * const inst = await KernelInstance.instantiate(await WebAssembly.compile(bytes));
   * ```
   */
  static async instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory = new WebAssembly.Memory({ initial: 1 })): Promise<KernelInstance> {
    return new KernelInstance(await WebAssembly.instantiate(module, { env: { memory } }), memory);
  }

  /** A float32 view of the whole memory, valid until the memory next grows. */
  get f32(): Float32Array {
    const buf = this.memory.buffer;
    if (this.view.buffer !== buf || this.view.byteLength !== buf.byteLength) this.view = new Float32Array(buf);
    return this.view;
  }

  /**
   * Grows the memory to at least `bytes` and returns a fresh view.
   *
   * @throws {RangeError} when the engine cannot grow the memory that far.
   */
  ensure(bytes: number): Float32Array {
    const have = this.memory.buffer.byteLength;
    if (have < bytes) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    return this.f32;
  }
}

/** What the runtime found out. */
export interface WasmStatus {
  /** The engine validates fixed-width SIMD. */
  readonly simd: boolean;
  /** The engine validates relaxed SIMD, so the GEMM uses fused multiply-add. */
  readonly relaxedSimd: boolean;
  /** The kernel module is compiled and an instance is ready. */
  readonly ready: boolean;
  /** Why initialisation failed, if it did. */
  readonly error?: string;
}

let simd: boolean | undefined;
let relaxed: boolean | undefined;
let compiled: WebAssembly.Module | undefined;
let scratch: KernelInstance | undefined;
let error: string | undefined;
let pending: Promise<boolean> | undefined;
let syncBlocked = false;

/**
 * True when the engine supports WebAssembly fixed-width SIMD (cached).
 *
 * @example
 * ```ts
 * if (!simdSupported()) console.log("using pure TypeScript kernels");
 * ```
 */
export function simdSupported(): boolean {
  if (simd === undefined) {
    try {
      simd = typeof WebAssembly === "object" && WebAssembly.validate(simdProbeBytes());
    } catch {
      simd = false;
    }
  }
  return simd;
}

/**
 * True when the engine supports relaxed SIMD (`f32x4.relaxed_madd`), cached. The GEMM kernel
 * then uses fused multiply-add: about 30% faster, and rounding differs (slightly less error).
 *
 * @example
 * ```ts
 * relaxedSimdSupported(); // false on Node 20, true on Node 22+ and Chrome 114+
 * ```
 */
export function relaxedSimdSupported(): boolean {
  if (relaxed === undefined) {
    try {
      relaxed = simdSupported() && WebAssembly.validate(relaxedSimdProbeBytes());
    } catch {
      relaxed = false;
    }
  }
  return relaxed;
}

/** The kernel module's bytes for this engine (FMA kernel where relaxed SIMD exists). */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  return kernelModuleBytes({ gemm: { ...DEFAULT_GEMM_KERNEL, relaxedMadd: relaxedSimdSupported() } });
}

/**
 * Compiles and instantiates the kernel module synchronously; true when wasm kernels are ready.
 * Never throws: failures are reported by {@link wasmStatus}.
 *
 * @example
 * ```ts
 * if (initWasmSync()) useKernels(wasmKernels()!);
 * ```
 */
export function initWasmSync(): boolean {
  if (scratch) return true;
  if (error !== undefined || syncBlocked || !simdSupported()) return false;
  try {
    compiled ??= new WebAssembly.Module(moduleBytes());
    scratch = KernelInstance.create(compiled);
    return true;
  } catch (e) {
    // Chrome's main-thread size limit throws RangeError: initWasm() may still succeed there.
    if (e instanceof RangeError) syncBlocked = true;
    else error = describe(e);
    return false;
  }
}

/**
 * Compiles the kernel module asynchronously (allowed everywhere, including browser main threads)
 * and instantiates it; resolves to true when wasm kernels are ready. Never rejects.
 *
 * @example
 * ```ts
 * await initWasm(); // then matmul uses the wasm kernels unless useKernels() chose otherwise
 * ```
 */
export function initWasm(): Promise<boolean> {
  if (scratch) return Promise.resolve(true);
  if (error !== undefined || !simdSupported()) return Promise.resolve(false);
  pending ??= (async () => {
    try {
      compiled ??= await WebAssembly.compile(moduleBytes());
      const inst = await KernelInstance.instantiate(compiled);
      scratch ??= inst;
      return true;
    } catch (e) {
      error = describe(e);
      return false;
    } finally {
      pending = undefined;
    }
  })();
  return pending;
}

/**
 * Whether SIMD is supported, whether the kernels are ready, and the initialisation error if any.
 *
 * @example
 * ```ts
 * wasmStatus(); // { simd: true, relaxedSimd: false, ready: true }
 * ```
 */
export function wasmStatus(): WasmStatus {
  const s = { simd: simdSupported(), relaxedSimd: relaxedSimdSupported(), ready: scratch !== undefined };
  return error === undefined ? s : { ...s, error };
}

/**
 * The scratch instance used by the wasm GEMM, once initialised.
 *
 * @example
 * ```ts
 * scratchInstance()?.memory.buffer.byteLength; // bytes of GEMM scratch so far
 * ```
 */
export function scratchInstance(): KernelInstance | undefined {
  return scratch;
}

/**
 * The compiled kernel module (for extra instances over other memories), once initialised.
 *
 * @example
 * ```ts
 * const extra = KernelInstance.create(compiledKernelModule()!);
 * ```
 */
export function compiledKernelModule(): WebAssembly.Module | undefined {
  return compiled;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
