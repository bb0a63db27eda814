/**
 * @file The pure-TS backend of map kernels (see `expr.ts`): the compiled program runs over
 * chunks of up to {@link CHUNK} elements, one tight loop per instruction with the dispatch
 * outside it (`loops.ts`: no closures or calls per element), float64 values in reused
 * `Float64Array` slots. The program is lowered once per kernel: instructions whose operands are
 * all per-call values are evaluated once per call, a `.f32()` of an operation used only there is
 * fused into that operation's loop, and a `.f32()` of a value that is already a float32 value is
 * dropped. The wasm backend computes the same operations, so both give the same bits.
 *
 * A chunk is a run of one row, or several whole rows of a 2-D block (rows of `n` elements, row
 * `r` of operand `j` at `offset[j] + r·rowStride[j]`, element `i` at `+ i·stride[j]`), so strided
 * and broadcast operands (stride 0) are read and written in place.
 */
import { MapOp } from "./expr.js";
import type { MapKernel } from "./compile.js";
import {
  BINARY_UV, BINARY_VU, BINARY_VV, ROUNDED_UNARY, ROUNDED_UV, ROUNDED_VU, ROUNDED_VV, SWAPPED, UNARY,
  evalUniform, selectVUU, selectVUV, selectVVU, selectVVV, type UVLoop, type UnaryLoop, type VULoop, type VVLoop,
} from "./loops.js";

/** Elements per chunk: a slot is 2 KiB, so a kernel's slots stay in L1. */
const CHUNK = 256;

const enum Kind { load, unary, vv, vu, uv, select }

interface Step {
  readonly kind: Kind;
  readonly op: MapOp;
  dst: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly fn: number;
  loop: UnaryLoop | VVLoop | VULoop | UVLoop | undefined;
}

/** A kernel lowered for the interpreter (cached per kernel). */
interface Program {
  /** Per slot: a per-call value (scalar, constant, or computed from those only). */
  readonly uniform: readonly boolean[];
  /** Instructions computing per-call values, in order. */
  readonly uniformInstrs: readonly number[];
  /** Per-element steps. */
  readonly steps: readonly Step[];
  /** Where each output's value is: `[array, slot]`. */
  readonly outputs: readonly (readonly [number, number])[];
  /** Reused slots (CHUNK float64 each). */
  readonly slots: Float64Array[];
  /** Per-call values by slot. */
  readonly u: Float64Array;
}

const programs = new WeakMap<MapKernel, Program>();

/** Ops that give a float32 value when their operands are float32 values (exact on them). */
const EXACT = new Set<MapOp>([MapOp.neg, MapOp.abs, MapOp.max, MapOp.min, MapOp.copysign, MapOp.floor, MapOp.ceil, MapOp.trunc, MapOp.nearest, MapOp.select]);
/** Ops whose result is always a float32 value. */
const F32_RESULT = new Set<MapOp>([MapOp.input, MapOp.f32, MapOp.scalbn, MapOp.exponent, MapOp.mantissa, MapOp.pow2]);
/** Ops a following `.f32()` fuses into. */
const ROUNDABLE = new Set<MapOp>([MapOp.add, MapOp.sub, MapOp.mul, MapOp.div, MapOp.sqrt]);

