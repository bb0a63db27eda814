/**
 * @file The wasm kernel set's vector kernels over lists of float32 arrays (sum of squares,
 * scaling): in wasm, in place, for arrays placed in wasm memory (`placement.ts`; on several
 * threads when the arrays are large and threads are configured), staged through scratch for other
 * long arrays, and with the pure-TS twins (`kernels/vector.ts`) for the rest. All paths compute
 * the same values bit for bit.
 *
 * Threaded runs cut the arrays into pieces of `SUMSQ_CHUNK` floats from each array's start (the
 * chunks of the sum of squares, so its per-chunk sums are the same as on one thread), deal
 * contiguous ranges of pieces to the threads, and for the sum of squares add the per-piece sums
 * in order on the calling thread.
 */
import { VEC_DESC_BYTES, VEC_PIECE_BYTES, VecDesc, VecOp } from "./vector-kernel.js";
import { JOB_EXPORTS } from "./module.js";
import { currentPool, numThreads, usableThreads } from "./threads/pool.js";
import { mainArena } from "./runtime.js";
import { placementArena } from "./placement.js";
import { SUMSQ_CHUNK, scaleJs, sumsqJs } from "../kernels/vector.js";
import type { WasmArena } from "./arena.js";

/**
 * Below this many floats in total, vector kernels run on one thread: a pass over fewer than 4 MB
 * takes a few tens of microseconds, about what handing half of it to a worker costs (measured
 * with the MLP step's 270k parameters, where two threads were slower than one).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const threads = total < VEC_THREAD_MIN ? 1 : usableThreads(numThreads()); // total: floats in all arrays
 * ```
 */
export const VEC_THREAD_MIN = 1 << 20;

const VEC_KIND = JOB_EXPORTS.indexOf("vec_job");
/** Floats staged per call when an array outside wasm memory goes through a wasm kernel (256 KB). */
const STAGE_FLOATS = 4 * SUMSQ_CHUNK;
/** Shorter arrays outside wasm memory use the JS twins (staging costs more than it saves). */
const STAGE_MIN_SUMSQ = 64, STAGE_MIN_SCALE = 4096;

/** The placement arena when every array of `xs` lives in it, else undefined. */
function allPlaced(xs: readonly Float32Array[]): WasmArena | undefined {
  const ar = placementArena();
  if (!ar) return undefined;
  for (const x of xs) if (!ar.owns(x)) return undefined;
  return ar;
}

function totalLength(xs: readonly Float32Array[]): number {
  let n = 0;
  for (const x of xs) n += x.length;
  return n;
}

/**
 * Σx² over every array of `xs`, in the fixed order of `kernels/vector.ts`.
 *
 * @throws {RangeError} when scratch memory cannot grow.
 * @example
 * ```ts
 * wasmSumSquares(grads);
 * ```
 */
export function wasmSumSquares(xs: readonly Float32Array[]): number {
  const ar = allPlaced(xs);
  if (ar) {
    const t = vecThreads(ar, totalLength(xs));
    if (t > 1) return runVecJob(ar, VecOp.sumsq, xs, 0, t, 0);
  }
  const placed = ar ?? placementArena(), scratch = mainArena();
  let acc = 0;
  for (const x of xs) {
    if (placed?.owns(x)) acc = placed.exports.sumsq(x.byteOffset, x.length, acc);
    else if (scratch && x.length >= STAGE_MIN_SUMSQ) acc = sumsqStaged(scratch, x, acc);
    else acc = sumsqJs(x, acc);
  }
  return acc;
}

/**
 * `x ← fround(x·c)` for every array of `xs` (`c = 1` is skipped).
 *
 * @throws {RangeError} when scratch memory cannot grow.
 * @example
 * ```ts
 * wasmScale(grads, 0.5);
 * ```
 */
