/**
 * @file The WebAssembly SIMD int8 GEMM driver (the module is emitted by `gemm-int8-kernel.ts`).
 *
 * Per call: `x` is copied into scratch (one `TypedArray.set`), one descriptor is written and the
 * job runs: phase 0 packs the activations minus the zero point into int16 pairs, phase 1 computes
 * blocks of C against the weights packed once by `packInt8Weights` (moved into this memory on
 * first use). On several threads the items of both phases are dealt out by the worker pool, as
 * for the float32 GEMM; every item computes the same integers whoever runs it. With the float
 * epilogue a phase 2 turns the accumulators into float32 in place (the same bits as
 * `int8/dequant.ts`). The results are then copied out.
 *
 * With float input ({@link Int8FloatInput}) a first phase quantizes the float32 activations to
 * the staged quint8 `x` (read in place when they live in the shared wasm memory, else copied
 * into scratch with one `set`), so no quint8 copy is made in JS.
 *
 * The module is compiled once per memory kind and instantiated once per arena; in a shared memory
 * its bytes are also copied there for the workers (a pool "extra" module). Scratch grows to the
 * largest problem seen and is reused. Failures (no room, compilation refused) return false and
 * the caller runs the pure-TS kernel, which gives the same integers.
 */
import type { Int8Epilogue } from "../int8/dequant.js";
import { INT8_NR, type PackedInt8 } from "../int8/packed.js";
import type { WasmArena } from "./arena.js";
import { THREAD_MIN_WORK } from "./gemm.js";
import { INT8_DESC_BYTES, Int8Desc, Int8Epi, int8GemmModuleBytes } from "./gemm-int8-kernel.js";
import { currentPool, usableThreads, type ExtraModule, type JobFn } from "./threads/pool.js";

/** Rows per activation panel (the register tile's height). */
const MR = 4;
/** k-pairs per K block: a weight micro-panel (KC·32 bytes = 8 KB) stays in L1. */
const KC = 256;
/** Activation panels per row block: 64 rows × KC pairs (64 KB of packed activations) stay in L2. */
const MCP = 16;
/** Activation panels per packing item. */
const PACK_GROUP = 4;
/** Elements per item of the float-input quantize phase (a multiple of 16). */
const QUANT_CHUNK = 1 << 15;
/** Rows per epilogue item. */
const EPI_ROWS = 16;
/**
 * Below this many multiply-adds the pure-TS kernel runs (call and packing overhead dominate).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * if (batch * outF * inF < INT8_WASM_MIN_WORK) gemmU8I8Ts(x, zp, batch, w, w.data(), out);
 * ```
 */
export const INT8_WASM_MIN_WORK = 1024;
/** Pool id of the int8 module (map kernels' modules count up from 1). */
const MODULE_ID = 0x40000001;

interface Int8Module {
  readonly job: JobFn;
  readonly extra: ExtraModule | undefined;
}

const compiled = new Map<boolean, { module: WebAssembly.Module; bytes: Uint8Array<ArrayBuffer> } | null>();
const instances = new WeakMap<WasmArena, Int8Module | null>();

/** The module instantiated over `arena` (null when it cannot be compiled or placed here). */
function moduleFor(arena: WasmArena): Int8Module | null {
  let m = instances.get(arena);
  if (m !== undefined) return m;
  try {
    let c = compiled.get(arena.shared);
    if (c === undefined) {
      const bytes = int8GemmModuleBytes(arena.shared);
      compiled.set(arena.shared, (c = { module: new WebAssembly.Module(bytes), bytes }));
    }
    if (c === null) return null;
    const job = new WebAssembly.Instance(c.module, { env: { memory: arena.memory } }).exports.job as JobFn;
    let extra: ExtraModule | undefined;
    if (arena.shared) {
      const ptr = arena.alloc(c.bytes.length); // kept for good: the workers compile it from here
      new Uint8Array(arena.memory.buffer, ptr, c.bytes.length).set(c.bytes);
      extra = { id: MODULE_ID, ptr, len: c.bytes.length };
    }
    m = { job, extra };
  } catch {
    m = null;
  }
  instances.set(arena, m);
  return m;
}

