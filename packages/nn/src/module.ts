/**
 * @file `Module`: the base of every layer. A module owns named parameters (leaf `Var`s), named
 * buffers (non-trainable tensors such as pruning masks) and named sub-modules;
 * `parameters()`/`namedParameters()` and `buffers()`/`namedBuffers()` walk the tree in
 * registration order with dotted names (`"fc1.weight"`), `train()`/`eval()` switch modes
 * recursively, and `stateDict()`/`loadStateDict()` save and restore parameters and persistent
 * buffers with shape checks — the same names, order and layouts as PyTorch, so weights can be
 * exchanged.
 */
import { Tensor, ShapeError } from "@tapegrad/tensor";
import { StateDictError, type SizeMismatch } from "./state-dict-error.js";
import { Var, variable } from "@tapegrad/autograd";

/** Parameter values by dotted name. */
export type StateDict = Record<string, Tensor>;

/**
 * What {@link Module.loadStateDict} reports (PyTorch's `missing_keys` / `unexpected_keys`): keys
 * of the module absent from the state dict, and keys of the state dict the module does not have.
 *
 * @example
 * ```ts
 * const { missingKeys, unexpectedKeys } = model.loadStateDict(sd, { strict: false });
 * ```
 */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Base class of layers and models. Subclasses register parameters with
 * {@link Module.addParameter} and children with {@link Module.addModule}, and implement
 * `forward`.
 *
 * @throws never when constructed (the base checks nothing); `addParameter`, `addModule`,
 * `loadStateDict` and subclasses' constructors and `forward` document their own.
 * @example
 * ```ts
 * class TwoLayer extends Module {
 *   fc1 = this.addModule("fc1", new Linear(4, 8));
 *   fc2 = this.addModule("fc2", new Linear(8, 2));
 *   forward(x: VarLike) { return this.fc2.forward(relu(this.fc1.forward(x))); }
 * }
 * ```
 */
export abstract class Module {
  /** True in training mode (affects e.g. Dropout). */
  training = true;
  private readonly ownParams = new Map<string, Var>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly transientBuffers = new Set<string>();
  private readonly children = new Map<string, Module>();

  /**
   * Runs the module.
   *
   * @throws whatever the subclass's computation throws (typically {@link ShapeError} for an input
   * of the wrong shape, `TypeError` for an input that is not a Var, Tensor or number).
   * @example `const logits = model.forward(constant(batch.x));`
   */
  abstract forward(...inputs: unknown[]): unknown;

  /**
   * Registers a parameter (a fresh leaf Var that requires grad, holding a copy of `value`).
   *
   * @throws {RangeError} when the name is taken or contains a dot.
   * @example `this.weight = this.addParameter("weight", zeros([3, 4]));`
   */
  protected addParameter(name: string, value: Tensor): Var {
    this.checkName("addParameter", name);
    const v = variable(value, { name });
    this.ownParams.set(name, v);
    return v;
  }

  /**
   * Registers an existing parameter under `name` (PyTorch's `register_parameter`): the same `Var`
   * object, so optimizers holding it keep working. It must be a leaf that requires grad.
   *
   * @throws {RangeError} when the name is taken or contains a dot; {TypeError} when `param` is not a
   * leaf Var that requires grad.
   * @example
   * ```ts
   * const w = layer.deleteParameter("weight");
   * layer.registerParameter("weight_orig", w);
   * ```
   */
  registerParameter(name: string, param: Var): Var {
    if (!(param instanceof Var) || !param.isLeaf || !param.requiresGrad) {
      throw new TypeError(`registerParameter: "${name}" must be a leaf Var that requires grad`);
    }
    this.checkName("registerParameter", name);
    this.ownParams.set(name, param);
    return param;
  }

  /**
   * Unregisters this module's own parameter `name` and returns it (the Var itself is untouched).
   *
   * @throws {RangeError} when this module has no parameter `name`.
   * @example `const w = layer.deleteParameter("weight");`
   */
  deleteParameter(name: string): Var {
    const v = this.ownParams.get(name);
    if (v === undefined) throw new RangeError(`deleteParameter: ${this.constructor.name} has no parameter "${name}"`);
    this.ownParams.delete(name);
    return v;
  }

  /**
   * Registers a buffer: a tensor that belongs to the module's state but is not trained (a pruning
   * mask, running statistics). The module keeps `value` itself (no copy): `loadStateDict` writes
   * into it in place. Persistent buffers (default) appear in `stateDict()` after the module's own
   * parameters, as in PyTorch.
   *
   * @throws {RangeError} when the name is taken or contains a dot; {TypeError} when `value` is not a
   * Tensor.
   * @example `layer.registerBuffer("weight_mask", ones([8, 4]));`
   */
  registerBuffer(name: string, value: Tensor, opts: { persistent?: boolean } = {}): Tensor {
    if (!(value instanceof Tensor)) throw new TypeError(`registerBuffer: "${name}" must be a Tensor`);
    this.checkName("registerBuffer", name);
    const t = value.contiguous();
    this.ownBuffers.set(name, t);
    if (opts.persistent === false) this.transientBuffers.add(name);
    return t;
  }

