/**
 * @file Pruning on modules with `torch.nn.utils.prune` semantics: `l1Unstructured`,
 * `randomUnstructured`, `lnStructured`, `globalUnstructured`, `customFromMask`, `identity`,
 * `remove`, `isPruned`, all on `(module, name)`.
 *
 * The first call on a parameter reparametrizes it (see `@tapegrad/nn`'s `registerParametrization`):
 * the trainable Var moves to `name_orig` (same object: optimizers built earlier keep working), the
 * mask becomes the buffer `name_mask`, and `module[name]` returns `orig * mask` as a fresh
 * autograd node — so the forward pass uses the pruned weight, the gradient of `name_orig` is
 * exactly zero at pruned positions, and no optimizer step (momentum, Adam state, weight decay)
 * can make a pruned effective weight non-zero. Later calls follow torch's container rule: the
 * importance scores default to the current effective weight, only entries (channels) not pruned
 * yet are candidates, and a fractional amount refers to them. A call that throws changes nothing.
 */
import { Rng, Tensor, fmt, defaultRng } from "@tapegrad/tensor";
import { constant, mul, type Var } from "@tapegrad/autograd";
import { Module, getParametrization, registerParametrization, removeParametrization, type Parametrization } from "@tapegrad/nn";
import { type PruneAmount, validateAmount } from "./amount.js";
import { customMask, globalUnstructuredMasks, l1UnstructuredMask, randomUnstructuredMask, type UnstructuredMethod } from "./unstructured.js";
import { lnStructuredMask } from "./structured.js";

/**
 * The parametrization kind pruning registers (`getParametrization(module, name).kind`).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * isParametrized(fc, "weight", PRUNE_KIND); // true after l1Unstructured(fc, "weight", 0.2)
 * ```
 */
export const PRUNE_KIND = "prune";

/** Options of the magnitude-based methods. */
export interface PruneOptions {
  /** Scores to rank by instead of the current weight (same shape as the parameter). */
  importanceScores?: Tensor | null;
}

/** Options of {@link globalUnstructured}. */
export interface GlobalPruneOptions {
  /** `"l1Unstructured"` (default) or `"randomUnstructured"` (torch's `pruning_method`). */
  pruningMethod?: UnstructuredMethod;
  /** Per entry of `parameters` (same order): its importance scores, or null/undefined for its weight. */
  importanceScores?: readonly (Tensor | null | undefined)[] | null;
  /** Generator of the random method (default: the global one). */
  rng?: Rng;
}

/** One target: the module and the name of its parameter. */
export type PruneTarget = readonly [Module, string];

interface Target {
  module: Module;
  name: string;
  shape: readonly number[];
  /** The pruning parametrization, when already pruned. */
  p: Parametrization | undefined;
  /** The parameter (the original when pruned). */
  param: Var;
}

function target(fn: string, module: Module, name: string): Target {
  if (!(module instanceof Module)) throw new TypeError(`${fn}: expected a Module (got ${module === null ? "null" : typeof module})`);
  if (typeof name !== "string") throw new TypeError(`${fn}: name must be a string (got ${typeof name})`);
  const p = getParametrization(module, name);
  if (p !== undefined && p.kind !== PRUNE_KIND) throw new RangeError(`${fn}: "${name}" of ${module.constructor.name} is parametrized by "${p.kind}", not pruning`);
  const param = p?.original ?? module.getParameter(name);
  if (param === undefined) {
    const names = module.namedParameters("", false).map(([n]) => n);
    throw new RangeError(`${fn}: ${module.constructor.name} has no parameter "${name}" (has ${JSON.stringify(names)})`);
  }
  return { module, name, shape: param.shape, p, param };
}

function valuesOf(t: Tensor): Float32Array {
  return t.isContiguous ? t.data.subarray(t.offset, t.offset + t.size) : t.toFloat32Array();
}

