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
import { Tensor, asTensor, fmt } from "@tapegrad/tensor";
import { Node } from "./node.js";
import { runBackward, type BackwardOptions } from "./backward.js";
import { isResidentVar, setGradBufferOf, varFreeHeap, varToHeap } from "./resident.js";

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
  /** Accumulated gradient (leaves, and non-leaves after `retainGrad()`); owned by this Var. */
  grad: Tensor | null = null;
  /** Whether gradients flow to (and through) this Var. */
  readonly requiresGrad: boolean;
  /** Optional name used in messages and by optimizers/telemetry. */
  name: string | undefined;
  /** The op that produced this Var (null for leaves and constants). */
  readonly node: Node | null;
  /** @internal */ hooks: GradHook[] | null = null;
  /** @internal */ postHooks: PostAccumulateGradHook[] | null = null;
  /** @internal */ retainsGrad = false;
  /** @internal scratch for leaves during backward */ pending: Tensor | null = null;
  /** @internal */ pendingOwned = false;
  /** @internal */ visit = 0;
  /** @internal scratch: node inputs (needing grad) that consume this leaf in the current pass */ uses = 0;
  /** @internal scratch: pass in which rules may write this leaf's gradient into its buffer */ sinkOk = 0;
  /** @internal scratch: pass in which a rule wrote this leaf's gradient into its buffer */ sinkDone = 0;
  /** @internal the resident gradient buffer (see setGradBuffer) */ residentGrad: Tensor | null = null;
  /** @internal heap arrays allocated by toHeap(), freed by freeHeap() */ heapOwned: { value: Float32Array; grad: Float32Array | null } | null = null;

  constructor(value: Tensor, requiresGrad: boolean, node: Node | null = null, name?: string) {
    if (!(value instanceof Tensor)) throw new TypeError(`Var: value must be a Tensor (got ${value === null ? "null" : typeof value})`);
    this.value = value;
    this.requiresGrad = requiresGrad;
    this.node = node;
    this.name = name;
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
   * replaces the gradient. The hook must not mutate its argument.
   *
   * @throws {Error} when the Var does not require grad.
   * @example
   * ```ts
   * const h = x.registerHook((g) => clamp(g, -1, 1)); // clip the gradient into x
   * h.remove();
   * ```
   */
  registerHook(hook: GradHook): RemovableHandle {
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
   * @example
   * ```ts
   * const target = teacherLogits.detach();
   * ```
   */
  detach(): Var {
    return new Var(this.value, false, null, this.name);
  }

  /**
   * Sets `.grad` to null (what PyTorch's `zero_grad(set_to_none=True)` does). A resident
   * gradient buffer (see {@link Var.setGradBuffer}) is kept: the next `backward` writes into it
   * again instead of allocating, so the gradient stays where the optimizer's in-place kernels
   * expect it.
   *
   * @example
   * ```ts
   * w.zeroGrad();
   * ```
   */
  zeroGrad(): void {
    this.grad = null;
  }

  /**
   * The resident gradient buffer of this leaf, or null (see {@link Var.setGradBuffer}).
   *
   * @example
   * ```ts
   * model.toHeap(); w.gradBuffer; // a Tensor in the wasm heap
   * ```
   */
  get gradBuffer(): Tensor | null {
    return this.residentGrad;
  }

  /**
   * Gives this leaf a persistent gradient buffer (or removes it with `null`): from then on
   * `backward` puts this leaf's gradient into `buffer` (in place: copied there, summed there
   * when accumulating, or written there directly by the rule that computes it, e.g. the weight
   * GEMM of `linear`) and sets `.grad` to it, instead of allocating a new tensor each pass;
   * `zeroGrad()` sets `.grad` to null but keeps the buffer. Values are identical to the
   * non-resident path. The gradient tensor is therefore reused: clone it to keep a gradient
   * across passes. A current gradient is copied into the new buffer; when the buffer is removed,
   * a `.grad` that is the buffer is replaced by a copy. Usually set through {@link Var.toHeap}.
   *
   * @throws {Error} for non-leaf Vars or Vars that do not require grad.
   * @throws {ShapeError} when `buffer` is not a contiguous tensor of this Var's shape.
   * @throws {RangeError} when `buffer` shares storage with the value.
   * @example
   * ```ts
   * w.setGradBuffer(heapZeros(w.shape)); // gradients of w now land in the wasm heap
   * ```
   */
  setGradBuffer(buffer: Tensor | null): this {
    setGradBufferOf(this, buffer);
    return this;
  }

  /**
   * Moves this leaf into the wasm heap (`heapAlloc`): its value is replaced by a heap copy (same
   * contents; re-read `.value`) and, when it requires grad, a heap gradient buffer is installed
   * ({@link Var.setGradBuffer}), so optimizers, clipping and matmul work on both in place. Where
   * the heap is unavailable or full, ordinary arrays are used instead (everything still works;
   * `isResident` tells). A no-op when already moved. Free with {@link Var.freeHeap}.
   *
   * @throws {Error} for non-leaf Vars.
   * @example
   * ```ts
   * const w = variable(randn([256, 784])).toHeap();
   * w.isResident; // true where WebAssembly SIMD works
   * ```
   */
  toHeap(): this {
    varToHeap(this);
    return this;
  }

  /**
   * Undoes {@link Var.toHeap}: the value (and a gradient held in the buffer) move back to
   * ordinary arrays, the buffer is removed and the heap memory is freed. Tensors that still view
   * the old heap arrays (e.g. a graph recorded before) must not be used afterwards. A no-op for
   * Vars that were not moved.
   *
   * @throws never.
   * @example
   * ```ts
   * w.freeHeap();
   * ```
   */
  freeHeap(): this {
    varFreeHeap(this);
    return this;
  }

  /**
   * True when the value and the gradient buffer (if the Var requires grad) live in the wasm heap,
   * so kernels use them in place.
   *
   * @example
   * ```ts
   * variable(zeros([3])).toHeap().isResident; // true where WebAssembly SIMD works
   * ```
   */
  get isResident(): boolean {
    return isResidentVar(this);
  }

  /** A short description for messages, e.g. `Var "w" [2,3]`. */
  describe(): string {
    const kind = this.isLeaf ? "leaf Var" : `Var from ${this.node!.op}`;
    return `${kind}${this.name ? ` "${this.name}"` : ""} ${fmt(this.shape)}`;
  }

  /** The value's text with the Var's flags. */
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
 * copied into fresh contiguous storage, so optimizer updates never touch the caller's data.
 *
 * @throws {TypeError} for a value that is not a Tensor or number.
 * @example
 * ```ts
 * const w = variable(randn([3, 2]), { name: "w" });
 * ```
 */
export function variable(value: Tensor | number, opts: { name?: string; requiresGrad?: boolean } = {}): Var {
  const t = asTensor(value, "variable").clone();
  return new Var(t, opts.requiresGrad ?? true, null, opts.name);
}

/**
 * Creates a leaf Var that does not require grad (data, targets, masks). Shares the tensor.
 *
 * @example
 * ```ts
 * const x = constant(tensor([[1, 2]]));
 * ```
 */
export function constant(value: Tensor | number, name?: string): Var {
  return new Var(asTensor(value, "constant"), false, null, name);
}