/** Rounds a byte size up to a 64-byte block. */
const blk = (bytes: number) => Math.ceil(bytes / 64) * 64;

let u8: Uint8Array = new Uint8Array(0);

/**
 * Float activations for {@link gemmU8I8Wasm}: quantized in the kernel to quint8 with
 * `clamp(zp + rne(fl32(x·inv)), 0, 255)`; `nonFinite` is set when an input was NaN/±Infinity.
 *
 * @throws never (an interface).
 * @example
 * ```ts
 * const q: Int8FloatInput = { x, inv: Math.fround(1 / scale), nonFinite: false };
 * ```
 */
export interface Int8FloatInput {
  x: Float32Array;
  inv: number;
  nonFinite: boolean;
}

/**
 * Runs the int8 GEMM (`acc[b, o] = Σ_i (x[b, i] − zp)·w[o, i]`, see `gemmU8I8`) in wasm on up to
 * `want` threads, writing the int32 results to `acc` and/or the epilogue's float32 results to
 * `ep.out`; `x` is quint8, or float32 quantized on the way ({@link Int8FloatInput}, whose
 * `nonFinite` it sets). Returns false (having written nothing) when it did not run: tiny products, a module
 * that cannot be compiled here, or memory that cannot grow. Arguments are not validated.
 *
 * @throws {Error} `internal:` when a worker thread failed mid-call (later calls use one thread).
 * @example
 * ```ts
 * if (!gemmU8I8Wasm(mainArena()!, 2, x, 128, batch, packed, out, null)) gemmU8I8Ts(x, 128, batch, packed, packed.data(), out);
 * ```
 */
