/**
 * @file Parametrizations: a parameter whose effective value is computed from a trainable original
 * and constant buffers on every access, as PyTorch's pruning reparametrization does (and in the
 * spirit of `torch.nn.utils.parametrize`).
 *
 * Registering one on parameter `weight` of a module:
 * - moves the trainable Var to the name `weight_orig` (the same Var object, so an optimizer built
 *   earlier keeps updating it), appended after the module's other parameters as in PyTorch;
 * - registers the spec's buffers as `weight_<key>` (e.g. `weight_mask`), persistent, so they
 *   appear in `stateDict()` after the parameters and are restored by `loadStateDict()`;
 * - replaces the instance property `module.weight` by a getter (`Object.defineProperty`) that
 *   returns `spec.compute(original, buffers)`: a fresh autograd node at each access. Layers read
 *   their weights through `this.weight` in `forward`, so the forward pass uses the effective value
 *   and gradients flow to `weight_orig` through it.
 *
 * Removing it bakes the current effective value into the original Var (in place) and registers
 * that Var as a plain parameter `weight` again.
 */
import type { Tensor } from "@tapegrad/tensor";
import { noGrad, type Var } from "@tapegrad/autograd";
import { Module } from "./module.js";

/** What a parametrization computes and which buffers it keeps. */
export interface ParametrizationSpec {
  /** A label that lets code find its own parametrizations (e.g. `"prune"`). */
  kind: string;
  /** Buffers registered next to the original as `${name}_${key}` (`{ mask }` -> `weight_mask`). */
  buffers?: Readonly<Record<string, Tensor>>;
  /**
   * The effective value from the original parameter and the module's current buffers (by key).
   * Called at every access of `module[name]`; must return a new Var built with autograd ops.
   */
  compute(original: Var, buffers: Readonly<Record<string, Tensor>>): Var;
}

/** A registered parametrization (see {@link registerParametrization}). */
export interface Parametrization {
  /** The module that owns the parameter. */
  readonly module: Module;
  /** The parametrized name (`"weight"`). */
  readonly name: string;
  /** The spec's label. */
  readonly kind: string;
  /** The trainable Var, registered as `${name}_orig`. */
  readonly original: Var;
  /** Buffer keys (`"mask"`), registered as `${name}_${key}`. */
  readonly bufferKeys: readonly string[];
  /**
   * The module's current buffer for `key`.
   *
   * @throws {Error} for a key the parametrization does not have.
   * @example
   * ```ts
   * getParametrization(fc, "weight")!.buffer("mask"); // fc's weight_mask
   * ```
   */
  buffer(key: string): Tensor;
  /**
   * The effective value as a new autograd node (what `module[name]` returns).
   *
   * @throws whatever the spec's `compute` throws (e.g. for a disposed buffer).
   * @example
   * ```ts
   * getParametrization(fc, "weight")!.value(); // orig * mask, recorded on the tape
   * ```
   */
  value(): Var;
}

const registry = new WeakMap<Module, Map<string, Parametrization>>();

function ownMap(module: Module): Map<string, Parametrization> {
  let m = registry.get(module);
  if (m === undefined) registry.set(module, (m = new Map()));
  return m;
}

/** Throws a TypeError naming `op` unless `module` is a Module. */
function checkModule(op: string, module: unknown): void {
  if (!(module instanceof Module)) throw new TypeError(`${op}: expected a Module (got ${describe(module)})`);
}

/**
 * Reparametrizes parameter `name` of `module` (see the file comment): `name_orig` holds the
 * trainable Var, the spec's buffers become `name_<key>`, and `module[name]` returns
 * `spec.compute(original, buffers)` at each access. Nothing changes when it throws.
 *
 * @throws {TypeError} when `module` is not a Module; {Error} when `name` is not a parameter of
 * `module` (or is already parametrized), or `name_orig` / a buffer name is already taken.
 * @example
 * ```ts
 * const fc = new Linear(4, 3);
 * registerParametrization(fc, "weight", {
 *   kind: "prune",
 *   buffers: { mask: ones([3, 4]) },
 *   compute: (orig, b) => mul(orig, constant(b.mask!)),
 * });
 * fc.namedParameters().map(([n]) => n); // ["bias", "weight_orig"]
 * ```
 */
