/**
 * @file WebAssembly code for map kernels (see `map/expr.ts`): one small module per kernel,
 * compiled on first use for the memory its arrays live in and cached, exporting
 * `run(ptr0, …, ptrK, n, s0, …, sM)` and `job(desc, phase, item, tid) → i32`, which runs piece
 * `item` of a table (how the worker pool shares a large map between threads; see
 * {@link MapDesc}).
 *
 * Four floats per iteration. A value is held either as one `f32x4` vector or as two `f64x2`
 * halves: inputs are loaded as `f32x4`; float64 arithmetic runs on the halves (promoted from a
 * vector when needed); `.f32()` demotes and joins the halves into a vector, except where its
 * operation's operands are all float32 values: then the operation runs directly on the vectors
 * (`f32x4.add` etc.), which gives the same bits, because the correctly rounded float32 result of
 * `+ − × ÷ √` equals the float64 result rounded to float32 (53 ≥ 2·24 + 2), and `neg abs min max`
 * are exact. Outputs are stored as vectors. The last `n mod 4` elements run the same program in
 * scalar f64 code. Float64 arithmetic, `sqrt`, `min`/`max` and float32 rounding (`demote` +
 * `promote`) are the operations the pure-TS interpreter performs, so the bits are the same.
 */
import { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder, LocalIndex } from "./function-builder.js";
import { Op, SimdOp, ValType } from "./opcodes.js";
import { MapOp, type MapKernel } from "../map/expr.js";
import { sharedMaxPages } from "./runtime.js";
import type { WasmArena } from "./arena.js";

const { i32, f64, v128 } = ValType;

/** Byte lanes moving f32 lanes 2–3 of a vector into lanes 0–1. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Byte lanes joining lanes 0–1 of two vectors. */
const JOIN_LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

const SIMD_BINARY: Partial<Record<MapOp, number>> = {
  [MapOp.add]: SimdOp.f64x2_add, [MapOp.sub]: SimdOp.f64x2_sub, [MapOp.mul]: SimdOp.f64x2_mul,
  [MapOp.div]: SimdOp.f64x2_div, [MapOp.max]: SimdOp.f64x2_max, [MapOp.min]: SimdOp.f64x2_min,
  [MapOp.gt]: SimdOp.f64x2_gt, // an all-ones/all-zeros mask per lane, for select
};
const SIMD_UNARY: Partial<Record<MapOp, number>> = { [MapOp.neg]: SimdOp.f64x2_neg, [MapOp.abs]: SimdOp.f64x2_abs, [MapOp.sqrt]: SimdOp.f64x2_sqrt };
const F32_BINARY: Partial<Record<MapOp, number>> = {
  [MapOp.add]: SimdOp.f32x4_add, [MapOp.sub]: SimdOp.f32x4_sub, [MapOp.mul]: SimdOp.f32x4_mul,
  [MapOp.div]: SimdOp.f32x4_div, [MapOp.max]: SimdOp.f32x4_max, [MapOp.min]: SimdOp.f32x4_min,
};
const F32_UNARY: Partial<Record<MapOp, number>> = { [MapOp.neg]: SimdOp.f32x4_neg, [MapOp.abs]: SimdOp.f32x4_abs, [MapOp.sqrt]: SimdOp.f32x4_sqrt };

/** How an instruction's value is computed in the SIMD loop. */
const enum Mode {
  /** Loaded as a vector. */
  load,
  /** Float64 halves from float64 halves. */
  f64,
  /** A vector from the operands' vectors (`.f32()` of an operation on float32 values, or an exact op). */
  f32op,
  /** A vector demoted from the operand's halves (`.f32()` of anything else). */
  demote,
}

interface Plan {
  mode: Mode[];
  /** For `f32op` through `.f32()`: the instruction whose operation runs on vectors. */
  via: number[];
  needVec: boolean[];
  needHalves: boolean[];
}

/** True when uniform slot `s` is a constant whose value is a float32 value. */
function isF32Const(k: MapKernel, s: number): boolean {
  if (s < k.numScalars || s >= k.numScalars + k.consts.length) return false;
  const v = k.consts[s - k.numScalars]!;
  return Object.is(Math.fround(v), v) || Number.isNaN(v);
}

/**
 * Decides per slot whether it is held as a vector or as halves, and which forms each consumer
 * needs (see the file comment).
 */
