/**
 * @file Running map kernels in wasm (the wasm kernel set's `map` and `mapBlock`): on arrays in
 * place where they live in wasm memory (`placement.ts`; large contiguous maps on several threads
 * when threads are configured), and through scratch where they do not: pieces of the operands
 * that live on the JS heap are copied in (a memcpy per row), the kernel runs, the outputs are
 * copied back. Kernels with host calls run in the pure-TS backend (`map/js-backend.ts`). Every path computes the same bits.
 */
import { currentPool, numThreads, usableThreads } from "./threads/pool.js";
import { mainArena } from "./runtime.js";
import { placementArena } from "./placement.js";
import { MapDesc, mapModule, type MapModule } from "./map-emitter.js";
import { SUMSQ_CHUNK } from "../kernels/vector.js";
import { mapBlockJs, mapJs } from "../map/js-backend.js";
import type { MapKernel } from "../map/compile.js";
import type { WasmArena } from "./arena.js";

/** Below this many floats in placed tuples a map runs on one thread (a map does several operations per element). */
const MAP_THREAD_MIN = 1 << 17;
/** Floats per operand and piece when operands are staged through scratch. */
const STAGE = 4096;

/** The arena a map runs in: the placement arena where it holds every array (or is also the scratch arena), else the scratch arena. */
function arenaFor(arrays: readonly Float32Array[]): WasmArena | undefined {
  const placed = placementArena();
  if (!placed) return undefined;
  if (placed.shared) return placed; // one memory for placed arrays and scratch
  return arrays.every((a) => placed.owns(a)) ? placed : mainArena();
}

/**
 * Runs a map kernel over tuples of arrays (`lists[k][t]` is operand `k` of tuple `t`), each tuple
 * contiguous and of one length, in place.
 *
 * @throws {RangeError} when scratch memory cannot grow.
 * @example
 * ```ts
 * wasmMap(sgd, [params, grads, bufs], [0.1, 0.9]);
 * ```
 */
export function wasmMap(kernel: MapKernel, lists: readonly (readonly Float32Array[])[], scalars: readonly number[]): void {
  const k = lists.length, tuples = lists[0]!.length, tuple = new Array<Float32Array>(k);
  const ar = kernel.usesHost ? undefined : placementArena();
  if (!ar) return mapJs(kernel, lists, scalars);
  const placed = new Array<boolean>(tuples);
  let placedFloats = 0;
  for (let t = 0; t < tuples; t++) {
    let all = true;
    for (let j = 0; j < k && all; j++) all = ar.owns(lists[j]![t]!);
    placed[t] = all;
    if (all) placedFloats += lists[0]![t]!.length;
  }
  const m = mapModule(ar, kernel, "U".repeat(k));
  const threads = m.extra && placedFloats >= MAP_THREAD_MIN && numThreads() > 1 ? usableThreads(numThreads()) : 1;
  if (threads > 1) mapJob(ar, kernel, m, lists, placed, scalars, threads);
  const offsets = new Array<number>(k).fill(0), ones = new Array<number>(k).fill(1), zeros = new Array<number>(k).fill(0);
  for (let t = 0; t < tuples; t++) {
    if (placed[t] && threads > 1) continue; // done by the job
    for (let j = 0; j < k; j++) tuple[j] = lists[j]![t]!;
    wasmMapBlock(kernel, tuple, offsets, ones, zeros, tuple[0]!.length, 1, scalars);
  }
}

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
  const values = kernel.scalarValues(scalars);
  for (let s = 0; s < kernel.numScalars; s++) f64[((base + MapDesc.scalars) >>> 3) + s] = values[s]!;
  currentPool()!.run(0, base, 1, threads, m.job!, undefined, m.extra);
}

/** An operand's stride class (see `map-emitter.ts`); in rows of one element every stride is as good as 1. */
const classOf = (stride: number, n: number) => (stride === 1 || n === 1 ? "U" : stride === 0 ? "Z" : "G");

/**
 * Runs `kernel` over a 2-D block (see `interpretBlock` in `map/interpret.ts` for the layout): in
 * place for operands in the kernel's wasm memory, through scratch for the others.
 *
 * @throws {RangeError} when scratch memory cannot grow.
 * @example
 * ```ts
 * wasmMapBlock(addKernel, [o, a, b], [0, 0, 0], [1, 1, 0], [n, n, 1], n, m, []);
 * ```
 */
