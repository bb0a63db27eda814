/**
 * @file WebAssembly SIMD GEMM with the {@link GemmFn} signature, on one thread or several.
 *
 * Per call: (1) operands are located: an operand that already lives in the main arena's memory
 * (persistent storage, see `placement.ts`) with one unit stride is read in place; any other is staged into
 * scratch with `TypedArray.set` (one memcpy when contiguous; transposed views stay transposed,
 * the packing kernels handle both layouts). (2) C is written in place when it lives in the
 * arena (its partial edge tiles go through two small strips), else into a padded scratch block
 * copied back afterwards. (3) One descriptor is written and `gemm_job`'s items are run (see
 * `gemm-job-kernel.ts`): B panels packed by whoever takes the packing items, then rows of C in
 * items sized so that each thread gets several (dynamic balancing, see `threads/protocol.ts`);
 * on threads, N blocks beyond four (2,048 columns) run as further jobs of up to four blocks.
 * The calling thread does the copies and takes items too; with one thread there are no workers
 * and no atomics at all.
 *
 * Because every thread runs the same wasm code and rows are computed the same way whatever the
 * split, results do not depend on the thread count or on where the operands live (tests check
 * this bit for bit).
 *
 * The scratch block grows to the largest problem seen and is reused (no allocation per call in
 * steady state). Tiny products, where packing costs more than it saves, go to `gemmTs`.
 */
import { checkGemmExtents, gemmTs, type GemmFn } from "../kernels/gemm.js";
import { GEMM_DESC_BYTES, GemmDesc } from "./gemm-job-kernel.js";
import { DEFAULT_GEMM_KERNEL } from "./gemm-kernel.js";
import { JOB_EXPORTS } from "./module.js";
import { mainArena } from "./runtime.js";
import { copyBlock, roundUp, stage, stageStrided } from "./staging.js";
import { currentPool, usableThreads } from "./threads/pool.js";
import { MAX_PHASES } from "./threads/protocol.js";
import { wasmMapBlock } from "./map-exec.js";
import type { MapKernel } from "../map/compile.js";

const MR = DEFAULT_GEMM_KERNEL.mr;
const NR = DEFAULT_GEMM_KERNEL.nr;
/** K panel depth: a B micro-panel (KC·NR floats, 8 KB) stays in L1. */
const KC = 256;
/** Rows of A per packed block: an A block (MC·KC floats, 96 KB) stays in L2. */
const MC = 96;
/** Columns of B per packed panel: a B panel (KC·NB floats, 512 KB) stays in L2. */
const NB = 512;

/**
 * Below this many multiply-adds the pure TS kernel is faster (call and packing overhead dominate);
 * measured crossover ≈ 12³ on V8/x64.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * if (m * n * k < WASM_GEMM_MIN_WORK) gemmTs(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false);
 * ```
 */
export const WASM_GEMM_MIN_WORK = 2048;

/**
 * Below this many multiply-adds a product runs on one thread (waking workers and the barrier
 * cost more than they save). Products of an MLP step at batch 128 (≥ 128·256·256) are above it.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const threads = m * n * k >= THREAD_MIN_WORK ? usableThreads(want) : 1;
 * ```
 */
export const THREAD_MIN_WORK = 48 * 48 * 48;

const GEMM_KIND = JOB_EXPORTS.indexOf("gemm_job");
/** N blocks per pool job (two phases each). */
const BLOCKS_PER_JOB = MAX_PHASES >> 1;
/** 8-column micro-panels per packing item (one K panel each). */
const PACK_GROUP = 8;

/** Rounds a byte size up to a 64-byte block. */
const blk = (bytes: number) => Math.ceil(bytes / 64) * 64;

/**
 * `C[i,j] (+)= Σ_p A[i,p]·B[p,j]` in WebAssembly SIMD on up to `want` threads; same contract as
 * {@link gemmTs}. Falls back to `gemmTs` when wasm is not initialised, for tiny products, and
 * when scratch memory cannot grow.
 *
 * NOTE: accumulates in float32 per K panel of 256 (like BLAS sgemm), where `gemmTs` uses float64;
 * the difference is within a few float32 ulps of Σ|A||B| for typical K.
 *
 * @throws {Error} `internal:` when a worker thread failed mid-call (later calls use one thread).
 * @example
 * ```ts
 * gemmWasmOn(2, m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false); // C = A·B on 2 threads
 * ```
 */