export function wasmScale(xs: readonly Float32Array[], c: number): void {
  if (c === 1) return;
  const f32 = Math.fround(c) === c || Number.isNaN(c);
  const ar = allPlaced(xs);
  if (ar) {
    const t = vecThreads(ar, totalLength(xs));
    if (t > 1) return void runVecJob(ar, f32 ? VecOp.scale32 : VecOp.scale64, xs, c, t, 0);
  }
  const placed = ar ?? placementArena(), scratch = mainArena();
  for (const x of xs) {
    if (placed?.owns(x)) {
      if (f32) placed.exports.scale32(x.byteOffset, x.length, c);
      else placed.exports.scale64(x.byteOffset, x.length, c);
    } else if (scratch && x.length >= STAGE_MIN_SCALE) scaleStaged(scratch, x, c, f32);
    else scaleJs(x, c);
  }
}

/** `acc + Σx²` for an array outside wasm memory: L2-sized slices staged into scratch and summed by the kernel. */
function sumsqStaged(arena: WasmArena, x: Float32Array, acc: number): number {
  const at = arena.scratch("stage", STAGE_FLOATS * 4, 1), o = at >>> 2, mem = arena.f32;
  for (let s = 0; s < x.length; s += STAGE_FLOATS) {
    const len = Math.min(STAGE_FLOATS, x.length - s);
    mem.set(x.subarray(s, s + len), o);
    acc = arena.exports.sumsq(at, len, acc);
  }
  return acc;
}

/** `x ← fround(x·c)` for an array outside wasm memory: slices staged, scaled and copied back. */
function scaleStaged(arena: WasmArena, x: Float32Array, c: number, f32: boolean): void {
  const at = arena.scratch("stage", STAGE_FLOATS * 4, 1), o = at >>> 2, mem = arena.f32;
  for (let s = 0; s < x.length; s += STAGE_FLOATS) {
    const len = Math.min(STAGE_FLOATS, x.length - s);
    mem.set(x.subarray(s, s + len), o);
    if (f32) arena.exports.scale32(at, len, c);
    else arena.exports.scale64(at, len, c);
    x.set(mem.subarray(o, o + len), s);
  }
}

/** Threads a vector job over `total` floats should use: 1 below {@link VEC_THREAD_MIN}, in a non-shared arena, or with threads off. */
function vecThreads(arena: WasmArena, total: number): number {
  if (!arena.shared || total < VEC_THREAD_MIN || numThreads() <= 1) return 1;
  return usableThreads(numThreads());
}

/**
 * Runs `op` over the arrays `xs` (all in `arena`) on `threads` threads; `c` is the scalar
 * parameter. For `sumsq` returns `acc` plus the sum of squares (per-piece sums added in order),
 * else `acc`.
 */
function runVecJob(arena: WasmArena, op: number, xs: readonly Float32Array[], c: number, threads: number, acc: number): number {
  let pieces = 0;
  for (const x of xs) pieces += Math.ceil(x.length / SUMSQ_CHUNK);
  const oTab = VEC_DESC_BYTES, oOut = oTab + pieces * VEC_PIECE_BYTES;
  const base = arena.scratch("vec", oOut + pieces * 8, 1.5);
  const i32 = arena.i32;
  let e = (base + oTab) >>> 2;
  for (const x of xs) {
    for (let s = 0; s < x.length; s += SUMSQ_CHUNK, e += VEC_PIECE_BYTES / 4) {
      i32[e] = Math.min(SUMSQ_CHUNK, x.length - s);
      i32[e + 1] = x.byteOffset + 4 * s;
    }
  }
  i32[(base + VecDesc.op) >>> 2] = op;
  i32[(base + VecDesc.table) >>> 2] = base + oTab;
  i32[(base + VecDesc.count) >>> 2] = pieces;
  i32[(base + VecDesc.out) >>> 2] = base + oOut;
  arena.f64[(base + VecDesc.c) >>> 3] = c;
  const job = arena.exports.vec_job;
  if (threads > 1) currentPool()!.run(VEC_KIND, base, 1, threads, job);
  else for (let i = 0; i < pieces; i++) job(base, 0, i, 0);
  if (op !== VecOp.sumsq) return acc;
  const f64 = arena.f64, o = (base + oOut) >>> 3;
  for (let i = 0; i < pieces; i++) acc += f64[o + i]!;
  return acc;
}