function currentMask(t: Target): Float32Array | null {
  return t.p === undefined ? null : valuesOf(t.p.buffer("mask"));
}

/** Importance scores: the given tensor (shape-checked) or the current effective weight. */
function scoresOf(fn: string, t: Target, given: Tensor | null | undefined): Float32Array {
  if (given !== null && given !== undefined) {
    if (!(given instanceof Tensor)) throw new TypeError(`${fn}: importanceScores must be a Tensor`);
    if (given.shape.length !== t.shape.length || given.shape.some((d, i) => d !== t.shape[i])) {
      throw new RangeError(`${fn}: importance_scores should have the same shape as parameter "${t.name}" of ${t.module.constructor.name}: ${fmt(t.shape)} (got ${fmt(given.shape)})`);
    }
    return valuesOf(given);
  }
  const w = valuesOf(t.param.value);
  const mask = currentMask(t);
  if (mask === null) return w;
  const s = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) s[i] = w[i]! * mask[i]!;
  return s;
}

function maskedWeight(orig: Var, buffers: Readonly<Record<string, Tensor>>): Var {
  return mul(orig, constant(buffers.mask!));
}

/** Stores the new mask: in place when already pruned, else reparametrizes the parameter. */
function setMask(t: Target, mask: Float32Array): void {
  if (t.p !== undefined) {
    const buf = t.p.buffer("mask");
    buf.data.set(mask, buf.offset);
    return;
  }
  const buffer = new Tensor(mask, t.shape).clone({ persistent: true });
  registerParametrization(t.module, t.name, { kind: PRUNE_KIND, buffers: { mask: buffer }, compute: maskedWeight });
}

/**
 * Prunes the `amount` of not-yet-pruned entries of `module[name]` with the smallest magnitude
 * (`|importanceScores|` when given). Amount: a fraction in `[0, 1]` of the remaining entries
 * (rounded half to even, as Python's `round`) or `{ count: n }`. Equal magnitudes at the
 * threshold: the lower flat index is pruned first. Returns the module.
 *
 * @throws {RangeError} for an amount outside `[0, 1]`, a negative or fractional count, a count
 * above the remaining entries (`l1Unstructured: amount=7 should be smaller than the number of
 * parameters to prune=6`), or importance scores of another shape; {Error} when `name` is not a
 * parameter of `module`; {TypeError} for a non-Module.
 * @example
 * ```ts
 * const fc = l1Unstructured(new Linear(784, 256), "weight", 0.3);
 * fc.namedParameters().map(([n]) => n); // ["bias", "weight_orig"]
 * fc.getBuffer("weight_mask"); // 0/1 tensor [256, 784]
 * ```
 */
export function l1Unstructured<M extends Module>(module: M, name: string, amount: PruneAmount, opts: PruneOptions = {}): M {
  const fn = "l1Unstructured";
  validateAmount(fn, amount);
  const t = target(fn, module, name);
  setMask(t, l1UnstructuredMask(scoresOf(fn, t, opts.importanceScores), currentMask(t), amount, fn));
  return module;
}

/**
 * Prunes the `amount` of not-yet-pruned entries of `module[name]` chosen at random from `rng`
 * (default: the global generator; the same seed gives the same mask). Returns the module.
 *
 * @throws as {@link l1Unstructured} (without importance scores).
 * @example
 * ```ts
 * randomUnstructured(fc, "weight", 0.5, { rng: new Rng(42) });
 * ```
 */
export function randomUnstructured<M extends Module>(module: M, name: string, amount: PruneAmount, opts: { rng?: Rng } = {}): M {
  const fn = "randomUnstructured";
  validateAmount(fn, amount);
  if (opts.rng !== undefined && !(opts.rng instanceof Rng)) throw new TypeError(`${fn}: rng must be an Rng (got ${opts.rng === null ? "null" : typeof opts.rng})`);
  const t = target(fn, module, name);
  setMask(t, randomUnstructuredMask(t.param.size, currentMask(t), amount, opts.rng ?? defaultRng, fn));
  return module;
}

