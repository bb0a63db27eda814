/**
 * @file The pure-TS backend of map kernels (see `expr.ts`): the compiled program runs over
 * chunks of {@link CHUNK} elements, one tight loop per instruction with the `switch` outside it
 * (no closures or calls per element), float64 values in reused `Float64Array` slots. The wasm
 * backend computes the same float64 operations, so both give the same bits.
 */
import { MapOp, type MapKernel } from "./expr.js";

/** Elements per chunk: a slot is 2 KiB, so a kernel's slots stay in L1. */
const CHUNK = 256;

/** Reused per-kernel slot buffers. */
const slotCache = new WeakMap<MapKernel, Float64Array[]>();

function slotsOf(k: MapKernel): Float64Array[] {
  let s = slotCache.get(k);
  if (!s) {
    s = [];
    for (let i = 0; i < k.numSlots; i++) s.push(new Float64Array(CHUNK)); // uniform slots: filled per call, for select
    slotCache.set(k, s);
  }
  return s;
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
  const n = arrays[0]!.length;
  const slots = slotsOf(kernel);
  const u = new Float64Array(kernel.numScalars + kernel.consts.length);
  for (let i = 0; i < kernel.numScalars; i++) u[i] = scalars[i]!;
  for (let i = 0; i < kernel.consts.length; i++) u[kernel.numScalars + i] = kernel.consts[i]!;
  for (let i = 0; i < u.length; i++) slots[i]!.fill(u[i]!);
  const instrs = kernel.instrs;
  for (let start = 0; start < n; start += CHUNK) {
    const len = Math.min(CHUNK, n - start);
    for (let q = 0; q < instrs.length; q++) {
      const ins = instrs[q]!;
      const t = slots[ins.dst]!;
      if (ins.op === MapOp.input) load(t, arrays[ins.a]!, start, len);
      else if (ins.op === MapOp.select) select(t, slots[ins.a]!, slots[ins.b]!, slots[ins.c]!, len);
      else if (ins.b < 0) {
        if (kernel.isUniform(ins.a)) t.fill(unary(ins.op, u[ins.a]!), 0, len);
        else UNARY[ins.op]!(t, slots[ins.a]!, len);
      } else {
        const ua = kernel.isUniform(ins.a), ub = kernel.isUniform(ins.b);
        if (ua && ub) t.fill(binary(ins.op, u[ins.a]!, u[ins.b]!), 0, len);
        else if (ub) BINARY_VS[ins.op]!(t, slots[ins.a]!, u[ins.b]!, len);
        else if (ua) BINARY_SV[ins.op]!(t, u[ins.a]!, slots[ins.b]!, len);
        else BINARY_VV[ins.op]!(t, slots[ins.a]!, slots[ins.b]!, len);
      }
    }
    for (const [arr, s] of kernel.outputs) {
      if (kernel.isUniform(s)) arrays[arr]!.fill(u[s]!, start, start + len);
      else store(arrays[arr]!, slots[s]!, start, len);
    }
  }
}

// NOTE: one small function per loop, called through tables (never inlined into the dispatcher):
// V8 compiles a tight loop in a small function several times faster than the same loop inside a
// large function with many loops.

function load(t: Float64Array, src: Float32Array, start: number, n: number): void {
  for (let i = 0; i < n; i++) t[i] = src[start + i]!;
}

function store(dst: Float32Array, t: Float64Array, start: number, n: number): void {
  for (let i = 0; i < n; i++) dst[start + i] = t[i]!;
}

function unary(op: MapOp, x: number): number {
  switch (op) {
    case MapOp.neg: return -x;
    case MapOp.abs: return Math.abs(x);
    case MapOp.sqrt: return Math.sqrt(x);
    case MapOp.f32: return Math.fround(x);
    default: throw new Error(`internal: map op ${op} is not unary`);
  }
}

function binary(op: MapOp, x: number, y: number): number {
  switch (op) {
    case MapOp.add: return x + y;
    case MapOp.sub: return x - y;
    case MapOp.mul: return x * y;
    case MapOp.div: return x / y;
    case MapOp.max: return Math.max(x, y);
    case MapOp.min: return Math.min(x, y);
    case MapOp.gt: return x > y ? 1 : 0;
    default: throw new Error(`internal: map op ${op} is not binary`);
  }
}

