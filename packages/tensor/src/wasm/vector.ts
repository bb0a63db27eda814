/**
 * @file Runs the vector kernels of `vector-kernel.ts` over lists of float32 arrays: in wasm, in
 * place, when an array lives in the heap's arena (on several threads when the arrays are large
 * and threads are configured), else with the JS twins below, which compute the same values bit
 * for bit (see `vector-kernel.ts` for the float64 roundings and the fixed summation structure).
 *
 * Threaded runs cut the arrays into pieces of `SUMSQ_CHUNK` floats from each array's start (the
 * chunks of the sum of squares, so its per-chunk sums are the same as on one thread), deal
 * contiguous ranges of pieces to the threads, and for the sum of squares add the per-piece sums
 * in order on the calling thread.
 */
import { SgdFlag, SgdHp, SUMSQ_CHUNK, VEC_DESC_BYTES, VEC_PIECE_BYTES, VecDesc, VecOp } from "./vector-kernel.js";
import { JOB_EXPORTS } from "./module.js";
import { currentPool, numThreads, usableThreads } from "./threads/pool.js";
import type { WasmArena } from "./arena.js";

const fround = Math.fround;

/**
 * Below this many floats in total, vector kernels run on one thread. Each thread needs a few
 * hundred kilobytes of work for the hand-off (a few microseconds) to pay.
 */
export const VEC_THREAD_MIN = 1 << 18;

const VEC_KIND = JOB_EXPORTS.indexOf("vec_job");

const fr = fround; // short alias for the float32 emulation below

/**
 * `acc + Σx²`, the fast structure of `vector-kernel.ts` emulated exactly (JS twin of wasm `sumsq`).
 *
 * @throws never.
 * @example
 * ```ts
 * sumsqJs(Float32Array.of(3, 4), 0); // 25
 * ```
 */
export function sumsqJs(x: Float32Array, acc: number): number {
  const n = x.length;
  for (let c = 0; c < n; c += SUMSQ_CHUNK) {
    const end = Math.min(c + SUMSQ_CHUNK, n);
    const vecEnd = c + ((end - c) & ~15);
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let i = c;
    for (; i < vecEnd; i += 16) {
      const a0 = x[i]!, a1 = x[i + 1]!, a2 = x[i + 2]!, a3 = x[i + 3]!;
      const b0 = x[i + 4]!, b1 = x[i + 5]!, b2 = x[i + 6]!, b3 = x[i + 7]!;
      const c0 = x[i + 8]!, c1 = x[i + 9]!, c2 = x[i + 10]!, c3 = x[i + 11]!;
      const d0 = x[i + 12]!, d1 = x[i + 13]!, d2 = x[i + 14]!, d3 = x[i + 15]!;
      s0 += fr(fr(fr(a0 * a0) + fr(b0 * b0)) + fr(fr(c0 * c0) + fr(d0 * d0)));
      s1 += fr(fr(fr(a1 * a1) + fr(b1 * b1)) + fr(fr(c1 * c1) + fr(d1 * d1)));
      s2 += fr(fr(fr(a2 * a2) + fr(b2 * b2)) + fr(fr(c2 * c2) + fr(d2 * d2)));
      s3 += fr(fr(fr(a3 * a3) + fr(b3 * b3)) + fr(fr(c3 * c3) + fr(d3 * d3)));
    }
    let r = s0 + s2 + (s1 + s3);
    for (; i < end; i++) r += x[i]! * x[i]!;
    acc += r;
  }
  return acc;
}

/**
 * `acc + Σx²` with exact squares, the structure of `vector-kernel.ts` (JS twin of wasm `sumsq64`).
 *
 * @throws never.
 * @example
 * ```ts
 * sumsq64Js(Float32Array.of(1e20), 0); // 1e40 (float32 squares would overflow)
 * ```
 */
export function sumsq64Js(x: Float32Array, acc: number): number {
  const n = x.length;
  for (let c = 0; c < n; c += SUMSQ_CHUNK) {
    const end = Math.min(c + SUMSQ_CHUNK, n);
    const vecEnd = c + ((end - c) & ~7);
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    let i = c;
    for (; i < vecEnd; i += 8) {
      const x0 = x[i]!, x1 = x[i + 1]!, x2 = x[i + 2]!, x3 = x[i + 3]!;
      const x4 = x[i + 4]!, x5 = x[i + 5]!, x6 = x[i + 6]!, x7 = x[i + 7]!;
      s0 += x0 * x0;
      s1 += x1 * x1;
      s2 += x2 * x2;
      s3 += x3 * x3;
      s4 += x4 * x4;
      s5 += x5 * x5;
      s6 += x6 * x6;
      s7 += x7 * x7;
    }
    let r = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
    for (; i < end; i++) r += x[i]! * x[i]!;
    acc += r;
  }
  return acc;
}