function lower(k: MapKernel): Program {
  const numUniform = k.numScalars + k.consts.length;
  const uniform = Array.from({ length: k.numSlots }, (_, s) => s < numUniform);
  const f32 = new Array<boolean>(k.numSlots).fill(false);
  const uses = new Array<number>(k.numSlots).fill(0);
  for (const ins of k.instrs) for (const s of [ins.a, ins.b, ins.c]) if (s >= 0 && ins.op !== MapOp.input) uses[s]!++;
  for (const [, s] of k.outputs) uses[s]!++;
  const alias = Array.from({ length: k.numSlots }, (_, s) => s);
  const uniformInstrs: number[] = [];
  const byDst = new Map<number, number>();
  const steps: Step[] = [];
  k.instrs.forEach((ins0, q) => {
    const ins = { ...ins0, a: ins0.op === MapOp.input ? ins0.a : alias[ins0.a]!, b: ins0.b < 0 ? -1 : alias[ins0.b]!, c: ins0.c < 0 ? -1 : alias[ins0.c]! };
    const operands = ins.op === MapOp.input ? [] : [ins.a, ins.b, ins.c].filter((s) => s >= 0);
    if (ins.op !== MapOp.input && operands.every((s) => uniform[s])) {
      uniform[ins.dst] = true;
      uniformInstrs.push(q);
      return;
    }
    f32[ins.dst] = F32_RESULT.has(ins.op) || (EXACT.has(ins.op) && operands.every((s) => f32[s] || (uniform[s] && isF32Uniform(k, s))));
    if (ins.op === MapOp.f32) {
      if (f32[ins.a]) return void (alias[ins.dst] = ins.a); // already a float32 value
      const p = byDst.get(ins.a);
      const producer = p === undefined ? undefined : steps[p]!;
      const rounded = producer && uses[ins.a] === 1 && ROUNDABLE.has(producer.op) ? roundedLoop(producer) : undefined;
      if (rounded) {
        producer!.loop = rounded;
        producer!.dst = ins.dst; // the unrounded value has no other use
        byDst.set(ins.dst, p!);
        return;
      }
    }
    byDst.set(ins.dst, steps.length);
    steps.push(makeStep(ins.op, ins.dst, ins.a, ins.b, ins.c, ins.fn, uniform));
  });
  const slots = Array.from({ length: k.numSlots }, () => new Float64Array(CHUNK));
  return { uniform, uniformInstrs, steps, outputs: k.outputs.map(([arr, s]) => [arr, alias[s]!] as const), slots, u: new Float64Array(k.numSlots) };
}

/** True when uniform slot `s` is a float32 value: a float32 constant, or a scalar of an `f32Scalars` kernel. */
function isF32Uniform(k: MapKernel, s: number): boolean {
  if (s < k.numScalars) return k.f32Scalars;
  if (s >= k.numScalars + k.consts.length) return false;
  const v = k.consts[s - k.numScalars]!;
  return Object.is(Math.fround(v), v) || Number.isNaN(v);
}

/** The loop of `s` that also rounds to float32, if there is one. */
function roundedLoop(s: Step): Step["loop"] {
  if (s.kind === Kind.unary) return ROUNDED_UNARY[s.op];
  if (s.kind === Kind.vv) return ROUNDED_VV[s.op];
  if (s.kind === Kind.vu) return ROUNDED_VU[s.op];
  if (s.kind === Kind.uv) return ROUNDED_UV[s.op];
  return undefined;
}

function makeStep(op: MapOp, dst: number, a: number, b: number, c: number, fn: number, uniform: readonly boolean[]): Step {
  let step: Step;
  if (op === MapOp.input) step = { kind: Kind.load, op, dst, a, b, c, fn, loop: undefined };
  else if (op === MapOp.select) step = { kind: Kind.select, op, dst, a, b, c, fn, loop: undefined };
  else if (b < 0) step = { kind: Kind.unary, op, dst, a, b, c, fn, loop: UNARY[op] };
  else if (!uniform[a] && !uniform[b]) step = { kind: Kind.vv, op, dst, a, b, c, fn, loop: BINARY_VV[op] };
  else if (!uniform[a]) step = { kind: Kind.vu, op, dst, a, b, c, fn, loop: BINARY_VU[op] };
  else if (SWAPPED[op] !== undefined) step = { kind: Kind.vu, op: SWAPPED[op]!, dst, a: b, b: a, c, fn, loop: BINARY_VU[SWAPPED[op]!] };
  else step = { kind: Kind.uv, op, dst, a, b, c, fn, loop: BINARY_UV[op] };
  if (step.kind !== Kind.load && step.kind !== Kind.select && step.loop === undefined) throw new Error(`internal: map op ${op} has no interpreter loop`);
  return step;
}

function programOf(k: MapKernel): Program {
  let p = programs.get(k);
  if (!p) programs.set(k, (p = lower(k)));
  return p;
}

