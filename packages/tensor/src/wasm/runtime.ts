/**
 * @file Feature detection, compilation and the main arena.
 *
 * - {@link simdSupported} validates a one-instruction SIMD module (no compilation).
 * - {@link initWasmSync} compiles the kernel module synchronously and creates the main arena;
 *   {@link initWasm} does the same asynchronously (`WebAssembly.compile`), for browsers that
 *   restrict synchronous compilation of larger modules on the main thread (Chrome did above 4 KB
 *   for years; the module is about 5 KB) and for callers that prefer not to block.
 * - The main arena holds the GEMM scratch and, when its memory is shared, the heap too (see
 *   `placement.ts`): a `SharedArrayBuffer`-backed memory (Node; browsers when cross-origin isolated)
 *   never detaches views when it grows, lets worker threads share it, and lets the GEMM read
 *   operands and write results that live in it without copying. Elsewhere the arena is a plain
 *   memory used for scratch only.
 *
 * Every failure is caught and recorded in {@link wasmStatus}: callers fall back to pure TS.
 */
import { kernelModuleBytes, relaxedSimdProbeBytes, simdProbeBytes } from "./module.js";
import { DEFAULT_GEMM_KERNEL } from "./gemm-kernel.js";
import { WasmArena } from "./arena.js";
import { setArenaSource } from "./threads/pool.js";

const PAGE = 65536;
/** Declared maximum of the shared module's memory import: the wasm32 limit (4 GiB). */
const SHARED_MAX_PAGES = 65536;
/** Maxima tried for the shared memory, largest first (address space is reserved up front). */
const SHARED_TRY_PAGES = [65536, 16384, 4096] as const;
/** Initial size of the main arena's memory. */
const INITIAL_PAGES = 16;

/** What the runtime found out. */
export interface WasmStatus {
  /** The engine validates fixed-width SIMD. */
  readonly simd: boolean;
  /** The engine validates relaxed SIMD, so the GEMM uses fused multiply-add. */
  readonly relaxedSimd: boolean;
  /** The kernel module is compiled and the main arena is ready. */
  readonly ready: boolean;
  /** The main arena's memory is shared (placed arrays live in it; threads are possible). */
  readonly shared: boolean;
  /** Why initialisation failed, if it did. */
  readonly error?: string;
}

let simd: boolean | undefined;
let relaxed: boolean | undefined;
let arena: WasmArena | undefined;
let plainModule: WebAssembly.Module | undefined;
let error: string | undefined;
let pending: Promise<boolean> | undefined;
let syncBlocked = false;

setArenaSource(() => (initWasmSync() ? arena : undefined));

/**
 * True when the engine supports WebAssembly fixed-width SIMD (cached).
 *
 * @example
 * ```ts
 * if (!simdSupported()) console.log("using pure TypeScript kernels");
 * ```
 * @throws never.
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
 * then uses fused multiply-add: about 25% faster, and rounding differs (slightly less error).
 *
 * @example
 * ```ts
 * relaxedSimdSupported(); // false on Node 20, true on Node 22+ and Chrome 114+
 * ```
 * @throws never.
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
function moduleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const gemm = { ...DEFAULT_GEMM_KERNEL, relaxedMadd: relaxedSimdSupported() };
  return kernelModuleBytes(shared ? { gemm, shared: true, maximumPages: SHARED_MAX_PAGES } : { gemm });
}

/** A shared memory with the largest maximum the engine grants, or undefined. */
function sharedMemory(): { memory: WebAssembly.Memory; maxBytes: number } | undefined {
  if (typeof SharedArrayBuffer === "undefined") return undefined;
  for (const maximum of SHARED_TRY_PAGES) {
    try {
      return { memory: new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum, shared: true }), maxBytes: maximum * PAGE };
    } catch {
      // try a smaller reservation (32-bit and mobile engines)
    }
  }
  return undefined;
}

/** Builds the main arena from compiled modules: shared when possible, else plain. */
function makeArena(compileShared: () => WebAssembly.Module, compilePlain: () => WebAssembly.Module): WasmArena {
  const sm = sharedMemory();
  if (sm) {
    try {
      return WasmArena.create(compileShared(), sm.memory, sm.maxBytes);
    } catch (e) {
      if (e instanceof RangeError) throw e; // sync compilation refused: let the caller decide
      // shared memories unsupported by this engine's wasm: fall back to a plain memory
    }
  }
  plainModule ??= compilePlain();
  return WasmArena.create(plainModule, new WebAssembly.Memory({ initial: INITIAL_PAGES }));
}

/**
 * Compiles and instantiates the kernel module synchronously; true when wasm kernels are ready.
 * Never throws: failures are reported by {@link wasmStatus}.
 *
 * @example
 * ```ts
 * if (initWasmSync()) useKernels(wasmKernels()!);
 * ```
 * @throws never.
 */
export function initWasmSync(): boolean {
  if (arena) return true;
  if (error !== undefined || syncBlocked || !simdSupported()) return false;
  try {
    arena = makeArena(() => new WebAssembly.Module(moduleBytes(true)), () => new WebAssembly.Module(moduleBytes(false)));
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
 * and creates the main arena; resolves to true when wasm kernels are ready. Never rejects.
 *
 * @example
 * ```ts
 * await initWasm(); // then matmul uses the wasm kernels unless useKernels() chose otherwise
 * ```
 * @throws never.
 */
export function initWasm(): Promise<boolean> {
  if (arena) return Promise.resolve(true);
  if (error !== undefined || !simdSupported()) return Promise.resolve(false);
  pending ??= (async () => {
    try {
      const shared = typeof SharedArrayBuffer === "undefined" ? undefined : await WebAssembly.compile(moduleBytes(true)).catch(() => undefined);
      plainModule ??= await WebAssembly.compile(moduleBytes(false));
      const plain = plainModule;
      arena ??= makeArena(() => shared ?? plain, () => plain);
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
 * The declared maximum (in 64 KiB pages) of the shared memory that kernel modules import.
 *
 * @throws never.
 * @example
 * ```ts
 * mod.importMemory("env", "memory", { initial: 1, maximum: sharedMaxPages(), shared: true });
 * ```
 */
export function sharedMaxPages(): number {
  return SHARED_MAX_PAGES;
}

/**
 * Whether SIMD is supported, whether the kernels are ready, whether memory is shared, and the
 * initialisation error if any.
 *
 * @example
 * ```ts
 * wasmStatus(); // { simd: true, relaxedSimd: false, ready: true, shared: true }
 * ```
 * @throws never.
 */
export function wasmStatus(): WasmStatus {
  const s = { simd: simdSupported(), relaxedSimd: relaxedSimdSupported(), ready: arena !== undefined, shared: arena?.shared ?? false };
  return error === undefined ? s : { ...s, error };
}

/**
 * The main arena (GEMM scratch; also placed arrays when shared), once initialised.
 *
 * @example
 * ```ts
 * mainArena()?.byteLength; // bytes of wasm memory so far
 * ```
 * @throws never.
 */
export function mainArena(): WasmArena | undefined {
  return arena;
}

/**
 * A new plain (non-shared) arena of `bytes` (for placed arrays where the main arena is not shared), or
 * undefined when wasm is not ready or the memory cannot be had.
 *
 * @example
 * ```ts
 * const heap = plainArena(64 << 20);
 * ```
 * @throws never.
 */
export function plainArena(bytes: number): WasmArena | undefined {
  if (!initWasmSync()) return undefined;
  try {
    plainModule ??= new WebAssembly.Module(moduleBytes(false));
    return WasmArena.create(plainModule, new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) }));
  } catch {
    return undefined;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