function plan(k: MapKernel): Plan {
  const n = k.numSlots;
  const mode = new Array<Mode>(n).fill(Mode.f64), via = new Array<number>(n).fill(-1);
  const exact = new Array<boolean>(n).fill(false);
  const byDst = new Map<number, (typeof k.instrs)[number]>();
  for (const ins of k.instrs) byDst.set(ins.dst, ins);
  // Constants that are float32 values count as float32 operands (they get a vector, see emitRun).
  for (let s = k.numScalars; s < k.numScalars + k.consts.length; s++) exact[s] = isF32Const(k, s);
  const usable = (slot: number) => exact[slot]! && (!k.isUniform(slot) || isF32Const(k, slot));
  const exactOperands = (ins: (typeof k.instrs)[number]) => ins.op !== MapOp.select && ins.op !== MapOp.gt && usable(ins.a) && (ins.b < 0 || usable(ins.b));
  for (const ins of k.instrs) {
    const s = ins.dst;
    if (ins.op === MapOp.input) {
      mode[s] = Mode.load;
      exact[s] = true;
    } else if (ins.op === MapOp.f32) {
      exact[s] = true;
      const inner = k.isUniform(ins.a) ? undefined : byDst.get(ins.a);
      const fusable = inner !== undefined && inner.op !== MapOp.input && inner.op !== MapOp.f32 && exactOperands(inner);
      mode[s] = fusable ? Mode.f32op : Mode.demote;
      if (fusable) via[s] = inner.dst;
    } else if ((ins.op === MapOp.neg || ins.op === MapOp.abs || ins.op === MapOp.max || ins.op === MapOp.min) && exactOperands(ins)) {
      mode[s] = Mode.f32op; // exact on float32 values
      via[s] = s;
      exact[s] = true;
    }
  }
  const needVec = new Array<boolean>(n).fill(false), needHalves = new Array<boolean>(n).fill(false);
  const isVec = (s: number) => !k.isUniform(s) && mode[s] !== Mode.f64;
  for (const [, s] of k.outputs) if (!k.isUniform(s)) (isVec(s) ? needVec : needHalves)[s] = true;
  for (let q = k.instrs.length - 1; q >= 0; q--) {
    const ins = k.instrs[q]!, s = ins.dst;
    if (!needVec[s] && !needHalves[s]) continue;
    const need = (slot: number, halves: boolean) => {
      if (k.isUniform(slot)) return;
      if (halves) needHalves[slot] = true;
      else needVec[slot] = true;
    };
    if (mode[s] === Mode.f64) {
      need(ins.a, true);
      if (ins.b >= 0) need(ins.b, true);
      if (ins.c >= 0) need(ins.c, true);
    } else if (mode[s] === Mode.demote) need(ins.a, true);
    else if (mode[s] === Mode.f32op) {
      const op = byDst.get(via[s]!)!;
      need(op.a, false);
      if (op.b >= 0) need(op.b, false);
    }
  }
  // A vector-held slot whose halves are needed gets them by promotion (see emitRun).
  return { mode, via, needVec, needHalves };
}
const SCALAR_BINARY: Partial<Record<MapOp, number>> = {
  [MapOp.add]: Op.f64_add, [MapOp.sub]: Op.f64_sub, [MapOp.mul]: Op.f64_mul,
  [MapOp.div]: Op.f64_div, [MapOp.max]: Op.f64_max, [MapOp.min]: Op.f64_min,
};
const SCALAR_UNARY: Partial<Record<MapOp, number>> = { [MapOp.neg]: Op.f64_neg, [MapOp.abs]: Op.f64_abs, [MapOp.sqrt]: Op.f64_sqrt };

/**
 * Byte offsets of a `job` descriptor: the number of pieces, the piece table (per piece `n` then
 * one pointer per array, i32 each) and the scalars (f64 from `scalars`).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * arena.i32[(desc + MapDesc.count) >>> 2] = pieces;
 * ```
 */
export const MapDesc = { count: 0, table: 4, scalars: 16 } as const;

/**
 * The module bytes of `kernel` for a memory that is `shared` or not.
 *
 * @throws never.
 * @example
 * ```ts
 * new WebAssembly.Module(mapModuleBytes(kernel, true));
 * ```
 */
export function mapModuleBytes(kernel: MapKernel, shared: boolean): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder();
  mod.importMemory("env", "memory", shared ? { initial: 1, maximum: sharedMaxPages(), shared: true } : { initial: 1 });
  const k = kernel.numArrays;
  const params = [...new Array<number>(k).fill(i32), i32, ...new Array<number>(kernel.numScalars).fill(f64)] as ValType[];
  const run = mod.addFunction(params, [], (f) => emitRun(f, kernel), "run");
  mod.addFunction([i32, i32, i32, i32], [i32], (f) => {
    const [desc, , item] = [0, 1, 2];
    const e = f.local(i32);
    f.get(item).i32Const(0).i32LtS().if(() => void f.get(desc).i32Load(MapDesc.count).return());
    f.get(desc).i32Load(MapDesc.table).get(item).i32Const(4 * (k + 1)).i32Mul().i32Add().set(e);
    for (let j = 0; j < k; j++) f.get(e).i32Load(4 * (j + 1));
    f.get(e).i32Load(0);
    for (let s = 0; s < kernel.numScalars; s++) f.get(desc).f64Load(MapDesc.scalars + 8 * s);
    f.call(run).i32Const(0);
  }, "job");
  return mod.finish();
}

