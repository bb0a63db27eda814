/**
 * @file Saving and validated loading of optimizer state dicts (the layout of PyTorch's
 * `Optimizer.state_dict()`: per-parameter state keyed by flat parameter index, parameter groups
 * with `params` as indices, plus tapegrad's step counters and transform states).
 */
import type { Var } from "@tapegrad/autograd";
import { fmtValue } from "./errors.js";
import type { GradTransform } from "./transform.js";

/** Per-parameter state: counters (numbers) and buffers (Float32Arrays, null until created). */
export type ParamState = Record<string, number | Float32Array | null>;

/** The names of an optimizer's per-parameter counters and buffers. */
export interface StateSpec {
  counters: readonly string[];
  buffers: readonly string[];
  /** Per-parameter float values with their initial value (e.g. NAdam's `muProduct`: 1). */
  scalars?: Readonly<Record<string, number>>;
}

/** A serialized optimizer (see `Optimizer.stateDict`). */
export interface OptimizerStateDict {
  /** Optimizer class name, e.g. `"Adam"`. */
  type: string;
  /** State by flat parameter index (only parameters that have state). */
  state: Record<string, Record<string, number | Float32Array | readonly number[]>>;
  /** Hyper-parameters of each group, with `params` as flat indices. */
  paramGroups: (Record<string, unknown> & { params: number[] })[];
  /** Completed `step()` calls. */
  stepCount: number;
  /** Skipped steps in a row. */
  consecutiveSkips: number;
  /** State of each transform in the clip chain (`null` for stateless ones). */
  transforms: { name: string; state: Record<string, unknown> | null }[];
}

/**
 * Builds a state dict (buffers are copied, so later steps do not change it).
 *
 * @throws Never throws. (stateful transforms may throw from their own `stateDict`.)
 * @example
 * ```ts
 * saveOptimizerState("SGD", opt.paramGroups, opt.state, { counters: [], buffers: ["momentumBuffer"] }, 3, 0, []);
 * ```
 */
