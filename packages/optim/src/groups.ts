/**
 * @file Parameter groups: the accepted input forms and their normalisation (internal helpers of
 * `Optimizer`).
 */
import { Tensor } from "@tapegrad/tensor";
import { Var } from "@tapegrad/autograd";
import { checkKeys, fmtValue } from "./errors.js";
import { describeParam } from "./params.js";

/** A parameter group: its parameters and its hyper-parameters (mutable, e.g. by schedulers). */
export type ParamGroup<H> = H & { params: Var[] };
/** A parameter group as given to the constructor: hyper-parameters default to the optimizer's. */
export type ParamGroupInput<H> = Partial<H> & { params: Var | Iterable<Var> };
/** Parameters: a Var, an iterable of Vars, or a list of parameter groups. */
export type ParamsInput<H> = Var | Iterable<Var> | readonly ParamGroupInput<H>[];

/**
 * Normalises the constructor's `params` into a list of groups.
 *
 * @throws {TypeError} for Tensors and non-iterables.
 * @example
 * ```ts
 * toGroups("SGD", [w, b]); // [{ params: [w, b] }]
 * ```
 */
export function toGroups<H>(op: string, params: ParamsInput<H>): ParamGroupInput<H>[] {
  if (params instanceof Var) return [{ params: [params] } as unknown as ParamGroupInput<H>];
  if (params === null || typeof params !== "object" || params instanceof Tensor || !(Symbol.iterator in params)) {
    throw new TypeError(`${op}: params must be a Var, an iterable of Vars or a list of parameter groups (got ${params instanceof Tensor ? "a Tensor; wrap it with variable()" : fmtValue(params)})`);
  }
  const list = Array.from(params as Iterable<unknown>);
  if (list.length > 0 && list.every((x) => x !== null && typeof x === "object" && !(x instanceof Var) && !(x instanceof Tensor) && "params" in x)) return list as ParamGroupInput<H>[];
  return [{ params: list as Var[] } as unknown as ParamGroupInput<H>];
}

/**
 * A group's hyper-parameters without `params` (arrays copied, undefined dropped).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * stripParams({ params: [w], lr: 0.1 }); // { lr: 0.1 }
 * ```
 */
export function stripParams(group: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(group)) if (k !== "params" && v !== undefined) out[k] = Array.isArray(v) ? v.slice() : v;
  return out;
}

/**
 * A copy of hyper-parameters (arrays copied).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * cloneHyper({ lr: 0.1, betas: [0.9, 0.999] });
 * ```
 */
export function cloneHyper<H>(h: H): H {
  return stripParams(h as object) as H;
}

/**
 * Validates a parameter group given to `addParamGroup` (group `gi`) against the existing groups
 * and returns its parameters as a list.
 *
 * @throws {TypeError} for non-objects, optimizer-wide or unknown keys, non-Var or non-leaf
 * parameters; {RangeError} for duplicates within the group or across groups.
 * @example
 * ```ts
 * checkGroupParams("SGD", { params: [w], lr: 0.1 }, 1, ["clip"], ["lr"], opt.paramGroups); // [w]
 * ```
 */
export function checkGroupParams(op: string, group: unknown, gi: number, configKeys: readonly string[], hyperKeys: readonly string[], existing: readonly { params: Var[] }[]): Var[] {
  if (group === null || typeof group !== "object" || !("params" in group)) throw new TypeError(`${op}: a parameter group must be an object with "params" (got ${fmtValue(group)})`);
  for (const k of Object.keys(group)) {
    if (configKeys.includes(k)) throw new TypeError(`${op}: "${k}" is an optimizer-wide option, not a parameter-group option (group ${gi})`);
  }
  checkKeys(op, group, ["params", ...hyperKeys], `key in parameter group ${gi}:`);
  const raw: unknown = (group as { params: unknown }).params;
  const params = raw instanceof Var ? [raw] : raw instanceof Tensor || raw === null || typeof raw !== "object" || !(Symbol.iterator in raw) ? null : Array.from(raw as Iterable<Var>);
  if (params === null) throw new TypeError(`${op}: params of group ${gi} must be a Var or an iterable of Vars (got ${fmtValue(raw)})`);
  const seen = new Set<Var>(existing.flatMap((g) => g.params));
  const mine = new Set<Var>();
  params.forEach((p, i) => {
    if (!(p instanceof Var)) throw new TypeError(`${op}: parameters must be Vars (got ${(p as unknown) instanceof Tensor ? "a Tensor" : fmtValue(p)} at index ${i} of group ${gi}); wrap tensors with variable()`);
    if (!p.isLeaf) throw new TypeError(`${op}: can't optimize a non-leaf Var (${p.describe()} at index ${i} of group ${gi})`);
    if (mine.has(p)) throw new RangeError(`${op}: ${describeParam(p, i)} appears more than once in parameter group ${gi}`);
    if (seen.has(p)) throw new RangeError(`${op}: ${describeParam(p, i)} appears in more than one parameter group`);
    mine.add(p);
  });
  return params;
}