function emitRun(f: FunctionBuilder, k: MapKernel): void {
  const nArr = k.numArrays, nParam = nArr; // local index of n
  const scalarParam = (i: number) => nArr + 1 + i;
  const numUniform = k.numScalars + k.consts.length;
  // Uniform slots as f64x2 splats (SIMD) and f64 values (tail).
  const uniV: LocalIndex[] = [], uniS: LocalIndex[] = [], uniF32: LocalIndex[] = [];
  for (let s = 0; s < numUniform; s++) {
    const sv = f.local(f64), vv = f.local(v128);
    if (s < k.numScalars) f.get(scalarParam(s));
    else f.f64Const(k.consts[s - k.numScalars]!);
    f.tee(sv).simd(SimdOp.f64x2_splat).set(vv);
    uniS.push(sv);
    uniV.push(vv);
    if (isF32Const(k, s)) {
      // a float32 constant also as an f32x4 vector, for operations run on vectors
      uniF32[s] = f.local(v128);
      f.get(sv).op(Op.f32_demote_f64).f32x4Splat().set(uniF32[s]!);
    }
  }
  const lo: LocalIndex[] = [], hi: LocalIndex[] = [], sc: LocalIndex[] = [];
  for (let s = numUniform; s < k.numSlots; s++) {
    lo[s] = f.local(v128);
    hi[s] = f.local(v128);
    sc[s] = f.local(f64);
  }
  const at = f.local(i32), end4 = f.local(i32), end = f.local(i32);
  const vecOf: LocalIndex[] = [];
  for (let s = numUniform; s < k.numSlots; s++) vecOf[s] = f.local(v128);
  const p = plan(k);
  const byDst = new Map<number, (typeof k.instrs)[number]>();
  for (const ins of k.instrs) byDst.set(ins.dst, ins);
  // end4 = (n & ~3) * 4 bytes, end = n * 4 bytes
  f.get(nParam).i32Const(-4).i32And().i32Const(2).i32Shl().set(end4);
  f.get(nParam).i32Const(2).i32Shl().set(end);
  const half = (slot: number, h: LocalIndex[]) => (k.isUniform(slot) ? uniV[slot]! : h[slot]!);
  const promote = (s: number) => {
    f.get(vecOf[s]!).simd(SimdOp.f64x2_promote_low_f32x4).set(lo[s]!);
    f.get(vecOf[s]!).get(vecOf[s]!).i8x16Shuffle(HIGH_HALF).simd(SimdOp.f64x2_promote_low_f32x4).set(hi[s]!);
  };
  const demote = (s: number) => void f.get(half(s, lo)).simd(SimdOp.f32x4_demote_f64x2_zero).get(half(s, hi)).simd(SimdOp.f32x4_demote_f64x2_zero).i8x16Shuffle(JOIN_LOW);
  f.block((done) => {
    f.loop((next) => {
      f.get(at).get(end4).i32GeU().brIf(done);
      for (const ins of k.instrs) {
        const s = ins.dst;
        if (!p.needVec[s] && !p.needHalves[s]) continue;
        switch (p.mode[s]) {
          case Mode.load:
            f.get(ins.a).get(at).i32Add().v128Load(0).set(vecOf[s]!);
            break;
          case Mode.demote:
            demote(ins.a);
            f.set(vecOf[s]!);
            break;
          case Mode.f32op: {
            const op = byDst.get(p.via[s]!)!;
            const vec = (slot: number) => (k.isUniform(slot) ? uniF32[slot]! : vecOf[slot]!);
            f.get(vec(op.a));
            if (op.b >= 0) f.get(vec(op.b)).simd(F32_BINARY[op.op]!);
            else f.simd(F32_UNARY[op.op]!);
            f.set(vecOf[s]!);
            break;
          }
          case Mode.f64:
            for (const h of [lo, hi]) {
              if (ins.op === MapOp.select) {
                f.get(half(ins.b, h)).get(half(ins.c, h)).get(half(ins.a, h)).simd(SimdOp.v128_bitselect).set(h[s]!);
                continue;
              }
              f.get(half(ins.a, h));
              if (ins.b >= 0) f.get(half(ins.b, h)).simd(SIMD_BINARY[ins.op]!);
              else if (ins.op === MapOp.f32) f.simd(SimdOp.f32x4_demote_f64x2_zero).simd(SimdOp.f64x2_promote_low_f32x4);
              else f.simd(SIMD_UNARY[ins.op]!);
              f.set(h[s]!);
            }
            break;
        }
        if (p.mode[s] !== Mode.f64 && p.needHalves[s]) promote(s);
      }
      for (const [arr, s] of k.outputs) {
        f.get(arr).get(at).i32Add();
        if (k.isUniform(s)) f.get(uniV[s]!).simd(SimdOp.f32x4_demote_f64x2_zero).get(uniV[s]!).simd(SimdOp.f32x4_demote_f64x2_zero).i8x16Shuffle(JOIN_LOW);
        else if (p.mode[s] === Mode.f64) demote(s);
        else f.get(vecOf[s]!);
        f.v128Store(0);
      }
      f.get(at).i32Const(16).i32Add().set(at).br(next);
    });
  });
  // Tail: the same program in scalar f64 code.
  const val = (slot: number) => (k.isUniform(slot) ? uniS[slot]! : sc[slot]!);
  f.block((done) => {
    f.loop((next) => {
      f.get(at).get(end).i32GeU().brIf(done);
      for (const ins of k.instrs) {
        if (ins.op === MapOp.input) f.get(ins.a).get(at).i32Add().f32Load(0).f64PromoteF32();
        else if (ins.op === MapOp.gt) f.get(val(ins.a)).get(val(ins.b)).op(Op.f64_gt).op(Op.f64_convert_i32_u); // 1 or 0
        else if (ins.op === MapOp.select) f.get(val(ins.b)).get(val(ins.c)).get(val(ins.a)).f64Const(0).op(Op.f64_ne).select();
        else {
          f.get(val(ins.a));
          if (ins.b >= 0) f.get(val(ins.b)).op(SCALAR_BINARY[ins.op]!);
          else if (ins.op === MapOp.f32) f.op(Op.f32_demote_f64).f64PromoteF32();
          else f.op(SCALAR_UNARY[ins.op]!);
        }
        f.set(sc[ins.dst]!);
      }
      for (const [arr, s] of k.outputs) f.get(arr).get(at).i32Add().get(val(s)).op(Op.f32_demote_f64).f32Store(0);
      f.get(at).i32Const(4).i32Add().set(at).br(next);
    });
  });
}