function select(t: Float64Array, c: Float64Array, a: Float64Array, b: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) t[i] = c[i] !== 0 ? a[i]! : b[i]!;
}

type UnaryLoop = (t: Float64Array, x: Float64Array, n: number) => void;
type BinaryLoop = (t: Float64Array, x: Float64Array, y: Float64Array, n: number) => void;
type VsLoop = (t: Float64Array, x: Float64Array, c: number, n: number) => void;
type SvLoop = (t: Float64Array, c: number, y: Float64Array, n: number) => void;

function negV(t: Float64Array, x: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = -x[i]!; }
function absV(t: Float64Array, x: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.abs(x[i]!); }
function sqrtV(t: Float64Array, x: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.sqrt(x[i]!); }
function f32V(t: Float64Array, x: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.fround(x[i]!); }

function addVV(t: Float64Array, x: Float64Array, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! + y[i]!; }
function subVV(t: Float64Array, x: Float64Array, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! - y[i]!; }
function mulVV(t: Float64Array, x: Float64Array, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! * y[i]!; }
function divVV(t: Float64Array, x: Float64Array, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! / y[i]!; }
function maxVV(t: Float64Array, x: Float64Array, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.max(x[i]!, y[i]!); }
function minVV(t: Float64Array, x: Float64Array, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.min(x[i]!, y[i]!); }
function gtVV(t: Float64Array, x: Float64Array, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! > y[i]! ? 1 : 0; }

function addVS(t: Float64Array, x: Float64Array, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! + c; }
function subVS(t: Float64Array, x: Float64Array, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! - c; }
function mulVS(t: Float64Array, x: Float64Array, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! * c; }
function divVS(t: Float64Array, x: Float64Array, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! / c; }
function maxVS(t: Float64Array, x: Float64Array, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.max(x[i]!, c); }
function minVS(t: Float64Array, x: Float64Array, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.min(x[i]!, c); }
function gtVS(t: Float64Array, x: Float64Array, c: number, n: number): void { for (let i = 0; i < n; i++) t[i] = x[i]! > c ? 1 : 0; }

function addSV(t: Float64Array, c: number, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = c + y[i]!; }
function subSV(t: Float64Array, c: number, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = c - y[i]!; }
function mulSV(t: Float64Array, c: number, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = c * y[i]!; }
function divSV(t: Float64Array, c: number, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = c / y[i]!; }
function maxSV(t: Float64Array, c: number, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.max(c, y[i]!); }
function minSV(t: Float64Array, c: number, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = Math.min(c, y[i]!); }
function gtSV(t: Float64Array, c: number, y: Float64Array, n: number): void { for (let i = 0; i < n; i++) t[i] = c > y[i]! ? 1 : 0; }

const UNARY: Partial<Record<MapOp, UnaryLoop>> = { [MapOp.neg]: negV, [MapOp.abs]: absV, [MapOp.sqrt]: sqrtV, [MapOp.f32]: f32V };
const BINARY_VV: Partial<Record<MapOp, BinaryLoop>> = { [MapOp.add]: addVV, [MapOp.sub]: subVV, [MapOp.mul]: mulVV, [MapOp.div]: divVV, [MapOp.max]: maxVV, [MapOp.min]: minVV, [MapOp.gt]: gtVV };
const BINARY_VS: Partial<Record<MapOp, VsLoop>> = { [MapOp.add]: addVS, [MapOp.sub]: subVS, [MapOp.mul]: mulVS, [MapOp.div]: divVS, [MapOp.max]: maxVS, [MapOp.min]: minVS, [MapOp.gt]: gtVS };
const BINARY_SV: Partial<Record<MapOp, SvLoop>> = { [MapOp.add]: addSV, [MapOp.sub]: subSV, [MapOp.mul]: mulSV, [MapOp.div]: divSV, [MapOp.max]: maxSV, [MapOp.min]: minSV, [MapOp.gt]: gtSV };
