/**
 * @file `Var` (a tensor that can take part in differentiation) and the tape that records ops.
 *
 * Every op applied to a `Var` that requires grad (outside {@link noGrad}) records a {@link Node}:
 * the op's rule, its input `Var`s, its attributes and what its backward needs. Nodes carry a
 * monotonically increasing sequence number, so the nodes reachable from a loss, sorted by that
 * number, are exactly the recorded tape in execution order; `backward` walks them in reverse with
 * a plain loop. Nothing global keeps nodes alive: a graph that is never backpropagated is freed by
 * the garbage collector like any other object, and `backward` releases the graph it walked.
 */
import { Tensor, asTensor, dispose, fmt } from "@tapegrad/tensor";
import { Node } from "./node.js";
import { runBackward, type BackwardOptions } from "./backward.js";

export { Node } from "./node.js";
export { isGradEnabled, noGrad, enableGrad } from "./grad-mode.js";

/** Handle returned by hook registration; `remove()` unregisters the hook. */
export interface RemovableHandle {
  remove(): void;
}

/** A gradient hook: sees the gradient flowing into a `Var`; may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | void | undefined;

/** A post-accumulate hook: runs after a leaf's `.grad` has been updated. */
export type PostAccumulateGradHook = (v: Var) => void;

/**
 * A tensor value plus what differentiation needs: `grad` (accumulated by `backward` for leaves),
 * `requiresGrad`, the recording `node` (null for leaves) and hooks.
 *
 * Gradient storage: `backward` writes a leaf's new gradient into a buffer the leaf keeps from one
 * step to the next (long-lived storage, where the kernels use it in place), so a training step
 * allocates no gradients. Reading `.grad` hands that tensor over to the caller: from then on the
 * engine never writes into it again (the next gradient after `zeroGrad()` gets fresh storage), so
 * a gradient you read stays what it was, as in PyTorch. Optimizers and clipping, which only use the
 * gradient within a step, read it with {@link Var.borrowGrad} and leave the storage to be reused.
 *
 * @throws {TypeError} from the constructor when `value` is not a Tensor, and on assigning a
 * non-Tensor to `grad`; the methods document their own.
 * @example
 * ```ts
 * const w = variable(tensor([[1, 2]]), { name: "w" });
 * const loss = sum(mul(w, w));
 * loss.backward();
 * w.grad!.toArray(); // [[2, 4]]
 * ```
 */
export class Var {
  /** The value. Optimizers update leaf values in place (`value.data`). */
  value: Tensor;
  /** Whether gradients flow to (and through) this Var. */
  readonly requiresGrad: boolean;
  /** Optional name used in messages and by optimizers/telemetry. */
  name: string | undefined;
  /** The op that produced this Var (null for leaves and constants). */
  readonly node: Node | null;
  /** @internal */ hooks: GradHook[] | null = null;
  /** @internal */ postHooks: PostAccumulateGradHook[] | null = null;
  /** @internal */ retainsGrad = false;
  /** @internal the current gradient (see `grad`) */ gradValue: Tensor | null = null;
  /** @internal storage `backward` may write this leaf's next gradient into; no user code has seen it */ gradStorage: Tensor | null = null;
  /** @internal storage `variable()` allocated for the value (released by `dispose()`) */ ownedValue: Float32Array | null = null;

  constructor(value: Tensor, requiresGrad: boolean, node: Node | null = null, name?: string) {
    if (!(value instanceof Tensor)) throw new TypeError(`Var: value must be a Tensor (got ${value === null ? "null" : typeof value})`);
    this.value = value;
    this.requiresGrad = requiresGrad;
    this.node = node;
    this.name = name;
  }

