/**
 * @file How the WebAssembly code of a map kernel holds each value (see `map-emitter.ts`): four
 * floats per SIMD iteration as one `f32x4` vector, as two `f64x2` halves, or, for conditions, as
 * an `i32x4` mask or two `i64x2` mask halves.
 *
 * Float64 arithmetic (`add sub mul div sqrt`) runs on halves. A value that is exactly a float32
 * value ("exact": loads, `.f32()`, `scalbn`, `exponent`, `mantissa`, and the exact operations
 * `neg abs max min copysign floor ceil trunc nearest select` of exact operands) is held as a
 * vector, and so is `.f32()` of an arithmetic operation whose operands are all exact: that
 * operation then runs directly on vectors (`f32x4.add` etc.), which gives the same bits, because
 * the correctly rounded float32 result of `+ − × ÷ √` equals the float64 result rounded to
 * float32 (53 ≥ 2·24 + 2). Comparisons of exact operands give `i32x4` masks, others `i64x2`
 * halves. Instructions whose operands are all per-call values (scalars, constants) are computed
 * once per call, before the loop. Each slot also records which other forms its consumers need
 * (conversions are emitted once, right after the value).
 */
import { MapOp } from "../map/expr.js";
import type { MapInstr, MapKernel } from "../map/compile.js";

/**
 * How a slot's value is held in the SIMD loop.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * plan.form[slot] === Form.vec; // one f32x4 register
 * ```
 */
export const enum Form { vec, halves, mask32, mask64 }

/**
 * How an instruction computes its primary form.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * plan.mode[slot] === Mode.f32op; // an operation on vectors
 * ```
 */
export const enum Mode {
  /** Loaded as a vector (or a hoisted broadcast row value). */
  load,
  /** Computed once per call (all operands per-call values). */
  uniform,
  /** The same value as another slot (`.f32()` of an exact value). */
  alias,
  /** On float64 halves. */
  halves,
  /** On vectors (an exact operation, or an arithmetic one via a fused `.f32()`). */
  f32op,
  /** A vector demoted from the operand's halves (`.f32()` of a non-exact value). */
  demote,
  /** A condition: a comparison, `and` or `or`, on masks. */
  mask,
}

/** The per-slot decisions for a kernel. */
export interface MapPlan {
  /** Primary form per slot (uniform slots: unused). */
  readonly form: Form[];
  /** How each slot is computed. */
  readonly mode: Mode[];
  /** For `alias`: the slot aliased; for `f32op` via `.f32()`: the instruction whose operation runs on vectors; else the slot itself. */
  readonly via: number[];
  /** Per slot: forms consumers need, besides the primary one. */
  readonly needVec: boolean[];
  readonly needHalves: boolean[];
  readonly needMask32: boolean[];
  readonly needMask64: boolean[];
  /** Per slot: a per-call value (a scalar, a constant, or computed from those only). */
  readonly uniform: boolean[];
  /** Per slot: computed in the SIMD loop (some output depends on it; aliases are not). */
  readonly live: boolean[];
  /** Per slot: computed in scalar code (the tail), where nothing is fused. */
  readonly scalarLive: boolean[];
  /** Per slot: an exact float32 value. */
  readonly exact: boolean[];
  /** The instruction computing each non-uniform slot. */
  readonly byDst: ReadonlyMap<number, MapInstr>;
  /**
   * Selects that are one `f32x4.pmax(a, b)` (`a < b ? b : a`, for `(a < b).select(b, a)`) or
   * `f32x4.pmin(a, b)` (`b < a ? b : a`, for `(a > b).select(b, a)`): slot → [a, b, isMax]. Their
   * condition is not computed for them.
   */
  readonly pminmax: ReadonlyMap<number, readonly [number, number, boolean]>;
}

