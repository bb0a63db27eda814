/**
 * @file The per-call state of a backward pass ({@link GraphTask}) and the two buffer-ownership
 * optimisations beside the walk of `backward.ts`:
 *
 * - **In-place accumulation.** A pending gradient the pass allocated (or a `freshGrads` rule
 *   returned) is "owned": only this pass holds it, so later contributions are added into it in
 *   place, and the rule that consumes it may overwrite it (`dyOwned`). Anything user code has
 *   seen (the seed, hook arguments, captured and retained gradients) is never written.
 * - **Gradient storage** (PyTorch's AccumulateGrad). A leaf's new gradient goes into the storage
 *   the leaf keeps across steps (allocated once, long-lived, see `Var`), so steps allocate no
 *   gradients; when the leaf has one consumer, no hooks and an empty `.grad`, the consuming rule
 *   may write the gradient there directly (`gradInto`, e.g. the weight GEMM of `linear`), which
 *   nothing can observe. A pass takes such storage from the leaf until its leaf phase, so a
 *   backward pass run meanwhile (from a hook) never writes into it.
 */
import { Tensor, add, addInto, copyInto, dispose, shapesEqual, zeros } from "@tapegrad/tensor";
import type { Node } from "./node.js";
import type { Var } from "./var.js";
import type { RegionGrad } from "./rule.js";

/** What gradients are pending for: a node's output, or a leaf. */
type Holder = Node | Var;

/**
 * The state of one backward call: pending gradients, which of them the pass owns, what user
 * code has seen, the gradients to return (capture) and the leaves' gradient sinks.
 *
 * @throws never when constructed; `send` and `sendRegion` throw `ShapeError` for a gradient that
 * does not fit its holder.
 * @example
 * ```ts
 * const task = new GraphTask(false, undefined);
 * task.send(root.node!, ones([]), false);
 * ```
 */
export class GraphTask {
  /** Gradient summed so far for each node output and leaf. */
  readonly pending = new Map<Holder, Tensor>();
  /** Holders whose pending buffer only this pass holds. */
  readonly owned = new Set<Holder>();
  /** Storage user code can see: never written in place, never adopted as a leaf's storage. */
  readonly visible = new Set<Float32Array>();
  /** The Vars whose gradients are returned instead of accumulated, or null. */
  readonly capture: ReadonlySet<Var> | null;
  /** The captured gradients. */
  readonly captured = new Map<Var, Tensor>();
  /** Leaf → the gradient storage its consuming rule may write into. */
  private readonly sinks = new Map<Var, Tensor>();
  /** Leaf → storage its rule wrote (its whole gradient), held by the pass until the leaf phase. */
  private readonly written = new Map<Var, Tensor>();

  /**
   * @param retain keep the graph (do not release the nodes walked).
   * @param capture the Vars whose gradients to return instead of accumulating them, or undefined.
   * @throws never.
   * @example
   * ```ts
   * const task = new GraphTask(opts.retainGraph ?? false, capture); // as each backward pass starts
   * ```
   */
  constructor(readonly retain: boolean, capture: readonly Var[] | undefined) {
    this.capture = capture ? new Set(capture) : null;
  }

  /**
   * Adds `g` to `holder`'s pending gradient (`fresh`: a buffer nobody else holds).
   *
   * @throws {ShapeError} (from `add`) when `g` does not broadcast to the pending gradient's
   * shape; never for gradients of the holder's shape.
   * @example
   * ```ts
   * task.send(input.node ?? input, dx, rule.freshGrads === true);
   * ```
   */
  send(holder: Holder, g: Tensor, fresh: boolean): void {
    const prev = this.pending.get(holder);
    if (prev === undefined) {
      this.pending.set(holder, g);
      if (fresh) this.owned.add(holder);
      else this.owned.delete(holder);
    } else if (this.owned.has(holder) && prev.isContiguous) add(prev, g, prev);
    else {
      this.pending.set(holder, add(prev, g));
      this.owned.add(holder);
    }
  }

  /**
   * Adds a gradient that is zero outside one region into an owned full-size buffer.
   *
   * @throws {ShapeError} when `g.values` does not broadcast to the region (from `addInto`), or
   * whatever `g.region` throws for a buffer of `shape`.
   * @example
   * ```ts
   * task.sendRegion(holder, x.shape, new RegionGrad(dy, (buf) => buf.select(0, 3)));
   * ```
   */
  sendRegion(holder: Holder, shape: readonly number[], g: RegionGrad): void {
    let buf = this.pending.get(holder);
    if (buf === undefined || !this.owned.has(holder)) {
      buf = buf === undefined ? zeros(shape) : buf.clone();
      this.pending.set(holder, buf);
      this.owned.add(holder);
    }
    addInto(g.values, g.region(buf));
  }

  /** Removes and returns `holder`'s pending gradient (null when none arrived). @throws never. @example `const dy = task.take(node); // null: no gradient reached this node` */
  take(holder: Holder): Tensor | null {
    const g = this.pending.get(holder);
    if (g === undefined) return null;
    this.pending.delete(holder);
    return g;
  }

