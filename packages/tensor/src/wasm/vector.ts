/**
 * @file The wasm kernel set's vector and map kernels over lists of float32 arrays: in wasm, in
 * place, for arrays placed in wasm memory (`placement.ts`; on several threads when the arrays are
 * large and threads are configured), staged through scratch for other long arrays, and with the
 * pure-TS twins (`kernels/vector.ts`, `map/interpret.ts`) for the rest. All paths compute the same
 * values bit for bit.
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
import { MapDesc, mapModule, type MapModule } from "./map-emitter.js";
import { SUMSQ_CHUNK, scaleJs, sumsqJs } from "../kernels/vector.js";
import { interpretMap } from "../map/interpret.js";
import type { MapKernel } from "../map/expr.js";
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

/**
 * Runs a map kernel over tuples of arrays (`lists[k][t]` is operand `k` of tuple `t`): in wasm,
 * on the arrays in place where they live in wasm memory, staged through scratch where they do
 * not (in a shared memory; elsewhere such tuples go to the interpreter). Same bits either way.
 *
 * @throws never (the caller validates the lists).
 * @example
 * ```ts
 * wasmMap(sgd, [params, grads, bufs], [0.1, 0.9]);
 * ```
 */
export function wasmMap(kernel: MapKernel, lists: readonly (readonly Float32Array[])[], scalars: readonly number[]): void {
  const ar = placementArena();
  if (!ar) return interpretAll(kernel, lists, scalars);
  const m = mapModule(ar, kernel);
  const k = lists.length, tuples = lists[0]!.length;
  const placed = new Array<boolean>(tuples);
  let placedFloats = 0;
  for (let t = 0; t < tuples; t++) {
    let all = true;
    for (let j = 0; j < k && all; j++) all = ar.owns(lists[j]![t]!);
    placed[t] = all;
    if (all) placedFloats += lists[0]![t]!.length;
  }
  const threads = m.extra && placedFloats >= MAP_THREAD_MIN && numThreads() > 1 ? usableThreads(numThreads()) : 1;
  if (threads > 1) mapJob(ar, kernel, m, lists, placed, scalars, threads);
  const args = new Array<number>(k + 1 + kernel.numScalars);
  for (let s = 0; s < kernel.numScalars; s++) args[k + 1 + s] = scalars[s]!;
  const tuple = new Array<Float32Array>(k);
  for (let t = 0; t < tuples; t++) {
    if (placed[t] && threads > 1) continue; // done by the job
    for (let j = 0; j < k; j++) tuple[j] = lists[j]![t]!;
    if (placed[t]) {
      for (let j = 0; j < k; j++) args[j] = tuple[j]!.byteOffset;
      args[k] = tuple[0]!.length;
      Reflect.apply(m.run, undefined, args);
    } else if (ar.shared) mapStaged(ar, kernel, m.run, tuple, args);
    else interpretMap(kernel, tuple, scalars);
  }
}

/**
 * Below this many floats in placed tuples a map runs on one thread. A map does several float64
 * operations per element, so it pays off sooner than the sum of squares.
 */
const MAP_THREAD_MIN = 1 << 17;

/** Runs the placed tuples of a map on `threads` threads: pieces of `SUMSQ_CHUNK` floats dealt out by the pool. */
function mapJob(ar: WasmArena, kernel: MapKernel, m: MapModule, lists: readonly (readonly Float32Array[])[], placed: readonly boolean[], scalars: readonly number[], threads: number): void {
  const k = lists.length, entry = 4 * (k + 1);
  let pieces = 0;
  lists[0]!.forEach((x, t) => (pieces += placed[t] ? Math.ceil(x.length / SUMSQ_CHUNK) : 0));
  const oTab = MapDesc.scalars + 8 * kernel.numScalars;
  const base = ar.scratch("map-job", oTab + pieces * entry, 1.5);
  const i32 = ar.i32, f64 = ar.f64;
  let e = (base + oTab) >>> 2;
  lists[0]!.forEach((x, t) => {
    if (!placed[t]) return;
    for (let s = 0; s < x.length; s += SUMSQ_CHUNK, e += k + 1) {
      i32[e] = Math.min(SUMSQ_CHUNK, x.length - s);
      for (let j = 0; j < k; j++) i32[e + 1 + j] = lists[j]![t]!.byteOffset + 4 * s;
    }
  });
  i32[(base + MapDesc.count) >>> 2] = pieces;
  i32[(base + MapDesc.table) >>> 2] = base + oTab;
  for (let s = 0; s < kernel.numScalars; s++) f64[((base + MapDesc.scalars) >>> 3) + s] = scalars[s]!;
  currentPool()!.run(0, base, 1, threads, m.job, undefined, m.extra);
}

/** Floats per array and chunk when a map kernel stages arrays outside wasm memory. */
const MAP_STAGE = 4096;

/** Runs `fn` over a tuple with some arrays outside wasm memory: chunks of those copied into scratch and the outputs copied back. */
function mapStaged(ar: WasmArena, kernel: MapKernel, fn: MapModule["run"], tuple: readonly Float32Array[], args: number[]): void {
  const k = tuple.length, n = tuple[0]!.length;
  const base = ar.scratch("map", k * MAP_STAGE * 4, 1);
  const written = new Array<boolean>(k).fill(false);
  for (const [arr] of kernel.outputs) written[arr] = true;
  for (let start = 0; start < n; start += MAP_STAGE) {
    const len = Math.min(MAP_STAGE, n - start);
    const mem = ar.f32;
    for (let j = 0; j < k; j++) {
      const x = tuple[j]!;
      if (ar.owns(x)) args[j] = x.byteOffset + 4 * start;
      else {
        args[j] = base + j * MAP_STAGE * 4;
        if (kernel.reads[j]) mem.set(x.subarray(start, start + len), args[j]! >>> 2);
      }
    }
    args[k] = len;
    Reflect.apply(fn, undefined, args);
    const out = ar.f32;
    for (let j = 0; j < k; j++) {
      const x = tuple[j]!;
      if (written[j] && !ar.owns(x)) x.set(out.subarray(args[j]! >>> 2, (args[j]! >>> 2) + len), start);
    }
  }
}

function interpretAll(kernel: MapKernel, lists: readonly (readonly Float32Array[])[], scalars: readonly number[]): void {
  const tuple = new Array<Float32Array>(lists.length);
  for (let t = 0; t < lists[0]!.length; t++) {
    for (let j = 0; j < lists.length; j++) tuple[j] = lists[j]![t]!;
    interpretMap(kernel, tuple, scalars);
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