/** Per-call values: scalars (rounded for f32Scalars kernels), constants, and instructions of those. */
function prepare(k: MapKernel, p: Program, scalars: readonly number[]): Float64Array {
  const u = p.u;
  for (let i = 0; i < k.numScalars; i++) u[i] = k.f32Scalars ? Math.fround(scalars[i]!) : scalars[i]!;
  for (let i = 0; i < k.consts.length; i++) u[k.numScalars + i] = k.consts[i]!;
  for (const q of p.uniformInstrs) {
    const ins = k.instrs[q]!;
    u[ins.dst] = evalUniform(ins.op, u[ins.a]!, ins.b < 0 ? 0 : u[ins.b]!, ins.c < 0 ? 0 : u[ins.c]!, ins.fn);
  }
  return u;
}

/** Runs the steps on one chunk: `g` rows of `n` elements (see the file comment). */
function runChunk(p: Program, u: Float64Array, arrays: readonly Float32Array[], off: readonly number[], st: readonly number[], rs: readonly number[], n: number, g: number): void {
  const slots = p.slots, len = n * g;
  for (const s of p.steps) {
    const t = slots[s.dst]!;
    switch (s.kind) {
      case Kind.load: load(t, arrays[s.a]!, off[s.a]!, st[s.a]!, rs[s.a]!, n, g); break;
      case Kind.unary: (s.loop as UnaryLoop)(t, slots[s.a]!, len, s.fn); break;
      case Kind.vv: (s.loop as VVLoop)(t, slots[s.a]!, slots[s.b]!, len, s.fn); break;
      case Kind.vu: (s.loop as VULoop)(t, slots[s.a]!, u[s.b]!, len, s.fn); break;
      case Kind.uv: (s.loop as UVLoop)(t, u[s.a]!, slots[s.b]!, len, s.fn); break;
      case Kind.select: select(p, u, t, s, len); break;
    }
  }
  for (const [arr, s] of p.outputs) {
    if (p.uniform[s]) fill(arrays[arr]!, u[s]!, off[arr]!, st[arr]!, rs[arr]!, n, g);
    else store(arrays[arr]!, slots[s]!, off[arr]!, st[arr]!, rs[arr]!, n, g);
  }
}

function select(p: Program, u: Float64Array, t: Float64Array, s: Step, n: number): void {
  const sl = p.slots, ua = p.uniform[s.b], ub = p.uniform[s.c];
  if (p.uniform[s.a]) {
    const pick = u[s.a] !== 0 ? s.b : s.c;
    if (p.uniform[pick]) t.fill(u[pick]!, 0, n);
    else t.set(sl[pick]!.subarray(0, n));
  } else if (!ua && !ub) selectVVV(t, sl[s.a]!, sl[s.b]!, sl[s.c]!, n);
  else if (!ua) selectVVU(t, sl[s.a]!, sl[s.b]!, u[s.c]!, n);
  else if (!ub) selectVUV(t, sl[s.a]!, u[s.b]!, sl[s.c]!, n);
  else selectVUU(t, sl[s.a]!, u[s.b]!, u[s.c]!, n);
}