export function saveOptimizerState(
  type: string,
  groups: readonly ({ params: Var[] } & object)[],
  state: ReadonlyMap<Var, ParamState>,
  spec: StateSpec,
  stepCount: number,
  consecutiveSkips: number,
  transforms: readonly GradTransform[],
): OptimizerStateDict {
  const out: OptimizerStateDict["state"] = {};
  const paramGroups: OptimizerStateDict["paramGroups"] = [];
  let index = 0;
  for (const g of groups) {
    const hyper: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(g)) if (k !== "params") hyper[k] = Array.isArray(v) ? v.slice() : v;
    const ids: number[] = [];
    for (const p of g.params) {
      const s = state.get(p);
      if (s) {
        const e: Record<string, number | Float32Array> = {};
        for (const k of [...spec.counters, ...spec.buffers, ...Object.keys(spec.scalars ?? {})]) {
          const v = s[k];
          if (typeof v === "number") e[k] = v;
          else if (v instanceof Float32Array) e[k] = v.slice();
        }
        out[String(index)] = e;
      }
      ids.push(index++);
    }
    paramGroups.push({ ...hyper, params: ids });
  }
  return {
    type,
    state: out,
    paramGroups,
    stepCount,
    consecutiveSkips,
    transforms: transforms.map((t) => ({ name: t.name, state: t.stateDict ? t.stateDict() : null })),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function count(op: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new TypeError(`${op}: ${name} must be a non-negative integer (got ${fmtValue(v)})`);
  return v;
}

/**
 * Validates a state dict against the optimizer and returns what to apply; loads the transform
 * states (rolled back if one of them fails). Nothing of the optimizer is changed here.
 *
 * @throws {TypeError} / {RangeError} describing the first problem found.
 * @example
 * ```ts
 * const loaded = loadOptimizerState("SGD.loadStateDict", "SGD", sd, opt.paramGroups, spec, [], check);
 * ```
 */
export function loadOptimizerState(
  op: string,
  type: string,
  sd: unknown,
  groups: readonly ({ params: Var[] } & object)[],
  spec: StateSpec,
  transforms: readonly GradTransform[],
  checkHyper: (h: Record<string, unknown>, where: string) => void,
): { groups: Record<string, unknown>[]; state: Map<Var, ParamState>; stepCount: number; consecutiveSkips: number } {
  if (!isObject(sd)) throw new TypeError(`${op}: expected a state dict object (got ${fmtValue(sd)})`);
  if (sd.type !== undefined && sd.type !== type) throw new TypeError(`${op}: the state dict was saved from ${fmtValue(sd.type)}, not ${type}`);
  const saved = sd.paramGroups;
  if (!Array.isArray(saved)) throw new TypeError(`${op}: paramGroups must be an array (got ${fmtValue(saved)})`);
  if (saved.length !== groups.length) throw new RangeError(`${op}: the state dict has ${saved.length} parameter groups, the optimizer has ${groups.length}`);
  const byIndex = new Map<number, Var>();
  const newGroups: Record<string, unknown>[] = [];
  saved.forEach((sg: unknown, gi) => {
    const cur = groups[gi]!;
    if (!isObject(sg) || !Array.isArray(sg.params)) throw new TypeError(`${op}: parameter group ${gi} must be an object with a params array`);
    if (sg.params.length !== cur.params.length) {
      throw new RangeError(`${op}: saved parameter group ${gi} has ${sg.params.length} parameters, the optimizer's has ${cur.params.length}`);
    }
    sg.params.forEach((id: unknown, j: number) => {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0) throw new TypeError(`${op}: parameter ids must be non-negative integers (got ${fmtValue(id)} in group ${gi})`);
      if (byIndex.has(id)) throw new RangeError(`${op}: parameter id ${id} appears twice in paramGroups`);
      byIndex.set(id, cur.params[j]!);
    });
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(cur)) if (k !== "params") merged[k] = v;
    for (const [k, v] of Object.entries(sg)) {
      if (k === "params") continue;
      if (!(k in merged)) throw new TypeError(`${op}: unknown hyper-parameter "${k}" in saved parameter group ${gi}`);
      merged[k] = Array.isArray(v) ? v.slice() : v;
    }
    checkHyper(merged, ` (saved parameter group ${gi})`);
    newGroups.push(merged);
  });
  const rawState = sd.state ?? {};
  if (!isObject(rawState)) throw new TypeError(`${op}: state must be an object keyed by parameter id (got ${fmtValue(rawState)})`);
  const state = new Map<Var, ParamState>();
  for (const [key, entry] of Object.entries(rawState)) {
    const p = /^\d+$/.test(key) ? byIndex.get(Number(key)) : undefined;
    if (!p) throw new RangeError(`${op}: state for parameter id "${key}", which is in no saved parameter group`);
    if (!isObject(entry)) throw new TypeError(`${op}: state of parameter ${key} must be an object (got ${fmtValue(entry)})`);
    const s: ParamState = {};
    for (const [k, v] of Object.entries(entry)) {
      if (spec.counters.includes(k)) s[k] = count(op, `state[${key}].${k}`, v, 0);
      else if (spec.scalars && Object.hasOwn(spec.scalars, k)) {
        if (typeof v !== "number" || !Number.isFinite(v)) throw new TypeError(`${op}: state[${key}].${k} must be a finite number (got ${fmtValue(v)})`);
        s[k] = v;
      } else if (spec.buffers.includes(k)) {
        if (v === null || v === undefined) continue;
        const ok = v instanceof Float32Array || (Array.isArray(v) && v.every((x) => typeof x === "number"));
        if (!ok) throw new TypeError(`${op}: state[${key}].${k} must be a Float32Array or an array of numbers (got ${fmtValue(v)})`);
        const arr = v as ArrayLike<number>;
        if (arr.length !== p.size) throw new RangeError(`${op}: state[${key}].${k} has ${arr.length} values, but the parameter ${p.describe()} has ${p.size}`);
        s[k] = Float32Array.from(arr);
      } else {
        throw new TypeError(`${op}: unknown state key "${k}" for parameter ${key} (expected ${[...spec.counters, ...spec.buffers, ...Object.keys(spec.scalars ?? {})].join(", ")})`);
      }
    }
    state.set(p, s);
  }
  const stepCount = count(op, "stepCount", sd.stepCount, 0);
  const consecutiveSkips = count(op, "consecutiveSkips", sd.consecutiveSkips, 0);
  const ts = sd.transforms;
  if (ts !== undefined) {
    if (!Array.isArray(ts) || ts.length !== transforms.length) {
      throw new RangeError(`${op}: the state dict has ${Array.isArray(ts) ? ts.length : fmtValue(ts)} transforms, the optimizer has ${transforms.length}`);
    }
    ts.forEach((t: unknown, i) => {
      if (!isObject(t) || t.name !== transforms[i]!.name) throw new TypeError(`${op}: transform ${i} was saved as ${fmtValue(isObject(t) ? t.name : t)}, the optimizer has "${transforms[i]!.name}"`);
    });
    const backup = transforms.map((t) => (t.stateDict ? t.stateDict() : null));
    try {
      ts.forEach((t: Record<string, unknown>, i) => {
        const tr = transforms[i]!;
        if (t.state !== null && t.state !== undefined && tr.loadStateDict) tr.loadStateDict(t.state as Record<string, unknown>);
      });
    } catch (e) {
      transforms.forEach((t, i) => {
        if (backup[i] && t.loadStateDict) t.loadStateDict(backup[i]!);
      });
      throw e;
    }
  }
  return { groups: newGroups, state, stepCount, consecutiveSkips };
}