const EXACT_OPS = new Set<MapOp>([MapOp.neg, MapOp.abs, MapOp.max, MapOp.min, MapOp.copysign, MapOp.floor, MapOp.ceil, MapOp.trunc, MapOp.nearest]);
const ARITH = new Set<MapOp>([MapOp.add, MapOp.sub, MapOp.mul, MapOp.div, MapOp.sqrt]);
const F32_RESULT = new Set<MapOp>([MapOp.f32, MapOp.scalbn, MapOp.exponent, MapOp.mantissa, MapOp.pow2]);
const COMPARE = new Set<MapOp>([MapOp.gt, MapOp.ge, MapOp.lt, MapOp.le, MapOp.eq, MapOp.ne]);

/**
 * True when uniform slot `s` is a float32 value known when the kernel is compiled: a float32
 * constant, or a scalar of an `f32Scalars` kernel.
 *
 * @throws never.
 * @example
 * ```ts
 * isF32Uniform(kernel, kernel.numScalars); // the first constant
 * ```
 */
export function isF32Uniform(k: MapKernel, s: number): boolean {
  if (s < k.numScalars) return k.f32Scalars;
  const v = k.consts[s - k.numScalars]!;
  return Object.is(Math.fround(v), v) || Number.isNaN(v);
}

/**
 * Plans every slot of `k` (see the file comment).
 *
 * @throws never.
 * @example
 * ```ts
 * const p = planMap(kernel);
 * ```
 */