/**
 * Prunes whole channels of `module[name]` (slices along `dim`, negative counted from the end;
 * `[out, in]` Linear weight: dim 0 = output units, dim 1 = inputs): the `amount` of candidate
 * channels (those not fully pruned yet) with the smallest L`n` norm over all their entries
 * (`n` any real, `Infinity` = max, `-Infinity` = min |s|). Equal norms: the lower channel index is
 * pruned first. Needs `ndim >= 2`. Returns the module.
 *
 * @throws {RangeError} for `ndim < 2`, a `dim` out of range, a NaN `n`, or the amount errors of
 * {@link l1Unstructured}; {Error}/{TypeError} as there.
 * @example
 * ```ts
 * lnStructured(fc, "weight", 0.5, 2, 0); // remove half of the output units by L2 norm
 * ```
 */
export function lnStructured<M extends Module>(module: M, name: string, amount: PruneAmount, n: number, dim: number, opts: PruneOptions = {}): M {
  const fn = "lnStructured";
  validateAmount(fn, amount);
  const t = target(fn, module, name);
  setMask(t, lnStructuredMask(scoresOf(fn, t, opts.importanceScores), t.shape, currentMask(t), amount, n, dim, fn));
  return module;
}

/**
 * Prunes several parameters together: the candidates of all of them (flattened and concatenated
 * in `parameters` order) are ranked at once and one `amount` applies to their total, so layers
 * with small weights lose more entries. Candidates are entries not pruned yet. Returns nothing,
 * like torch.
 *
 * @throws {RangeError} for the amount errors of {@link l1Unstructured} (the count limit is the
 * total of remaining entries), importance scores of the wrong shape or count, or a parameter
 * listed twice; {Error} when a name is not a parameter of its module.
 * @example
 * ```ts
 * globalUnstructured([[net.fc1, "weight"], [net.fc2, "weight"]], 0.8);
 * ```
 */
export function globalUnstructured(parameters: readonly PruneTarget[], amount: PruneAmount, opts: GlobalPruneOptions = {}): void {
  const fn = "globalUnstructured";
  validateAmount(fn, amount);
  if (!Array.isArray(parameters)) throw new TypeError(`${fn}: parameters must be an array of [module, name] pairs`);
  const method = opts.pruningMethod ?? "l1Unstructured";
  if (method !== "l1Unstructured" && method !== "randomUnstructured") throw new TypeError(`${fn}: pruningMethod must be "l1Unstructured" or "randomUnstructured" (got ${JSON.stringify(method)})`);
  const targets = parameters.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError(`${fn}: each entry must be a [module, name] pair`);
    return target(fn, pair[0], pair[1]);
  });
  for (let i = 0; i < targets.length; i++) {
    for (let j = 0; j < i; j++) {
      if (targets[i]!.module === targets[j]!.module && targets[i]!.name === targets[j]!.name) throw new RangeError(`${fn}: parameter "${targets[i]!.name}" is listed twice (entries ${j} and ${i})`);
    }
  }
  const given = opts.importanceScores ?? null;
  if (given !== null && given.length !== targets.length) throw new RangeError(`${fn}: ${given.length} importance score tensors for ${targets.length} parameters`);
  const scores = targets.map((t, i) => scoresOf(fn, t, given?.[i]));
  const masks = globalUnstructuredMasks(scores, targets.map(currentMask), amount, opts.pruningMethod ?? "l1Unstructured", opts.rng ?? defaultRng, fn);
  targets.forEach((t, i) => setMask(t, masks[i]!));
}

/**
 * Prunes `module[name]` with a given 0/1 mask (multiplied into the current one). Returns the
 * module.
 *
 * @throws {RangeError} when the mask's size differs from the parameter's or it holds values other
 * than 0/1; {Error}/{TypeError} as {@link l1Unstructured}.
 * @example
 * ```ts
 * customFromMask(fc, "bias", tensor([0, 1, 0]));
 * ```
 */