function load(t: Float64Array, x: Float32Array, o: number, s: number, rs: number, n: number, g: number): void {
  if (s === 1) { if (g === 1) loadRow(t, x, o, n); else loadRows(t, x, o, rs, n, g); }
  else if (s === 0) loadBroadcast(t, x, o, rs, n, g);
  else loadStrided(t, x, o, s, rs, n, g);
}
function loadRow(t: Float64Array, x: Float32Array, o: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[o + i]!; }
function loadRows(t: Float64Array, x: Float32Array, o: number, rs: number, n: number, g: number): void {
  for (let r = 0, k = 0; r < g; r++, o += rs) for (let i = 0; i < n; i++) t[k++] = x[o + i]!;
}
function loadBroadcast(t: Float64Array, x: Float32Array, o: number, rs: number, n: number, g: number): void {
  for (let r = 0, k = 0; r < g; r++, o += rs, k += n) t.fill(x[o]!, k, k + n);
}
function loadStrided(t: Float64Array, x: Float32Array, o: number, s: number, rs: number, n: number, g: number): void {
  for (let r = 0, k = 0; r < g; r++, o += rs) for (let i = 0, q = o; i < n; i++, q += s) t[k++] = x[q]!;
}
function store(x: Float32Array, t: Float64Array, o: number, s: number, rs: number, n: number, g: number): void {
  if (s === 1) { if (g === 1) storeRow(x, t, o, n); else storeRows(x, t, o, rs, n, g); }
  else storeStrided(x, t, o, s, rs, n, g);
}
function storeRow(x: Float32Array, t: Float64Array, o: number, n: number): void { for (let i = 0; i < n; i++) x[o + i] = t[i]!; }
function storeRows(x: Float32Array, t: Float64Array, o: number, rs: number, n: number, g: number): void {
  for (let r = 0, k = 0; r < g; r++, o += rs) for (let i = 0; i < n; i++) x[o + i] = t[k++]!;
}
function storeStrided(x: Float32Array, t: Float64Array, o: number, s: number, rs: number, n: number, g: number): void {
  for (let r = 0, k = 0; r < g; r++, o += rs) for (let i = 0, q = o; i < n; i++, q += s) x[q] = t[k++]!;
}
function fill(x: Float32Array, v: number, o: number, s: number, rs: number, n: number, g: number): void {
  for (let r = 0; r < g; r++, o += rs) for (let i = 0, q = o; i < n; i++, q += s) x[q] = v;
}

const ONES: number[] = [];
const ZEROS: number[] = [];
function unitStrides(k: number): number[] {
  while (ONES.length < k) ONES.push(1);
  return ONES;
}
function zeroStrides(k: number): number[] {
  while (ZEROS.length < k) ZEROS.push(0);
  return ZEROS;
}

/**
 * Runs `kernel` over one tuple of arrays (all of the same length), with the scalar parameters
 * `scalars`, in place.
 *
 * @throws never (the caller checks lengths).
 * @example
 * ```ts
 * interpretMap(sgd, [p, g, b], [0.1, 0.9]);
 * ```
 */
export function interpretMap(kernel: MapKernel, arrays: readonly Float32Array[], scalars: readonly number[]): void {
  const p = programOf(kernel), u = prepare(kernel, p, scalars), n = arrays[0]!.length, k = arrays.length;
  const off = new Array<number>(k).fill(0), st = unitStrides(k), rs = zeroStrides(k);
  for (let start = 0; start < n; start += CHUNK) {
    for (let j = 0; j < k; j++) off[j] = start;
    runChunk(p, u, arrays, off, st, rs, Math.min(CHUNK, n - start), 1);
  }
}

/**
 * Runs `kernel` over a 2-D block of `m` rows of `n` elements: operand `j` is `arrays[j]`, its row
 * `r` starts at `offsets[j] + r·rowStrides[j]` and steps by `strides[j]` (0: broadcast). Outputs
 * must not be broadcast and must not overlap inputs other than element for element.
 *
 * @throws never (layouts are not checked).
 * @example
 * ```ts
 * interpretBlock(addKernel, [o, a, b], [0, 0, 0], [1, 1, 0], [n, n, 1], n, m, []); // o = a + b[:, None]
 * ```
 */
export function interpretBlock(
  kernel: MapKernel, arrays: readonly Float32Array[], offsets: readonly number[], strides: readonly number[],
  rowStrides: readonly number[], n: number, m: number, scalars: readonly number[],
): void {
  if (n === 0 || m === 0) return;
  const p = programOf(kernel), u = prepare(kernel, p, scalars), k = arrays.length;
  const off = offsets.slice();
  if (n >= CHUNK / 2) {
    for (let r = 0; r < m; r++) {
      for (let start = 0; start < n; start += CHUNK) {
        for (let j = 0; j < k; j++) off[j] = offsets[j]! + r * rowStrides[j]! + start * strides[j]!;
        runChunk(p, u, arrays, off, strides, rowStrides, Math.min(CHUNK, n - start), 1);
      }
    }
    return;
  }
  const g = Math.floor(CHUNK / n);
  for (let r = 0; r < m; r += g) {
    for (let j = 0; j < k; j++) off[j] = offsets[j]! + r * rowStrides[j]!;
    runChunk(p, u, arrays, off, strides, rowStrides, n, Math.min(g, m - r));
  }
}