export function wasmMapBlock(
  kernel: MapKernel, arrays: readonly Float32Array[], offsets: readonly number[], strides: readonly number[],
  rowStrides: readonly number[], n: number, m: number, scalars: readonly number[],
): void {
  if (n === 0 || m === 0) return;
  const ar = kernel.usesHost ? undefined : arenaFor(arrays);
  if (!ar) return mapBlockJs(kernel, arrays, offsets, strides, rowStrides, n, m, scalars);
  const k = arrays.length;
  const args = new Array<number>(3 * k + 2 + kernel.numScalars);
  const values = kernel.scalarValues(scalars);
  for (let s = 0; s < kernel.numScalars; s++) args[3 * k + 2 + s] = values[s]!;
  let staged = false;
  for (let j = 0; j < k; j++) if (!ar.owns(arrays[j]!)) staged = true;
  if (!staged) {
    if (m === 1 && n >= MAP_THREAD_MIN && ar.shared && numThreads() > 1 && strides.every((st) => st === 1)) {
      // one long contiguous run in wasm memory: split between the threads like a foreach map
      const lists = arrays.map((a, j) => [a.subarray(offsets[j]!, offsets[j]! + n)]);
      const threads = usableThreads(numThreads());
      if (threads > 1) return mapJob(ar, kernel, mapModule(ar, kernel, "U".repeat(k)), lists, [true], scalars, threads);
    }
    let classes = "";
    for (let j = 0; j < k; j++) {
      args[j] = arrays[j]!.byteOffset + 4 * offsets[j]!;
      args[k + 2 + j] = strides[j]!;
      args[2 * k + 2 + j] = rowStrides[j]!;
      classes += classOf(strides[j]!, n);
    }
    args[k] = n;
    args[k + 1] = m;
    Reflect.apply(mapModule(ar, kernel, classes).run, undefined, args);
    return;
  }
  runStaged(ar, kernel, arrays, offsets, strides, rowStrides, n, m, args);
}

/** Pieces of at most {@link STAGE} elements: whole rows, or segments of one long row. */
function runStaged(
  ar: WasmArena, kernel: MapKernel, arrays: readonly Float32Array[], offsets: readonly number[], strides: readonly number[],
  rowStrides: readonly number[], n: number, m: number, args: number[],
): void {
  const k = arrays.length;
  const base = ar.scratch("map-stage", k * STAGE * 4, 1);
  const own = arrays.map((a) => ar.owns(a));
  let classes = "";
  for (let j = 0; j < k; j++) classes += own[j] ? classOf(strides[j]!, n) : strides[j] === 0 && n > 1 ? "Z" : "U";
  const run = mapModule(ar, kernel, classes).run;
  const seg = Math.min(n, STAGE), rowsPer = n <= STAGE ? Math.floor(STAGE / n) : 1;
  for (let r0 = 0; r0 < m; r0 += rowsPer) {
    const g = Math.min(rowsPer, m - r0);
    for (let c0 = 0; c0 < n; c0 += seg) {
      const len = Math.min(seg, n - c0);
      const mem = ar.f32;
      for (let j = 0; j < k; j++) {
        const start = offsets[j]! + r0 * rowStrides[j]! + c0 * strides[j]!;
        if (own[j]) {
          args[j] = arrays[j]!.byteOffset + 4 * start;
          args[k + 2 + j] = strides[j]!;
          args[2 * k + 2 + j] = rowStrides[j]!;
          continue;
        }
        const at = base + j * STAGE * 4, zero = strides[j] === 0;
        args[j] = at;
        args[k + 2 + j] = zero ? 0 : 1;
        args[2 * k + 2 + j] = zero ? 1 : len;
        if (kernel.reads[j]) copyIn(arrays[j]!, start, zero ? 0 : strides[j]!, rowStrides[j]!, zero ? 1 : len, g, mem, at >>> 2);
      }
      args[k] = len;
      args[k + 1] = g;
      Reflect.apply(run, undefined, args);
      const out = ar.f32;
      for (let j = 0; j < k; j++) {
        if (own[j] || !kernel.writes[j]) continue;
        copyOut(out, (base + j * STAGE * 4) >>> 2, arrays[j]!, offsets[j]! + r0 * rowStrides[j]! + c0 * strides[j]!, strides[j]!, rowStrides[j]!, len, g);
      }
    }
  }
}

/** Copies `g` rows of `len` elements (stride `s`, rows `rs` apart) from `src` to dense rows of `dst` at `o`. */
function copyIn(src: Float32Array, at: number, s: number, rs: number, len: number, g: number, dst: Float32Array, o: number): void {
  if (s === 1 && rs === len) return void dst.set(src.subarray(at, at + len * g), o);
  for (let r = 0; r < g; r++, at += rs, o += len) {
    if (s === 1 && len >= 32) dst.set(src.subarray(at, at + len), o);
    else for (let i = 0, q = at; i < len; i++, q += s) dst[o + i] = src[q]!;
  }
}

/** Copies dense rows of `src` at `o` back to `g` rows of `len` elements of `dst` (stride `s`, rows `rs` apart). */
function copyOut(src: Float32Array, o: number, dst: Float32Array, at: number, s: number, rs: number, len: number, g: number): void {
  if (s === 1 && rs === len) return void dst.set(src.subarray(o, o + len * g), at);
  for (let r = 0; r < g; r++, at += rs, o += len) {
    if (s === 1 && len >= 32) dst.set(src.subarray(o, o + len), at);
    else for (let i = 0, q = at; i < len; i++, q += s) dst[q] = src[o + i]!;
  }
}