/** Floats staged per call when a plain array goes through a wasm kernel (4 chunks, 256 KB). */
const STAGE_FLOATS = 4 * SUMSQ_CHUNK;

/**
 * `acc + Σx²` (fast or exact structure) for an array outside wasm memory, by the wasm kernel:
 * chunk-aligned slices are copied into `arena` scratch (L2-sized) and summed there, so the bits
 * are those of the heap path, at wasm speed.
 *
 * @example
 * ```ts
 * acc = sumsqStaged(arena, plainArray, acc, false);
 * ```
 * @throws {RangeError} when scratch memory cannot grow.
 */
export function sumsqStaged(arena: WasmArena, x: Float32Array, acc: number, exact: boolean): number {
  const base = scratchFor(arena, 256 + STAGE_FLOATS * 4), at = base + 256;
  const mem = arena.f32, o = at >>> 2, fn = exact ? arena.exports.sumsq64 : arena.exports.sumsq;
  for (let s = 0; s < x.length; s += STAGE_FLOATS) {
    const len = Math.min(STAGE_FLOATS, x.length - s);
    mem.set(x.subarray(s, s + len), o);
    acc = fn(at, len, acc);
  }
  return acc;
}

/**
 * `x ← fround(x·c)` for an array outside wasm memory, by the wasm kernel (`scale32` when
 * `f32`, else `scale64`): L2-sized slices are copied into `arena` scratch, scaled, and copied
 * back. Same bits as {@link scaleJs}, about 2–3× faster for long arrays.
 *
 * @throws {RangeError} when scratch memory cannot grow.
 * @example
 * ```ts
 * scaleStaged(arena, plainArray, 0.5, true);
 * ```
 */
export function scaleStaged(arena: WasmArena, x: Float32Array, c: number, f32: boolean): void {
  const base = scratchFor(arena, 256 + STAGE_FLOATS * 4), at = base + 256;
  const mem = arena.f32, o = at >>> 2;
  for (let s = 0; s < x.length; s += STAGE_FLOATS) {
    const len = Math.min(STAGE_FLOATS, x.length - s);
    mem.set(x.subarray(s, s + len), o);
    if (f32) arena.exports.scale32(at, len, c);
    else arena.exports.scale64(at, len, c);
    x.set(mem.subarray(o, o + len), s);
  }
}

/**
 * `x ← fround(x·c)` (JS twin of wasm `scale32`/`scale64`).
 *
 * @throws never.
 * @example
 * ```ts
 * scaleJs(x, 0.5);
 * ```
 */
export function scaleJs(x: Float32Array, c: number): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * c;
}

/**
 * `y ← fround(y + a·x)` (JS twin of wasm `axpy`).
 *
 * @throws never.
 * @example
 * ```ts
 * axpyJs(y, -0.1, x);
 * ```
 */
export function axpyJs(y: Float32Array, a: number, x: Float32Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + a * x[i]!;
}

/** SGD hyper-parameters in the form the kernels use. */
export interface SgdHyper {
  lr: number;
  mu: number;
  keep: number;
  wd: number;
  /** `±gradScale` (negative to maximize). */
  gs: number;
  first: boolean;
  nesterov: boolean;
}

/**
 * One SGD step (JS twin of wasm `sgd`): with `g = fround(grad·gs)`, then
 * `g = fround(g + wd·θ)` (wd ≠ 0), `b = first ? g : fround(fround(μ·b) + keep·g)`,
 * `d = nesterov ? fround(g + μ·b) : b` (μ ≠ 0, else `d = g`), `θ = fround(θ − lr·d)`.
 *
 * @throws never (`b` must be given when μ ≠ 0).
 * @example
 * ```ts
 * sgdJs(p, g, b, { lr: 0.1, mu: 0.9, keep: 1, wd: 0, gs: 1, first: false, nesterov: false });
 * ```
 */
export function sgdJs(p: Float32Array, g: Float32Array, b: Float32Array | null, h: SgdHyper): void {
  const { lr, mu, keep, wd, gs, first, nesterov } = h;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    let gi = fround(g[i]! * gs);
    const pi = p[i]!;
    if (wd !== 0) gi = fround(gi + wd * pi);
    let d = gi;
    if (mu !== 0) {
      const bi = first ? gi : fround(fround(mu * b![i]!) + keep * gi);
      b![i] = bi;
      d = nesterov ? fround(gi + mu * bi) : bi;
    }
    p[i] = pi - lr * d;
  }
}

/** Scratch per arena for piece tables and descriptors. */
const scratch = new WeakMap<WasmArena, { addr: number; bytes: number }>();