export function planMap(k: MapKernel): MapPlan {
  const n = k.numSlots, numUniform = k.numScalars + k.consts.length;
  const form = new Array<Form>(n).fill(Form.halves), mode = new Array<Mode>(n).fill(Mode.uniform);
  const via = Array.from({ length: n }, (_, s) => s);
  const uniform = Array.from({ length: n }, (_, s) => s < numUniform);
  const exact = Array.from({ length: n }, (_, s) => s < numUniform && isF32Uniform(k, s));
  const byDst = new Map<number, MapInstr>();
  const pminmax = new Map<number, readonly [number, number, boolean]>();
  for (const ins of k.instrs) {
    const s = ins.dst;
    byDst.set(s, ins);
    const ops = ins.op === MapOp.input ? [] : [ins.a, ins.b, ins.c].filter((x) => x >= 0);
    if (ins.op !== MapOp.input && ops.every((x) => uniform[x])) {
      uniform[s] = true;
      mode[s] = Mode.uniform;
      exact[s] = F32_RESULT.has(ins.op) || (EXACT_OPS.has(ins.op) && ops.every((x) => exact[x])) || (ins.op === MapOp.select && exact[ins.b]! && exact[ins.c]!);
      continue;
    }
    const allExact = (list: number[]) => list.every((x) => exact[x]);
    if (ins.op === MapOp.input) {
      [mode[s], form[s], exact[s]] = [Mode.load, Form.vec, true];
    } else if (ins.op === MapOp.f32) {
      exact[s] = true;
      form[s] = Form.vec;
      const inner = uniform[ins.a] ? undefined : byDst.get(ins.a);
      if (exact[ins.a]) [mode[s], via[s]] = [Mode.alias, ins.a];
      else if (inner && ARITH.has(inner.op) && allExact([inner.a, inner.b].filter((x) => x >= 0))) [mode[s], via[s]] = [Mode.f32op, inner.dst];
      else mode[s] = Mode.demote;
    } else if (ins.op === MapOp.scalbn || ins.op === MapOp.exponent || ins.op === MapOp.mantissa || ins.op === MapOp.pow2) {
      [mode[s], form[s], exact[s]] = [Mode.f32op, Form.vec, true];
    } else if (EXACT_OPS.has(ins.op) && allExact(ops)) {
      [mode[s], form[s], exact[s]] = [Mode.f32op, Form.vec, true];
    } else if (ins.op === MapOp.select && allExact([ins.b, ins.c])) {
      [mode[s], form[s], exact[s]] = [Mode.f32op, Form.vec, true];
      const c = byDst.get(ins.a);
      // (a < b) ? b : a is pmax(a, b); (a > b) ? b : a is pmin(a, b)
      if (c && (c.op === MapOp.lt || c.op === MapOp.gt) && c.a === ins.c && c.b === ins.b) pminmax.set(s, [c.a, c.b, c.op === MapOp.lt]);
    } else if (COMPARE.has(ins.op)) {
      [mode[s], form[s]] = [Mode.mask, allExact(ops) ? Form.mask32 : Form.mask64];
    } else if (ins.op === MapOp.and || ins.op === MapOp.or) {
      [mode[s], form[s]] = [Mode.mask, ops.every((x) => uniform[x] || form[x] === Form.mask32) ? Form.mask32 : Form.mask64];
    } else {
      [mode[s], form[s]] = [Mode.halves, Form.halves];
      const c = ins.op === MapOp.select ? byDst.get(ins.a) : undefined;
      if (c && (c.op === MapOp.lt || c.op === MapOp.gt) && c.a === ins.c && c.b === ins.b) pminmax.set(s, [c.a, c.b, c.op === MapOp.lt]);
    }
  }
  const needVec = new Array<boolean>(n).fill(false), needHalves = new Array<boolean>(n).fill(false);
  const needMask32 = new Array<boolean>(n).fill(false), needMask64 = new Array<boolean>(n).fill(false);
  const live = new Array<boolean>(n).fill(false);
  const need = (slot: number, f: Form) => {
    while (mode[slot] === Mode.alias) slot = via[slot]!;
    live[slot] = true;
    if (uniform[slot]) return;
    if (f === Form.vec) needVec[slot] = true;
    else if (f === Form.halves) needHalves[slot] = true;
    else if (f === Form.mask32) needMask32[slot] = true;
    else needMask64[slot] = true;
  };
  for (const [, s] of k.outputs) need(s, Form.vec);
  for (let q = k.instrs.length - 1; q >= 0; q--) {
    const ins = k.instrs[q]!, s = ins.dst;
    if (!live[s] || uniform[s]) continue;
    switch (mode[s]) {
      case Mode.load: break;
      case Mode.alias: need(via[s]!, Form.vec); break;
      case Mode.demote: need(ins.a, Form.halves); break;
      case Mode.f32op: {
        const op = byDst.get(via[s]!)!;
        const pm = pminmax.get(s);
        if (pm) {
          need(pm[0], Form.vec);
          need(pm[1], Form.vec);
        } else if (op.op === MapOp.select) {
          need(op.a, Form.mask32);
          need(op.b, Form.vec);
          need(op.c, Form.vec);
        } else for (const x of [op.a, op.b]) if (x >= 0) need(x, Form.vec);
        break;
      }
      case Mode.mask: for (const x of [ins.a, ins.b]) need(x, ins.op === MapOp.and || ins.op === MapOp.or ? form[s]! : form[s] === Form.mask32 ? Form.vec : Form.halves); break;
      case Mode.halves:
        if (pminmax.has(s)) {
          need(pminmax.get(s)![0], Form.halves);
          need(pminmax.get(s)![1], Form.halves);
        } else if (ins.op === MapOp.select) {
          need(ins.a, Form.mask64);
          need(ins.b, Form.halves);
          need(ins.c, Form.halves);
        } else for (const x of [ins.a, ins.b]) if (x >= 0) need(x, Form.halves);
        break;
    }
  }
  const scalarLive = new Array<boolean>(n).fill(false);
  const markScalar = (slot: number) => {
    while (mode[slot] === Mode.alias) slot = via[slot]!;
    scalarLive[slot] = true;
  };
  for (const [, s] of k.outputs) markScalar(s);
  for (let q = k.instrs.length - 1; q >= 0; q--) {
    const ins = k.instrs[q]!;
    if (!scalarLive[ins.dst] || ins.op === MapOp.input) continue;
    for (const x of [ins.a, ins.b, ins.c]) if (x >= 0) markScalar(x);
  }
  // A slot's primary form is not "needed" as a conversion.
  for (let s = 0; s < n; s++) {
    if (form[s] === Form.vec) needVec[s] = false;
    if (form[s] === Form.halves) needHalves[s] = false;
    if (form[s] === Form.mask32) needMask32[s] = false;
    if (form[s] === Form.mask64) needMask64[s] = false;
  }
  return { form, mode, via, needVec, needHalves, needMask32, needMask64, uniform, live, scalarLive, exact, byDst, pminmax };
}