export function customFromMask<M extends Module>(module: M, name: string, mask: Tensor | ArrayLike<number | boolean>): M {
  const fn = "customFromMask";
  const t = target(fn, module, name);
  if (mask instanceof Tensor && (mask.shape.length !== t.shape.length || mask.shape.some((d, i) => d !== t.shape[i]))) {
    throw new RangeError(`${fn}: mask shape ${fmt(mask.shape)} differs from parameter "${name}" ${fmt(t.shape)}`);
  }
  setMask(t, customMask(currentMask(t), mask instanceof Tensor ? valuesOf(mask) : mask, t.param.size, fn));
  return module;
}

/**
 * Applies the pruning reparametrization without pruning anything (an all-ones mask on the first
 * call). Returns the module.
 *
 * @throws {RangeError}/{TypeError} as {@link l1Unstructured}.
 * @example
 * ```ts
 * identity(fc, "weight").getBuffer("weight_mask"); // all ones
 * ```
 */
export function identity<M extends Module>(module: M, name: string): M {
  const t = target("identity", module, name);
  setMask(t, currentMask(t)?.slice() ?? new Float32Array(t.param.size).fill(1));
  return module;
}

/**
 * Makes the pruning of `module[name]` permanent: the parameter `name` becomes a plain parameter
 * again (the same Var as `name_orig`, so optimizers keep working) holding `orig * mask`;
 * `name_orig` and `name_mask` are removed. Pruning is not undone. Returns the module.
 *
 * @throws {RangeError} `remove: Parameter 'weight' of module Linear has to be pruned before pruning
 * can be removed` when it is not pruned.
 * @example
 * ```ts
 * remove(fc, "weight"); // fc.weight: zeros where the mask was 0
 * ```
 */
export function remove<M extends Module>(module: M, name: string): M {
  const p = module instanceof Module ? getParametrization(module, name) : undefined;
  if (p === undefined || p.kind !== PRUNE_KIND) {
    const cls = module instanceof Module ? module.constructor.name : String(module);
    throw new RangeError(`remove: Parameter '${name}' of module ${cls} has to be pruned before pruning can be removed`);
  }
  removeParametrization(module, name);
  return module;
}

/**
 * True when `module` or any descendant has a pruned parameter.
 *
 * @throws never.
 * @example
 * ```ts
 * isPruned(model); // false before, true after l1Unstructured(model.fc1, "weight", 0.2)
 * ```
 */
export function isPruned(module: Module): boolean {
  if (!(module instanceof Module)) return false;
  const all: Module[] = [module, ...module.namedModules().map(([, m]) => m)];
  return all.some((m) => prunedNames(m).length > 0);
}

/**
 * The current mask buffer of `module[name]` (the live tensor), or null when it is not pruned.
 *
 * @throws never.
 * @example
 * ```ts
 * pruneMask(fc, "weight")?.toArray();
 * ```
 */
export function pruneMask(module: Module, name: string): Tensor | null {
  const p = module instanceof Module ? getParametrization(module, name) : undefined;
  return p !== undefined && p.kind === PRUNE_KIND ? p.buffer("mask") : null;
}

/**
 * Names of the pruned parameters of `module` itself (not its children).
 *
 * @throws never.
 * @example
 * ```ts
 * prunedNames(fc); // ["weight"]
 * ```
 */
export function prunedNames(module: Module): string[] {
  if (!(module instanceof Module)) throw new TypeError(`prunedNames: expected a Module (got ${module === null ? "null" : typeof module})`);
  const out: string[] = [];
  for (const [n] of module.namedParameters("", false)) {
    if (!n.endsWith("_orig")) continue;
    const base = n.slice(0, -5);
    if (getParametrization(module, base)?.kind === PRUNE_KIND) out.push(base);
  }
  return out;
}