export function gemmU8I8Wasm(arena: WasmArena, want: number, x: Uint8Array | Int8FloatInput, zp: number, m: number, w: PackedInt8, acc: Int32Array | null, ep: Int8Epilogue | null): boolean {
  const k = w.inFeatures, n = w.outFeatures;
  if (m === 0 || n === 0 || k === 0 || m * n * k < INT8_WASM_MIN_WORK) return false;
  const mod = moduleFor(arena);
  if (!mod) return false;
  const mPanels = Math.ceil(m / MR), nPanels = w.panels, pairs = w.pairs;
  const groups = Math.ceil(k / 8), aStride = groups * 64, bStride = pairs * 32;
  const ldc = nPanels * INT8_NR; // int32 elements per row of C
  const rowBlocks = Math.ceil(mPanels / MCP);
  let threads = want > 1 && m * n * k >= THREAD_MIN_WORK ? usableThreads(want) : 1;
  // Column blocks: one on one thread; else enough items for about 4 per thread.
  let ncp = nPanels;
  if (threads > 1) ncp = Math.ceil(nPanels / Math.min(nPanels, Math.ceil((4 * threads) / rowBlocks)));
  const colBlocks = Math.ceil(nPanels / ncp);
  if (rowBlocks * colBlocks < 2) threads = 1;

  // Scratch (bytes): descriptor | packed activations | C | scales | bias | staged x (+16: the packer reads 8-byte groups past a row's end)
  const oA = INT8_DESC_BYTES;
  const oC = oA + blk(mPanels * aStride);
  const oS = oC + blk(mPanels * MR * ldc * 4);
  const oBias = oS + (ep ? blk(ldc * 4) : 0);
  const oX = oBias + (ep?.bias ? blk(ldc * 4) : 0);
  const fx = x instanceof Uint8Array ? null : x;
  // float input read in place from the shared memory, or staged after x
  const fxAt = fx && arena.shared && arena.owns(fx.x) ? fx.x.byteOffset : -1;
  const oXf = oX + blk(mPanels * MR * k + 16);
  const total = oXf + (fx && fxAt < 0 ? blk(m * k * 4) : 0);
  let base: number, pb: number;
  try {
    pb = w.addressIn(arena);
    if (pb < 0) return false;
    base = arena.scratch("gemm-int8", total);
  } catch {
    return false;
  }
  const i32 = arena.i32, d = base >>> 2;
  if (fx) {
    i32[d + Int8Desc.xf] = fxAt >= 0 ? fxAt : base + oXf;
    if (fxAt < 0) arena.f32.set(fx.x, (base + oXf) >>> 2);
    const f32 = arena.f32;
    f32[d + Int8Desc.inv] = fx.inv;
    f32[d + Int8Desc.qlo] = -zp;
    f32[d + Int8Desc.qhi] = 255 - zp;
    i32[d + Int8Desc.bad] = 0;
    i32[d + Int8Desc.qchunk] = QUANT_CHUNK;
  } else {
    if (u8.buffer !== arena.memory.buffer) u8 = new Uint8Array(arena.memory.buffer);
    u8.set(x as Uint8Array, base + oX); // x has exactly m·k elements (validated by the caller)
  }
  i32[d + Int8Desc.quant] = fx ? 1 : 0;
  i32[d + Int8Desc.m] = m;
  i32[d + Int8Desc.k] = k;
  i32[d + Int8Desc.x] = base + oX;
  i32[d + Int8Desc.zp] = zp;
  i32[d + Int8Desc.a] = base + oA;
  i32[d + Int8Desc.aStride] = aStride;
  i32[d + Int8Desc.groups] = groups;
  i32[d + Int8Desc.pairs] = pairs;
  i32[d + Int8Desc.b] = pb;
  i32[d + Int8Desc.bStride] = bStride;
  i32[d + Int8Desc.c] = base + oC;
  i32[d + Int8Desc.ldc] = ldc * 4;
  i32[d + Int8Desc.mPanels] = mPanels;
  i32[d + Int8Desc.nPanels] = nPanels;
  i32[d + Int8Desc.packGroup] = PACK_GROUP;
  i32[d + Int8Desc.mcp] = MCP;
  i32[d + Int8Desc.ncp] = ncp;
  i32[d + Int8Desc.kc] = KC;
  i32[d + Int8Desc.colBlocks] = colBlocks;
  i32[d + Int8Desc.rowBlocks] = rowBlocks;
  i32[d + Int8Desc.epi] = ep ? Int8Epi.on | (ep.bias ? Int8Epi.bias : 0) | (ep.relu ? Int8Epi.relu : 0) : 0;
  i32[d + Int8Desc.scales] = base + oS;
  i32[d + Int8Desc.bias] = base + oBias;
  i32[d + Int8Desc.epiRows] = EPI_ROWS;
  if (ep) {
    // the padded columns' scales and bias are whatever was there: their results are not copied out
    const f32 = arena.f32;
    f32.set(ep.scales, (base + oS) >>> 2);
    if (ep.bias) f32.set(ep.bias, (base + oBias) >>> 2);
  }

  const job = mod.job, phases = (ep ? 3 : 2) + (fx ? 1 : 0);
  if (threads > 1) currentPool()!.run(0, base, phases, threads, job, undefined, mod.extra);
  else {
    for (let ph = 0; ph < phases; ph++) {
      const items = job(base, ph, -1, 0);
      for (let i = 0; i < items; i++) job(base, ph, i, 0);
    }
  }

  if (fx) fx.nonFinite = arena.i32[d + Int8Desc.bad] !== 0;
  const c0 = (base + oC) >>> 2;
  if (acc) copyRows(arena.i32, c0, ldc, acc, m, n);
  if (ep) copyRows(arena.f32, c0, ldc, ep.out, m, n); // phase 2 left float32 in place of C
  return true;
}

/** Copies `m` rows of `n` elements (`src` from `at`, row stride `ld`) to the dense rows of `dst`. */
function copyRows<T extends Int32Array | Float32Array>(src: T, at: number, ld: number, dst: T, m: number, n: number): void {
  if (ld === n) dst.set(src.subarray(at, at + m * n));
  else for (let r = 0; r < m; r++) dst.set(src.subarray(at + r * ld, at + r * ld + n), r * n);
}