export function registerParametrization(module: Module, name: string, spec: ParametrizationSpec): Parametrization {
  const fn = "registerParametrization";
  if (!(module instanceof Module)) throw new TypeError(`${fn}: expected a Module (got ${describe(module)})`);
  const map = ownMap(module);
  if (map.has(name)) throw new RangeError(`${fn}: "${name}" of ${module.constructor.name} is already parametrized (kind "${map.get(name)!.kind}")`);
  const original = module.getParameter(name);
  if (original === undefined) throw new RangeError(`${fn}: ${module.constructor.name} has no parameter "${name}"`);
  if (spec === null || typeof spec !== "object" || typeof spec.compute !== "function") throw new TypeError(`${fn}: spec.compute must be a function (got ${spec === null || typeof spec !== "object" ? describe(spec) : typeof spec.compute})`);
  const keys = Object.keys(spec.buffers ?? {});
  for (const taken of [`${name}_orig`, ...keys.map((k) => `${name}_${k}`)]) {
    if (module.getParameter(taken) !== undefined || module.getBuffer(taken) !== undefined) {
      throw new Error(`${fn}: "${taken}" is already registered on ${module.constructor.name}`);
    }
  }
  module.deleteParameter(name);
  module.registerParameter(`${name}_orig`, original);
  for (const k of keys) module.registerBuffer(`${name}_${k}`, spec.buffers![k]!);
  const buffers = (): Record<string, Tensor> => {
    const out: Record<string, Tensor> = {};
    for (const k of keys) out[k] = module.getBuffer(`${name}_${k}`)!;
    return out;
  };
  const p: Parametrization = {
    module,
    name,
    kind: spec.kind,
    original,
    bufferKeys: keys,
    buffer(key: string): Tensor {
      const t = keys.includes(key) ? module.getBuffer(`${name}_${key}`) : undefined;
      if (t === undefined) throw new Error(`Parametrization.buffer: "${name}" has no buffer "${key}" (has ${JSON.stringify(keys)})`);
      return t;
    },
    value: () => spec.compute(original, buffers()),
  };
  map.set(name, p);
  Object.defineProperty(module, name, {
    configurable: true,
    enumerable: true,
    get: p.value,
    set: () => {
      throw new Error(`${module.constructor.name}.${name} is parametrized (${spec.kind}): assign to ${name}_orig's value, or remove the parametrization first`);
    },
  });
  return p;
}

/**
 * The parametrization of `module[name]`, or undefined.
 *
 * @throws never.
 * @example
 * ```ts
 * getParametrization(fc, "weight")?.buffer("mask");
 * ```
 */
export function getParametrization(module: Module, name: string): Parametrization | undefined {
  checkModule("getParametrization", module);
  return registry.get(module)?.get(name);
}

/**
 * The parametrizations registered on `module` itself (not its children), in registration order.
 *
 * @throws never.
 * @example
 * ```ts
 * parametrizationsOf(fc).map((p) => p.name); // ["weight"]
 * ```
 */
export function parametrizationsOf(module: Module): Parametrization[] {
  checkModule("parametrizationsOf", module);
  return [...(registry.get(module)?.values() ?? [])];
}

/**
 * True when `module[name]` is parametrized (any name when `name` is omitted), optionally only
 * counting parametrizations of the given `kind`.
 *
 * @throws never.
 * @example
 * ```ts
 * isParametrized(fc, "weight"); // true after pruning fc.weight
 * ```
 */
export function isParametrized(module: Module, name?: string, kind?: string): boolean {
  checkModule("isParametrized", module);
  const map = registry.get(module);
  if (map === undefined) return false;
  const list = name === undefined ? [...map.values()] : map.has(name) ? [map.get(name)!] : [];
  return list.some((p) => kind === undefined || p.kind === kind);
}

/**
 * Removes the parametrization of `module[name]`: the original Var becomes the plain parameter
 * `name` again (same object), holding the current effective value when `leaveParametrized`
 * (default; PyTorch's `prune.remove` bakes `orig * mask` in) or its unchanged original value
 * otherwise. Its buffers are unregistered. Returns the Var.
 *
 * @throws {Error} when `module[name]` is not parametrized.
 * @example
 * ```ts
 * const w = removeParametrization(fc, "weight"); // fc.weight === w, values orig * mask
 * ```
 */
export function removeParametrization(module: Module, name: string, opts: { leaveParametrized?: boolean } = {}): Var {
  checkModule("removeParametrization", module);
  const p = getParametrization(module, name);
  if (p === undefined) throw new RangeError(`removeParametrization: "${name}" of ${describe(module)} is not parametrized`);
  const orig = p.original;
  if (opts.leaveParametrized !== false) {
    const effective = noGrad(() => p.value().value).toFloat32Array();
    orig.value.data.set(effective, orig.value.offset);
  }
  registry.get(module)!.delete(name);
  module.deleteParameter(`${name}_orig`);
  for (const k of p.bufferKeys) module.deleteBuffer(`${name}_${k}`);
  module.registerParameter(name, orig);
  Object.defineProperty(module, name, { configurable: true, enumerable: true, writable: true, value: orig });
  return orig;
}

function describe(x: unknown): string {
  if (x instanceof Module) return x.constructor.name;
  return x === null ? "null" : typeof x === "object" ? (x as object).constructor?.name ?? "object" : typeof x;
}
