/**
 * @file Parameter groups: the accepted input forms and their normalisation (internal helpers of
 * `Optimizer`).
 */
import { Tensor } from "@tapegrad/tensor";
import { Var } from "@tapegrad/autograd";
import { fmtValue } from "./errors.js";

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