  /**
   * Unregisters this module's own buffer `name` and returns it.
   *
   * @throws {RangeError} when this module has no buffer `name`.
   * @example `layer.deleteBuffer("weight_mask");`
   */
  deleteBuffer(name: string): Tensor {
    const t = this.ownBuffers.get(name);
    if (t === undefined) throw new RangeError(`deleteBuffer: ${this.constructor.name} has no buffer "${name}"`);
    this.ownBuffers.delete(name);
    this.transientBuffers.delete(name);
    return t;
  }

  /**
   * This module's own parameter `name` (not dotted, no descendants), or undefined.
   *
   * @throws never.
   * @example `fc.getParameter("weight_orig"); // the trainable Var of a pruned weight`
   */
  getParameter(name: string): Var | undefined {
    return this.ownParams.get(name);
  }

  /**
   * This module's own buffer `name` (not dotted), or undefined.
   *
   * @throws never.
   * @example `fc.getBuffer("weight_mask");`
   */
  getBuffer(name: string): Tensor | undefined {
    return this.ownBuffers.get(name);
  }

  /**
   * Registers a child module under `name` and returns it.
   *
   * @throws {RangeError} when the name is taken or contains a dot.
   * @example `this.fc = this.addModule("fc", new Linear(4, 2));`
   */
  protected addModule<M extends Module>(name: string, module: M): M {
    this.checkName("addModule", name);
    if (!(module instanceof Module)) throw new TypeError(`addModule: "${name}" must be a Module`);
    this.children.set(name, module);
    return module;
  }

  private checkName(fn: string, name: string): void {
    if (typeof name !== "string" || !name || name.includes(".")) throw new RangeError(`${fn}: invalid name ${JSON.stringify(name)} (a non-empty string without dots)`);
    if (this.ownParams.has(name) || this.ownBuffers.has(name) || this.children.has(name)) throw new RangeError(`${fn}: "${name}" is already registered in ${this.constructor.name}`);
  }

  /**
   * `[dottedName, parameter]` pairs of this module and (with `recurse`, the default) all
   * descendants, in registration order (a parameter shared by two modules is listed once).
   *
   * @throws never.
   * @example `model.namedParameters().map(([n]) => n); // ["fc1.weight", "fc1.bias", ...]`
   */
  namedParameters(prefix = "", recurse = true): [string, Var][] {
    return this.collect((m) => m.ownParams, prefix, recurse);
  }

  /**
   * `[dottedName, buffer]` pairs of this module and (with `recurse`) all descendants, in
   * registration order (a buffer shared by two modules is listed once).
   *
   * @throws never.
   * @example `model.namedBuffers().map(([n]) => n); // ["fc1.weight_mask"] after pruning fc1.weight`
   */
  namedBuffers(prefix = "", recurse = true): [string, Tensor][] {
    return this.collect((m) => m.ownBuffers, prefix, recurse);
  }

  /**
   * All buffers (see {@link Module.namedBuffers}).
   *
   * @throws never.
   * @example `model.buffers().length; // 0 for a plain MLP`
   */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  private collect<T>(own: (m: Module) => Map<string, T>, prefix: string, recurse: boolean): [string, T][] {
    const out: [string, T][] = [];
    const seen = new Set<T>();
    const walk = (m: Module, pre: string) => {
      for (const [n, v] of own(m)) {
        if (seen.has(v)) continue;
        seen.add(v);
        out.push([pre + n, v]);
      }
      if (recurse) for (const [n, c] of m.children) walk(c, `${pre}${n}.`);
    };
    walk(this, prefix);
    return out;
  }