  /**
   * Accumulated gradient (leaves, and non-leaves after `retainGrad()`), or null. Reading it hands
   * the tensor over: `backward` will not write into it again (see the class comment). Assign a
   * tensor (or null) to replace it; optimizers and clipping then edit the assigned tensor in place.
   *
   * @throws {TypeError} on assigning something that is neither a Tensor nor null; reading never
   * throws.
   * @example
   * ```ts
   * loss.backward();
   * const g = w.grad; // yours to keep: the next backward writes elsewhere
   * w.grad = null; // or assign a tensor of w's shape
   * ```
   */
  get grad(): Tensor | null {
    if (this.gradValue !== null && this.gradValue === this.gradStorage) this.gradStorage = null;
    return this.gradValue;
  }

  set grad(g: Tensor | null) {
    if (g !== null && !(g instanceof Tensor)) throw new TypeError(`grad: expected a Tensor or null for ${this.describe()} (got ${typeof g})`);
    this.gradValue = g;
  }

  /** True for Vars not produced by a recorded op (parameters, inputs, constants). */
  get isLeaf(): boolean {
    return this.node === null;
  }
  /** Shape of the value. */
  get shape(): readonly number[] {
    return this.value.shape;
  }
  /** Rank of the value. */
  get ndim(): number {
    return this.value.ndim;
  }
  /** Number of elements. */
  get size(): number {
    return this.value.size;
  }

  /**
   * The single value of a one-element Var.
   *
   * @throws {ShapeError} when the Var holds more than one element.
   * @example
   * ```ts
   * loss.item(); // 0.25
   * ```
   */
  item(): number {
    return this.value.item();
  }

  /**
   * The current gradient for use within this step, without taking it over (optimizers and
   * clipping read and edit gradients this way): unlike reading `.grad`, it leaves the storage to
   * `backward`, which writes the next gradient into it after `zeroGrad()`. Do not keep it.
   *
   * @throws never.
   * @example
   * ```ts
   * const g = w.borrowGrad(); // e.g. inside an optimizer's step
   * ```
   */
  borrowGrad(): Tensor | null {
    return this.gradValue;
  }

  /**
   * Backpropagates from this Var; see {@link backward}.
   *
   * @throws {ShapeError} for a non-scalar Var without a seed; {Error} for a freed graph.
   * @example
   * ```ts
   * loss.backward();
   * ```
   */
  backward(seed?: Tensor | number, opts: BackwardOptions = {}): void {
    runBackward(this, seed, opts);
  }

  /**
   * Registers `hook(grad)`, called with the total gradient flowing into this Var during each
   * backward pass (for leaves: before it is added to `.grad`). A returned tensor of the same shape
   * replaces the gradient. The hook must not mutate its argument. Hooks may run backward passes
   * of their own (autograd is re-entrant).
   *
   * @throws {Error} when the Var does not require grad.
   * @example
   * ```ts
   * const h = x.registerHook((g) => clamp(g, -1, 1)); // clip the gradient into x
   * h.remove();
   * ```
   */
  registerHook(hook: GradHook): RemovableHandle {
    if (typeof hook !== "function") throw new TypeError(`registerHook: hook must be a function (got ${hook === null ? "null" : typeof hook})`);
    if (!this.requiresGrad) throw new Error(`registerHook: cannot register a hook on ${this.describe()}, which does not require grad`);
    const list = (this.hooks ??= []);
    list.push(hook);
    return { remove: () => removeFrom(list, hook) };
  }

  /**
   * Registers `hook(var)`, called after this leaf's `.grad` has been updated by a backward pass
   * (e.g. to apply an optimizer step inside backward, or to log the accumulated gradient).
   *
   * @throws {Error} for non-leaf Vars or Vars that do not require grad.
   * @example
   * ```ts
   * w.registerPostAccumulateGradHook((p) => console.log(p.name, p.grad));
   * ```
   */
  registerPostAccumulateGradHook(hook: PostAccumulateGradHook): RemovableHandle {
    if (typeof hook !== "function") throw new TypeError(`registerPostAccumulateGradHook: hook must be a function (got ${hook === null ? "null" : typeof hook})`);
    if (!this.isLeaf || !this.requiresGrad) {
      throw new Error(`registerPostAccumulateGradHook: only leaf Vars that require grad accumulate gradients (got ${this.describe()})`);
    }
    const list = (this.postHooks ??= []);
    list.push(hook);
    return { remove: () => removeFrom(list, hook) };
  }