/** A kernel compiled for one arena. */
export interface MapModule {
  /** `run(ptr0, …, ptrK, n, s0, …, sM)`. */
  readonly run: (...args: number[]) => void;
  /** `job(desc, phase, item, tid) → i32` over a piece table (see {@link MapDesc}). */
  readonly job: (desc: number, phase: number, item: number, tid: number) => number;
  /** For workers (shared memories only): an id and where the module's bytes lie in the memory. */
  readonly extra: { readonly id: number; readonly ptr: number; readonly len: number } | undefined;
}

/** Compiled modules by kernel key and memory kind; instances per arena. */
const modules = new Map<string, { module: WebAssembly.Module; bytes: Uint8Array<ArrayBuffer>; id: number }>();
const instances = new WeakMap<WasmArena, Map<string, MapModule>>();

/**
 * `kernel` instantiated over `arena`'s memory (compiled on first use; in a shared memory its bytes
 * are also copied there once, for the workers).
 *
 * @throws {RangeError} when the memory cannot grow for the bytes.
 * @example
 * ```ts
 * mapModule(arena, sgd).run(p.byteOffset, g.byteOffset, b.byteOffset, p.length, lr, mu);
 * ```
 */
export function mapModule(arena: WasmArena, kernel: MapKernel): MapModule {
  let byKey = instances.get(arena);
  if (!byKey) instances.set(arena, (byKey = new Map()));
  let m = byKey.get(kernel.key);
  if (m) return m;
  const modKey = `${arena.shared ? "s" : "p"}|${kernel.key}`;
  let compiled = modules.get(modKey);
  if (!compiled) {
    const bytes = mapModuleBytes(kernel, arena.shared);
    modules.set(modKey, (compiled = { module: new WebAssembly.Module(bytes), bytes, id: modules.size + 1 }));
  }
  const ex = new WebAssembly.Instance(compiled.module, { env: { memory: arena.memory } }).exports;
  let extra: MapModule["extra"];
  if (arena.shared) {
    const ptr = arena.alloc(compiled.bytes.length); // kept for good: a few hundred bytes per kernel
    new Uint8Array(arena.memory.buffer, ptr, compiled.bytes.length).set(compiled.bytes);
    extra = { id: compiled.id, ptr, len: compiled.bytes.length };
  }
  m = { run: ex.run as MapModule["run"], job: ex.job as MapModule["job"], extra };
  byKey.set(kernel.key, m);
  return m;
}
