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
import { Tensor, asTensor, shapeSize, fmt } from "@tapegrad/tensor";
import type { OpRule } from "./rule.js";
import { runBackward, type BackwardOptions } from "./backward.js";

/** Handle returned by hook registration; `remove()` unregisters the hook. */
export interface RemovableHandle {
  remove(): void;
}

/** A gradient hook: sees the gradient flowing into a `Var`; may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | void | undefined;

/** A post-accumulate hook: runs after a leaf's `.grad` has been updated. */
export type PostAccumulateGradHook = (v: Var) => void;

/** One recorded op: its rule, inputs, attributes and saved data. Internal to the engine. */
export class Node {
  /** Position on the tape (execution order). */
  readonly seq: number;
  /** Op name, for messages. */
  readonly op: string;
  rule: OpRule<any, any> | null;
  inputs: (Var | null)[];
  needs: boolean[];
  attrs: unknown;
  saved: unknown;
  /** Input and output values, when the rule's backward needs them. */
  xs: readonly Tensor[] | null;
  y: Tensor | null;
  /** Set once `backward` has released this node. */
  freed = false;
  /** Scratch: the gradient accumulated for this node's output during a backward pass. */
  pending: Tensor | null = null;
  /** Scratch: true when `pending` is a buffer the engine allocated (safe to add into in place). */
  pendingOwned = false;
  /** Scratch: marks nodes already collected by the current backward pass. */
  visit = 0;
  /** The Var this node produced (for its hooks and retained gradient). */
  out: Var | null = null;

  constructor(seq: number, op: string, rule: OpRule<any, any>, inputs: (Var | null)[], needs: boolean[], attrs: unknown, saved: unknown, xs: readonly Tensor[], y: Tensor) {
    this.seq = seq;
    this.op = op;
    this.rule = rule;
    this.inputs = inputs;
    this.needs = needs;
    this.attrs = attrs;
    this.saved = saved;
    this.xs = xs;
    this.y = y;
  }

  /** Drops everything the node holds (called by `backward` unless the graph is retained). */
  release(): void {
    this.freed = true;
    this.rule = null;
    this.inputs = [];
    this.attrs = null;
    this.saved = null;
    this.xs = null;
    this.y = null;
    this.pending = null;
    this.out = null;
  }
}

let sequence = 0;
let gradEnabled = true;

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
   * Sets `.grad` to null (what PyTorch's `zero_grad(set_to_none=True)` does).
   *
   * @example
   * ```ts
   * w.zeroGrad();
   * ```
   */
  zeroGrad(): void {
    this.grad = null;
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

/** Anything an op accepts as an input: a Var, a Tensor (constant) or a number (0-d constant). */
export type VarLike = Var | Tensor | number;

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

/**
 * Lifts an op input to a Var (Tensors and numbers become constants).
 *
 * @throws {TypeError} for anything else.
 * @example
 * ```ts
 * toVar(2).shape; // []
 * ```
 */
export function toVar(x: VarLike, op = "op"): Var {
  if (x instanceof Var) return x;
  if (x instanceof Tensor || typeof x === "number") return new Var(asTensor(x, op), false);
  throw new TypeError(`${op}: expected a Var, Tensor or number (got ${x === null ? "null" : typeof x})`);
}

/**
 * True while ops are being recorded (false inside {@link noGrad}).
 *
 * @example
 * ```ts
 * isGradEnabled(); // true
 * ```
 */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording ops (evaluation, parameter updates). Synchronous only: the mode is
 * restored when `fn` returns or throws. Nests.
 *
 * @example
 * ```ts
 * const logits = noGrad(() => model.forward(x)); // no graph is built
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Runs `fn` with recording on, even inside {@link noGrad}.
 *
 * @example
 * ```ts
 * noGrad(() => enableGrad(() => sum(mul(w, w))));
 * ```
 */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Runs an op: computes the forward value with `rule.forward` on plain tensors and, when any input
 * requires grad and recording is on, records a node for `backward`. This is how every op (and any
 * custom op) is built.
 *
 * @throws whatever the forward computation throws (e.g. ShapeError).
 * @example
 * ```ts
 * const out = apply("mul", mulRule, {}, [a, b]);
 * ```
 */
export function apply<A, S>(op: string, rule: OpRule<A, S>, attrs: A, inputs: readonly VarLike[]): Var {
  const vars = inputs.map((x) => toVar(x, op));
  const xs = vars.map((v) => v.value);
  const res = rule.forward(xs, attrs);
  const y = res instanceof Tensor ? res : res.value;
  let needsAny = false;
  const needs = vars.map((v) => {
    const n = gradEnabled && v.requiresGrad;
    needsAny ||= n;
    return n;
  });
  if (!needsAny) return new Var(y, false);
  const saved = res instanceof Tensor ? undefined : res.saved;
  const node = new Node(++sequence, op, rule, vars.map((v, i) => (needs[i] ? v : null)), needs, attrs, saved, xs, y);
  const out = new Var(y, true, node);
  node.out = out;
  return out;
}

/** Internal: number of elements of a shape (re-exported helper for rules). */
export const sizeOf = shapeSize;