export function gemmWasmOn(want: number, m: number, n: number, k: number, a: Float32Array, aOff: number, ars: number, acs: number, b: Float32Array, bOff: number, brs: number, bcs: number, c: Float32Array, cOff: number, ldc: number, accumulate: boolean, epilogue?: MapKernel | null): void {
  const arena = mainArena();
  if (!arena || m <= 0 || n <= 0 || k <= 0 || m * n * k < WASM_GEMM_MIN_WORK) {
    gemmTs(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate, epilogue);
    return;
  }
  const mPad = roundUp(m, MR), nPad = roundUp(n, NR);
  const nBlocks = Math.ceil(n / NB), nbMax = Math.min(NB, nPad);
  let threads = want > 1 && m * n * k >= THREAD_MIN_WORK ? usableThreads(want) : 1;
  threads = Math.max(1, Math.min(threads, Math.floor(mPad / (2 * MR))));
  // Rows per compute item: about 4 items per thread, 8..MC rows (one MC block on one thread).
  const rowsPerItem = threads === 1 ? MC : Math.min(MC, Math.max(2 * MR, roundUp(Math.ceil(m / (4 * threads)), MR)));

  // Where the operands are read from: in place (kind by unit stride) or staged into scratch.
  const aIn = arena.owns(a) ? (acs === 1 && ars >= 0 ? 0 : ars === 1 && acs >= 0 ? 1 : -1) : -1;
  const bIn = arena.owns(b) ? (brs === 1 && bcs >= 0 ? 0 : bcs === 1 && brs >= 0 ? 1 : -1) : -1;
  const aKind = aIn >= 0 ? aIn : acs !== 1 && ars === 1 ? 1 : 0;
  const bKind = bIn >= 0 ? bIn : bcs !== 1 && brs === 1 ? 0 : 1;
  const cDirect = arena.owns(c);
  const m4 = m & ~3, n8 = n & ~7;

  // Scratch layout (bytes): descriptor | packed B | packed A per thread | strips or C | staged A | staged B
  const paStride = MC * KC * 4;
  const oDesc = 0;
  const oPb = oDesc + GEMM_DESC_BYTES;
  const oPa = oPb + blk(k * nbMax * 4);
  const oRight = oPa + threads * paStride;
  const oBottom = oRight + (cDirect && n8 < n ? blk(m4 * NR * 4) : 0);
  const oC = oBottom + (cDirect && m4 < m ? blk(MR * nPad * 4) : 0);
  const oA = oC + (cDirect ? 0 : blk(mPad * nPad * 4));
  const oB = oA + (aIn < 0 ? blk(m * k * 4) : 0);
  const total = oB + (bIn < 0 ? blk(k * n * 4) : 0);
  let base: number;
  try {
    base = arena.scratch("gemm", total);
  } catch {
    gemmTs(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate, epilogue);
    return;
  }
  const mem = arena.f32;

  // B is staged now; A and C (needed only by the compute phases) in `prepare`, which on several
  // threads runs after the job is published, while workers already pack B.
  let bPtr: number, bLd: number;
  if (bIn >= 0) {
    bPtr = b.byteOffset + bOff * 4;
    bLd = (bIn === 0 ? bcs : brs) * 4;
  } else {
    bPtr = base + oB;
    const o = bPtr >>> 2;
    if (bKind === 0) stage(b, bOff, bcs, n, k, mem, o, k);
    else if (bcs === 1) stage(b, bOff, brs, k, n, mem, o, n);
    else stageStrided(b, bOff, brs, bcs, k, n, mem, o);
    bLd = (bKind === 1 ? n : k) * 4;
  }
  const aPtr = aIn >= 0 ? a.byteOffset + aOff * 4 : base + oA;
  const aLd = (aIn === 0 ? ars : aIn === 1 ? acs : aKind === 1 ? m : k) * 4;
  const right = base + oRight, bottom = base + oBottom;
  const cPtr = cDirect ? c.byteOffset + cOff * 4 : base + oC;
  const ldcB = cDirect ? ldc * 4 : nPad * 4;
  const prepare = () => {
    if (aIn < 0) {
      const o = aPtr >>> 2;
      if (aKind === 1) stage(a, aOff, acs, k, m, mem, o, m);
      else if (acs === 1) stage(a, aOff, ars, m, k, mem, o, k);
      else stageStrided(a, aOff, ars, acs, m, k, mem, o);
    }
    if (!accumulate) return;
    if (!cDirect) copyBlock(c, cOff, ldc, m, n, mem, cPtr >>> 2, nPad);
    else {
      copyBlock(c, cOff + n8, ldc, m4, n - n8, mem, right >>> 2, NR);
      copyBlock(c, cOff + m4 * ldc, ldc, m - m4, n, mem, bottom >>> 2, nPad);
    }
  };

  const d = (base + oDesc) >>> 2, i32 = arena.i32;
  i32[d + GemmDesc.m] = m;
  i32[d + GemmDesc.n] = n;
  i32[d + GemmDesc.k] = k;
  i32[d + GemmDesc.aPtr] = aPtr;
  i32[d + GemmDesc.aLd] = aLd;
  i32[d + GemmDesc.aKind] = aKind;
  i32[d + GemmDesc.bPtr] = bPtr;
  i32[d + GemmDesc.bLd] = bLd;
  i32[d + GemmDesc.bKind] = bKind;
  i32[d + GemmDesc.cPtr] = cPtr;
  i32[d + GemmDesc.ldc] = ldcB;
  i32[d + GemmDesc.cDirect] = cDirect ? 1 : 0;
  i32[d + GemmDesc.accumulate] = accumulate ? 1 : 0;
  i32[d + GemmDesc.pb] = base + oPb;
  i32[d + GemmDesc.pa] = base + oPa;
  i32[d + GemmDesc.paStride] = paStride;
  i32[d + GemmDesc.right] = right;
  i32[d + GemmDesc.bottom] = bottom;
  i32[d + GemmDesc.bottomLd] = nPad * 4;
  i32[d + GemmDesc.nb] = NB;
  i32[d + GemmDesc.kc] = KC;
  i32[d + GemmDesc.mc] = MC;
  i32[d + GemmDesc.rowsPerItem] = rowsPerItem;
  i32[d + GemmDesc.packGroup] = PACK_GROUP;

  i32[d + GemmDesc.q0] = 0;

  const job = arena.exports.gemm_job;
  const desc = base + oDesc, phases = 2 * nBlocks;
  if (threads > 1) {
    // a job has at most MAX_PHASES phases: N blocks beyond that run as further jobs
    const pool = currentPool()!;
    for (let q0 = 0; q0 < nBlocks; q0 += BLOCKS_PER_JOB) {
      i32[d + GemmDesc.q0] = q0;
      pool.run(GEMM_KIND, desc, 2 * Math.min(BLOCKS_PER_JOB, nBlocks - q0), threads, job, q0 === 0 ? prepare : undefined);
    }
  } else {
    prepare();
    for (let ph = 0; ph < phases; ph++) {
      const items = job(desc, ph, -1, 0);
      for (let i = 0; i < items; i++) job(desc, ph, i, 0);
    }
  }

  const out = arena.f32;
  if (!cDirect) {
    // the epilogue runs on the scratch block while it is in cache, before the copy out
    if (epilogue) wasmMapBlock(epilogue, [out, out], [cPtr >>> 2, cPtr >>> 2], ONE_ONE, [nPad, nPad], n, m, NO_PARAMS);
    copyBlock(out, cPtr >>> 2, nPad, m, n, c, cOff, ldc);
  } else {
    copyBlock(out, right >>> 2, NR, m4, n - n8, c, cOff + n8, ldc);
    copyBlock(out, bottom >>> 2, nPad, m - m4, n, c, cOff + m4 * ldc, ldc);
    if (epilogue) wasmMapBlock(epilogue, [c, c], [cOff, cOff], ONE_ONE, [ldc, ldc], n, m, NO_PARAMS);
  }
}

const ONE_ONE: readonly number[] = [1, 1];
const NO_PARAMS: readonly number[] = [0, 0];

/**
 * `C[i,j] (+)= Σ_p A[i,p]·B[p,j]` in WebAssembly SIMD on the calling thread; same contract as
 * {@link gemmTs} (see {@link gemmWasmOn}).
 *
 * @throws {RangeError} when an operand reaches outside its buffer (falls back to `gemmTs` when wasm
 * is unavailable).
 * @example
 * ```ts
 * await initWasm();
 * gemmWasm(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false); // C = A·B, all row-major
 * ```
 */
export const gemmWasm: GemmFn = (m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate, epilogue) => {
  checkGemmExtents("gemmWasm", m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc);
  gemmWasmOn(1, m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate, epilogue);
};