  /** A leaf's total gradient: the storage its rule wrote, or what was sent to it. @throws never. @example `const g = task.takeLeaf(w); if (g) accumulateGrad(task, w, g);` */
  takeLeaf(leaf: Var): Tensor | null {
    return this.written.get(leaf) ?? this.take(leaf);
  }

  /** Plans a sink: `leaf`'s consuming rule may write its gradient into `storage`. @throws never. @example `task.planSink(w, w.gradStorage!)` */
  planSink(leaf: Var, storage: Tensor): void {
    this.sinks.set(leaf, storage);
  }

  /**
   * The `gradInto` buffers for `node`'s inputs, or undefined when none applies. A planned sink
   * still applies only if no other pass has given the leaf a gradient meanwhile.
   *
   * @throws never.
   * @example
   * ```ts
   * const gradInto = task.sinksOf(node); // becomes the rule's ctx.gradInto
   * ```
   */
  sinksOf(node: Node): (Tensor | null)[] | undefined {
    if (this.sinks.size === 0) return undefined;
    let into: (Tensor | null)[] | undefined;
    node.inputs.forEach((v, i) => {
      const s = v === null ? undefined : this.sinks.get(v);
      if (s !== undefined && v!.gradValue === null && v!.gradStorage === s) (into ??= new Array<Tensor | null>(node.inputs.length).fill(null))[i] = s;
    });
    return into;
  }

  /** Records that `leaf`'s rule wrote its gradient into the planned sink, taking the storage from the leaf meanwhile. @throws never. @example `if (grads[i] === GRAD_WRITTEN) task.wrote(node.inputs[i]!)` */
  wrote(leaf: Var): void {
    const storage = this.sinks.get(leaf)!;
    this.sinks.delete(leaf);
    this.written.set(leaf, storage);
    leaf.gradStorage = null;
  }

  /** True when `g` is storage a rule wrote for `leaf` in this pass. @throws never. @example `task.isWritten(w, g) // true: copying g into w's storage is not needed` */
  isWritten(leaf: Var, g: Tensor): boolean {
    return this.written.get(leaf) === g;
  }
}

/**
 * Plans the sinks of a pass: leaves with one consuming input slot, no hooks, no gradient yet and
 * gradient storage of their shape.
 *
 * @throws never.
 * @example
 * ```ts
 * planSinks(task, leaves, uses);
 * ```
 */
export function planSinks(task: GraphTask, leaves: readonly Var[], uses: ReadonlyMap<Var, number>): void {
  for (const leaf of leaves) {
    const s = leaf.gradStorage;
    if (s !== null && leaf.gradValue === null && uses.get(leaf) === 1 && !(leaf.hooks && leaf.hooks.length > 0) && shapesEqual(s.shape, leaf.shape)) task.planSink(leaf, s);
  }
}

/**
 * PyTorch's AccumulateGrad: adds a leaf's total gradient `g` of this pass to `.grad`. An empty
 * `.grad` gets the leaf's gradient storage (allocated once as long-lived storage, reused while
 * no user code has seen it), with `g` copied in unless the rule already wrote it there; an
 * existing gradient is summed into in place when it is contiguous and nothing this pass exposed.
 *
 * @throws never for consistent shapes.
 * @example
 * ```ts
 * accumulateGrad(task, w, g);
 * ```
 */
export function accumulateGrad(task: GraphTask, leaf: Var, g: Tensor): void {
  const cur = leaf.gradValue;
  const written = task.isWritten(leaf, g);
  if (cur === null) {
    let store = written ? g : leaf.gradStorage;
    if (store === null || store.isDisposed || !shapesEqual(store.shape, leaf.shape) || task.visible.has(store.data)) store = zeros(leaf.shape, { persistent: true });
    if (store !== g) copyInto(g, store);
    leaf.gradStorage = store;
    leaf.gradValue = store;
  } else {
    if (cur.isContiguous && !task.visible.has(cur.data)) add(cur, g, cur);
    else leaf.gradValue = add(cur, g);
    // A sink another pass overtook (it gave the leaf a gradient meanwhile): nobody else holds it.
    if (written) dispose(g.data);
  }
  task.visible.add(leaf.gradValue!.data);
}

/**
 * Stores a non-leaf's gradient in its `.grad` (after `retainGrad()`): adopted when the pass may
 * hand it out, else copied; summed in place into a gradient retained by an earlier pass.
 *
 * @throws never for consistent shapes.
 * @example
 * ```ts
 * keepRetained(task, h, dy);
 * ```
 */
export function keepRetained(task: GraphTask, v: Var, g: Tensor): void {
  const prev = v.gradValue;
  let next: Tensor;
  if (prev === null) next = g.isContiguous && g.offset === 0 && g.data.length === g.size && !task.visible.has(g.data) ? g : g.clone();
  else if (prev.isContiguous && !task.visible.has(prev.data)) next = add(prev, g, prev);
  else next = add(prev, g);
  v.gradValue = next;
  task.visible.add(next.data);
}
