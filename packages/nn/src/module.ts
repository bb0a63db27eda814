/**
 * @file `Module`: the base of every layer. A module owns named parameters (leaf `Var`s) and named
 * sub-modules; `parameters()`/`namedParameters()` walk the tree in registration order with
 * dotted names (`"fc1.weight"`), `train()`/`eval()` switch modes recursively, and
 * `stateDict()`/`loadStateDict()` save and restore values with shape checks — the same names and
 * layouts as PyTorch, so weights can be exchanged.
 */
import { Tensor, ShapeError, fmt } from "@tapegrad/tensor";
import { Var, variable } from "@tapegrad/autograd";

/** Parameter values by dotted name. */
export type StateDict = Record<string, Tensor>;

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
  private readonly children = new Map<string, Module>();

  /**
   * Runs the module.
   *
   * @throws whatever the subclass's computation throws (typically {@link ShapeError} for an input
   * of the wrong shape, `TypeError` for an input that is not a Var, Tensor or number).
   * @example
   * ```ts
   * const logits = model.forward(constant(batch.x));
   * ```
   */
  abstract forward(...inputs: unknown[]): unknown;

  /**
   * Registers a parameter (a fresh leaf Var that requires grad, holding a copy of `value`).
   *
   * @throws {Error} when the name is taken or contains a dot.
   * @example
   * ```ts
   * this.weight = this.addParameter("weight", zeros([3, 4]));
   * ```
   */
  protected addParameter(name: string, value: Tensor): Var {
    this.checkName(name);
    const v = variable(value, { name });
    this.ownParams.set(name, v);
    return v;
  }

  /**
   * Registers a child module under `name` and returns it.
   *
   * @throws {Error} when the name is taken or contains a dot.
   * @example
   * ```ts
   * this.fc = this.addModule("fc", new Linear(4, 2));
   * ```
   */
  protected addModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    if (!(module instanceof Module)) throw new TypeError(`addModule: "${name}" must be a Module`);
    this.children.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (!name || name.includes(".")) throw new Error(`Module: invalid name "${name}" (non-empty, no dots)`);
    if (this.ownParams.has(name) || this.children.has(name)) throw new Error(`Module: "${name}" is already registered`);
  }

  /**
   * `[dottedName, parameter]` pairs of this module and all descendants, in registration order
   * (a parameter shared by two modules is listed once).
   *
   * @throws never.
   * @example
   * ```ts
   * model.namedParameters().map(([n]) => n); // ["fc1.weight", "fc1.bias", ...]
   * ```
   */
  namedParameters(prefix = ""): [string, Var][] {
    const out: [string, Var][] = [];
    const seen = new Set<Var>();
    const walk = (m: Module, pre: string) => {
      for (const [n, v] of m.ownParams) {
        if (seen.has(v)) continue;
        seen.add(v);
        out.push([pre + n, v]);
      }
      for (const [n, c] of m.children) walk(c, `${pre}${n}.`);
    };
    walk(this, prefix);
    return out;
  }

  /**
   * All parameters (see {@link Module.namedParameters}).
   *
   * @throws never.
   * @example
   * ```ts
   * const opt = new SGD(model.parameters(), { lr: 0.1 });
   * ```
   */
  parameters(): Var[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /**
   * `[dottedName, module]` pairs of all descendants (not including this module).
   *
   * @throws never.
   * @example
   * ```ts
   * for (const [name, m] of model.namedModules()) console.log(name, m.constructor.name);
   * ```
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
   * @example
   * ```ts
   * model.train();
   * ```
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
   * @example
   * ```ts
   * model.eval();
   * ```
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * Clears every parameter's gradient (`.grad = null`, PyTorch's `zero_grad(set_to_none=True)`).
   *
   * @throws never.
   * @example
   * ```ts
   * model.zeroGrad();
   * ```
   */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Releases the long-lived storage of every parameter (values and gradients) now, instead of
   * when the garbage collector finds the model (see `Var.dispose`). The module must not be used
   * afterwards. Dropping a model without calling it is fine too: its memory is reclaimed later.
   *
   * @throws never.
   * @example
   * ```ts
   * model.dispose(); opt.dispose();
   * ```
   */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }

  /**
   * Copies of all parameter values by dotted name.
   *
   * @throws {Error} when a parameter's storage was released by `dispose()`.
   * @example
   * ```ts
   * const saved = model.stateDict();
   * ```
   */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [n, v] of this.namedParameters()) sd[n] = v.value.clone();
    return sd;
  }

  /**
   * Loads values by dotted name into the parameters (copying data in place, so optimizers that
   * hold the parameters keep working). With `strict` (default), missing and unexpected keys are
   * errors; shapes must always match.
   *
   * @throws {ShapeError} for a shape mismatch; {Error} for missing/unexpected keys.
   * @example
   * ```ts
   * model.loadStateDict(saved);
   * ```
   */
  loadStateDict(sd: StateDict, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const named = new Map(this.namedParameters());
    const missing = [...named.keys()].filter((k) => !(k in sd));
    const unexpected = Object.keys(sd).filter((k) => !named.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      const parts = [];
      if (missing.length) parts.push(`missing keys ${JSON.stringify(missing)}`);
      if (unexpected.length) parts.push(`unexpected keys ${JSON.stringify(unexpected)}`);
      throw new Error(`loadStateDict: ${parts.join("; ")}`);
    }
    for (const [k, v] of named) {
      const t = sd[k];
      if (t === undefined) continue;
      if (!(t instanceof Tensor)) throw new TypeError(`loadStateDict: "${k}" must be a Tensor`);
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
        throw new ShapeError("loadStateDict", `shape mismatch for "${k}": the model has ${fmt(v.shape)}`, [t.shape, v.shape]);
      }
    }
    for (const [k, v] of named) {
      const t = sd[k];
      if (t !== undefined) v.value.data.set(t.toFloat32Array(), v.value.offset);
    }
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