function scratchFor(arena: WasmArena, bytes: number): number {
  const have = scratch.get(arena);
  if (have && have.bytes >= bytes) return have.addr;
  if (have) arena.free(have.addr);
  scratch.delete(arena);
  const size = Math.ceil((bytes * 1.5) / 4096) * 4096;
  const addr = arena.alloc(size);
  scratch.set(arena, { addr, bytes: size });
  return addr;
}

/**
 * Writes the hyper-parameter block of `h` at byte `at` of `arena`.
 *
 * @example
 * ```ts
 * writeSgdHyper(arena, hp, h); arena.exports.sgd(p, g, b, n, hp);
 * ```
 * @throws never.
 */
export function writeSgdHyper(arena: WasmArena, at: number, h: SgdHyper): void {
  const f64 = arena.f64, o = at >>> 3;
  f64[o + SgdHp.lr / 8] = h.lr;
  f64[o + SgdHp.mu / 8] = h.mu;
  f64[o + SgdHp.keep / 8] = h.keep;
  f64[o + SgdHp.wd / 8] = h.wd;
  f64[o + SgdHp.gs / 8] = h.gs;
  arena.i32[(at + SgdHp.flags) >>> 2] =
    (h.first ? SgdFlag.first : 0) | (h.nesterov ? SgdFlag.nesterov : 0) | (h.mu !== 0 ? SgdFlag.momentum : 0) | (h.wd !== 0 ? SgdFlag.decay : 0) |
    (h.keep === 1 ? SgdFlag.unitKeep : 0) | (h.gs === 1 ? SgdFlag.unitScale : 0);
}

/**
 * A small scratch block for one call's hyper-parameters (single-thread path).
 *
 * @example
 * ```ts
 * const hp = paramBlock(arena);
 * ```
 * @throws {RangeError} when scratch memory cannot grow.
 */
export function paramBlock(arena: WasmArena): number {
  return scratchFor(arena, 256);
}

/**
 * Threads a vector job over `lists[0].length` arrays (all in `arena`, `arena` shared) should use,
 * given `total` floats: 1 when below {@link VEC_THREAD_MIN} or threads are off.
 *
 * @example
 * ```ts
 * if (vecThreads(arena, total) > 1) runVecJob(...);
 * ```
 * @throws never.
 */
export function vecThreads(arena: WasmArena, total: number): number {
  if (!arena.shared || total < VEC_THREAD_MIN || numThreads() <= 1) return 1;
  return usableThreads(numThreads());
}

/**
 * Runs `op` over arrays `lists[k][i]` (k = operand, i = array; all in `arena`) on `threads`
 * threads; `c` is the scalar parameter, `h` the SGD block. For `sumsq`/`sumsq64` returns `acc` plus the
 * sum of squares (per-piece sums added in order), else `acc`.
 *
 * @throws {Error} `internal:` when a worker failed.
 * @example
 * ```ts
 * const s = runVecJob(arena, VecOp.sumsq, [grads], 0, null, 2, 0);
 * ```
 */
export function runVecJob(arena: WasmArena, op: number, lists: readonly (readonly Float32Array[])[], c: number, h: SgdHyper | null, threads: number, acc: number): number {
  const first = lists[0]!;
  let pieces = 0;
  for (const x of first) pieces += Math.ceil(x.length / SUMSQ_CHUNK);
  const oHp = VEC_DESC_BYTES, oTab = oHp + 64, oOut = oTab + pieces * VEC_PIECE_BYTES;
  const base = scratchFor(arena, oOut + pieces * 8);
  const i32 = arena.i32;
  let e = (base + oTab) >>> 2;
  for (let a = 0; a < first.length; a++) {
    const n = first[a]!.length;
    for (let s = 0; s < n; s += SUMSQ_CHUNK, e += 4) {
      i32[e] = Math.min(SUMSQ_CHUNK, n - s);
      for (let k = 0; k < lists.length; k++) i32[e + 1 + k] = lists[k]![a]!.byteOffset + 4 * s;
    }
  }
  if (h) writeSgdHyper(arena, base + oHp, h);
  i32[(base + VecDesc.op) >>> 2] = op;
  i32[(base + VecDesc.table) >>> 2] = base + oTab;
  i32[(base + VecDesc.count) >>> 2] = pieces;
  i32[(base + VecDesc.out) >>> 2] = base + oOut;
  i32[(base + VecDesc.hp) >>> 2] = base + oHp;
  arena.f64[(base + VecDesc.c) >>> 3] = c;
  const job = arena.exports.vec_job;
  if (threads > 1) currentPool()!.run(VEC_KIND, base, 1, threads, job);
  else for (let i = 0; i < pieces; i++) job(base, 0, i, 0);
  if (op !== VecOp.sumsq && op !== VecOp.sumsq64) return acc;
  const f64 = arena.f64, o = (base + oOut) >>> 3;
  for (let i = 0; i < pieces; i++) acc += f64[o + i]!;
  return acc;
}