  /**
   * All parameters (see {@link Module.namedParameters}).
   *
   * @throws never.
   * @example `const opt = new SGD(model.parameters(), { lr: 0.1 });`
   */
  parameters(): Var[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /**
   * `[dottedName, module]` pairs of all descendants (not including this module).
   *
   * @throws never.
   * @example `for (const [name, m] of model.namedModules()) console.log(name, m.constructor.name);`
   */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [n, c] of this.children) {
      out.push([prefix + n, c]);
      out.push(...c.namedModules(`${prefix}${n}.`));
    }
    return out;
  }

  /**
   * Sets training mode recursively (`train(false)` is `eval()`); returns this.
   *
   * @throws never.
   * @example `model.train();`
   */
  train(mode = true): this {
    this.training = mode;
    for (const c of this.children.values()) c.train(mode);
    return this;
  }

  /**
   * Sets evaluation mode recursively; returns this.
   *
   * @throws never.
   * @example `model.eval();`
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * Clears every parameter's gradient (`.grad = null`, PyTorch's `zero_grad(set_to_none=True)`).
   *
   * @throws never.
   * @example `model.zeroGrad();`
   */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Releases the long-lived storage of every parameter (values and gradients) and buffer now, instead of
   * when the garbage collector finds the model (see `Var.dispose`). The module must not be used
   * afterwards. Dropping a model without calling it is fine too: its memory is reclaimed later.
   *
   * @throws never.
   * @example `model.dispose(); opt.dispose();`
   */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  /**
   * Copies of all parameter and persistent buffer values by dotted name, module by module: its
   * parameters, then its buffers, then its children (PyTorch's key order, e.g. `bias`,
   * `weight_orig`, `weight_mask` for a pruned Linear).
   *
   * @throws {Error} when a parameter's storage was released by `dispose()`.
   * @example `const saved = model.stateDict();`
   */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [n, t] of this.stateEntries()) sd[n] = t.clone();
    return sd;
  }

  /** The live tensors behind `stateDict()` (parameters' values and persistent buffers), in order. */
  private stateEntries(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Var>();
    const walk = (m: Module, pre: string) => {
      for (const [n, v] of m.ownParams) {
        if (seen.has(v)) continue;
        seen.add(v);
        out.push([pre + n, v.value]);
      }
      for (const [n, t] of m.ownBuffers) if (!m.transientBuffers.has(n)) out.push([pre + n, t]);
      for (const [n, c] of m.children) walk(c, `${pre}${n}.`);
    };
    walk(this, "");
    return out;
  }

  /**
   * Loads values by dotted name into the parameters and persistent buffers (copying data in
   * place, so optimizers that hold the parameters keep working), as PyTorch's `load_state_dict`,
   * with PyTorch's key names (`0.weight` in a `Sequential`, `rnn.weight_ih_l0`, BatchNorm's
   * `running_mean`/`running_var`/`num_batches_tracked`). With `strict` (default), missing and
   * unexpected keys are errors; with `strict: false` the matching keys are loaded and the others
   * reported in the result. Size mismatches are errors either way. Every problem is reported in
   * one {@link StateDictError}, as PyTorch does; nothing is written unless every check passes.
   *
   * @throws {StateDictError} listing missing and unexpected keys (with `strict`) and every size
   * mismatch; {TypeError} for a state dict that is not an object or a value that is not a Tensor.
   * @example
   * ```ts
   * model.loadStateDict(saved);
   * const { missingKeys, unexpectedKeys } = model.loadStateDict(partial, { strict: false });
   * ```
   */
  loadStateDict(sd: StateDict, opts: { strict?: boolean } = {}): LoadStateDictResult {
    if (sd === null || typeof sd !== "object" || Array.isArray(sd)) throw new TypeError(`loadStateDict: expected a state dict object (name → Tensor) (got ${sd === null ? "null" : Array.isArray(sd) ? "an array" : typeof sd})`);
    const strict = opts.strict ?? true;
    const named = new Map(this.stateEntries());
    const missingKeys = [...named.keys()].filter((k) => !Object.hasOwn(sd, k));
    const unexpectedKeys = Object.keys(sd).filter((k) => !named.has(k));
    const sizeMismatches: SizeMismatch[] = [];
    for (const [k, v] of named) {
      if (!Object.hasOwn(sd, k)) continue;
      const t = sd[k];
      if (!(t instanceof Tensor)) throw new TypeError(`loadStateDict: "${k}" must be a Tensor (got ${t === null ? "null" : typeof t})`);
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) sizeMismatches.push({ key: k, checkpoint: [...t.shape], model: [...v.shape] });
    }
    if (sizeMismatches.length > 0 || (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))) {
      throw new StateDictError(this.constructor.name, strict ? missingKeys : [], strict ? unexpectedKeys : [], sizeMismatches);
    }
    for (const [k, v] of named) {
      if (Object.hasOwn(sd, k)) v.data.set(sd[k]!.toFloat32Array(), v.offset);
    }
    return { missingKeys, unexpectedKeys };
  }

  /**
   * A one-line-per-module summary with parameter counts.
   *
   * @throws never.
   * @example
   * ```ts
   * console.log(String(new Sequential(new Linear(4, 8), new ReLU())));
   * // Sequential()
   * //   (0): Linear(in=4, out=8, bias=true)
   * //   (1): ReLU()
   * //   parameters: 40
   * ```
   */
  toString(): string {
    const lines = [`${this.constructor.name}(${this.describe()})`];
    for (const [n, c] of this.children) lines.push(`  (${n}): ${c.toString().split("\n").join("\n  ")}`);
    const total = this.parameters().reduce((s, p) => s + p.size, 0);
    if (this.children.size > 0) lines.push(`  parameters: ${total}`);
    return lines.join("\n");
  }

  /** Constructor arguments shown by `toString()`. */
  protected describe(): string {
    return "";
  }
}