  /**
   * Makes `backward` store this non-leaf Var's gradient in `.grad` too.
   *
   * @throws never.
   * @example
   * ```ts
   * const h = tanh(x); h.retainGrad(); loss.backward(); h.grad; // set
   * ```
   */
  retainGrad(): this {
    if (this.requiresGrad) this.retainsGrad = true;
    return this;
  }

  /**
   * A Var sharing this value that is cut off from the graph (no grad flows through it).
   *
   * @throws never.
   * @example
   * ```ts
   * const target = teacherLogits.detach();
   * ```
   */
  detach(): Var {
    return new Var(this.value, false, null, this.name);
  }

  /**
   * Sets `.grad` to null (what PyTorch's `zero_grad(set_to_none=True)` does). A gradient nobody
   * has read keeps its storage for the next `backward` (see the class comment).
   *
   * @throws never.
   * @example
   * ```ts
   * w.zeroGrad();
   * ```
   */
  zeroGrad(): void {
    this.gradValue = null;
  }

  /**
   * Releases the long-lived storage this Var's value (from `variable()`) and gradient occupy now,
   * instead of when the garbage collector finds them (see `@tapegrad/tensor`'s memory notes).
   * Afterwards the Var must not be used; ops on its value throw. Idempotent.
   *
   * @throws never.
   * @example
   * ```ts
   * w.dispose();
   * ```
   */
  dispose(): void {
    if (this.gradStorage !== null) dispose(this.gradStorage.data);
    if (this.gradValue !== null && this.gradValue.data === this.gradStorage?.data) this.gradValue = null;
    this.gradStorage = null;
    if (this.ownedValue !== null) dispose(this.ownedValue);
    this.ownedValue = null;
  }

  /**
   * A short description for messages, e.g. `leaf Var "w" [2,3]`.
   *
   * @throws never.
   * @example
   * ```ts
   * variable(zeros([2, 3]), { name: "w" }).describe(); // 'leaf Var "w" [2,3]'
   * ```
   */
  describe(): string {
    const kind = this.isLeaf ? "leaf Var" : `Var from ${this.node!.op}`;
    return `${kind}${this.name ? ` "${this.name}"` : ""} ${fmt(this.shape)}`;
  }

  /**
   * The value's text with the Var's flags.
   *
   * @throws {Error} when the value's storage was released by `dispose()`.
   * @example
   * ```ts
   * String(variable(tensor([1, 2]), { name: "b" })); // 'Var(tensor([1, 2], shape=[2]), requiresGrad, name="b")'
   * ```
   */
  toString(): string {
    return `Var(${this.value.toString()}${this.requiresGrad ? ", requiresGrad" : ""}${this.name ? `, name="${this.name}"` : ""})`;
  }
}

function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

/**
 * Creates a leaf Var that requires grad (a parameter or an input to differentiate). The value is
 * copied into fresh contiguous long-lived storage (placed where the kernels use it in place), so
 * optimizer updates never touch the caller's data; `dispose()` releases it early.
 *
 * @throws {TypeError} for a value that is not a Tensor or number.
 * @example
 * ```ts
 * const w = variable(randn([3, 2]), { name: "w" });
 * ```
 */
export function variable(value: Tensor | number, opts: { name?: string; requiresGrad?: boolean } = {}): Var {
  const t = asTensor(value, "variable").clone({ persistent: true });
  const v = new Var(t, opts.requiresGrad ?? true, null, opts.name);
  v.ownedValue = t.data;
  return v;
}

/**
 * Creates a leaf Var that does not require grad (data, targets, masks). Shares the tensor.
 *
 * @throws {TypeError} for a value that is not a Tensor or number; {Error} for a tensor released by
 * `dispose()`.
 * @example
 * ```ts
 * const x = constant(tensor([[1, 2]]));
 * ```
 */
export function constant(value: Tensor | number, name?: string): Var {
  return new Var(asTensor(value, "constant"), false, null, name);
}
