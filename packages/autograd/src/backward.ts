/**
 * @file Reverse-mode accumulation over the recorded tape.
 *
 * `runBackward` is the textbook algorithm:
 * 1. collect the nodes reachable from the root and sort them newest first (the tape in reverse;
 *    an explicit stack, no recursion: a 100,000-op chain is fine);
 * 2. seed the root with ∂root/∂root;
 * 3. walk the nodes with a plain loop: a node's output gradient is complete when it is reached
 *    (every consumer was recorded later), so its hooks run, its rule maps it to one gradient per
 *    input, and those are summed into the inputs' pending gradients;
 * 4. give each leaf its total: hooks, accumulation into `.grad`, post-accumulate hooks.
 *
 * Everything about one call lives in a {@link GraphTask} (PyTorch's idea): pending gradients,
 * which buffers the pass may overwrite, which buffers user code has seen. Nodes and Vars hold no
 * per-pass state, so a hook may run other backward passes, even over graphs sharing leaves
 * (autograd is re-entrant). Unless `retainGraph`, every walked node releases its inputs and saved
 * tensors, so the graph's memory can be reclaimed; walking it again is an error.
 *
 * The two optimisations are named helpers beside the walk (`ownership.ts`): buffers only the pass
 * holds are summed into in place and may be overwritten by the next rule (`dyOwned`); and a
 * leaf's gradient lands in the leaf's reused gradient storage (PyTorch's AccumulateGrad), written
 * there directly by the rule that computes it when nothing else can observe it (`gradInto`).
 */
import { Tensor, ShapeError, asTensor, broadcastShapes, fmt, full, internalError, shapesEqual, sum } from "@tapegrad/tensor";
import type { Node } from "./node.js";
import type { Var } from "./var.js";
import { GRAD_WRITTEN, RegionGrad } from "./rule.js";
import { GraphTask, accumulateGrad, keepRetained, planSinks } from "./ownership.js";

/**
 * A per-call observer of a backward walk (used by per-sample gradients): sees each node and its
 * complete output gradient before the node's rule runs, and may narrow which inputs the rule
 * computes gradients for. A node it returns a mask for never gets an owned `dy`, so the
 * observer may keep `dy` after the rule ran.
 *
 * @internal
 */
export interface NodeObserver {
  /** Returns the `needs` mask to run the rule with, or null to leave the node alone. */
  visit(node: Node, dy: Tensor): readonly boolean[] | null;
}

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** Keep the graph so it can be walked again (default false: release it). */
  retainGraph?: boolean;
}

/**
 * Sums `g` down to `shape`, the shape of an input that was broadcast to `g.shape` (the central
 * un-broadcast of the tape). Returns `g` itself when the shapes already match.
 *
 * @throws {Error} `internal:` when `shape` does not broadcast to `g.shape`.
 * @example
 * ```ts
 * sumToShape(ones([3, 2, 4]), [2, 1]).toArray(); // [[12], [12]]
 * ```
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw internalError(`cannot sum gradient of shape ${fmt(g.shape)} to ${fmt(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
    else if (shape[i - lead] !== g.shape[i]) throw internalError(`cannot sum gradient of shape ${fmt(g.shape)} to ${fmt(shape)}`);
  }
  return sum(g, axes, true).reshape(shape);
}

/**
 * Runs reverse-mode accumulation from `root`. Without `capture`, leaf gradients are accumulated
 * into `.grad` (summing across calls, like PyTorch). With `capture`, the gradients of exactly
 * those Vars are returned instead and no `.grad` is touched.
 *
 * @throws {ShapeError} for a non-scalar root without a seed, or a seed of the wrong shape.
 * @throws {Error} when the root does not require grad, or the graph was already released.
 * @example
 * ```ts
 * runBackward(loss, undefined, {});
 * ```
 */
export function runBackward(root: Var, seed: Tensor | number | undefined, opts: BackwardOptions, capture?: readonly Var[], observer?: NodeObserver): Tensor[] | undefined {
  const g0 = seedGradient(root, seed);
  const task = new GraphTask(opts.retainGraph ?? false, capture);
  const { nodes, leaves, uses } = collectTape(root);
  task.visible.add(g0.data); // the seed may be the caller's tensor
  task.send(root.node ?? root, g0, false);
  if (!capture) planSinks(task, leaves, uses);
  for (const node of nodes) {
    if (node.freed) throw freedError(node); // released meanwhile by a backward pass run from a hook
    const dy = task.take(node);
    if (dy !== null) backpropNode(task, node, dy, observer);
    if (!task.retain) node.release();
  }
  for (const leaf of leaves) {
    let g = task.takeLeaf(leaf);
    if (g === null) continue;
    g = runHooks(leaf, g);
    if (task.capture) {
      if (task.capture.has(leaf)) task.captured.set(leaf, g);
      continue;
    }
    accumulateGrad(task, leaf, g);
    if (leaf.postHooks) for (const h of leaf.postHooks.slice()) h(leaf);
  }
  return capture?.map((v) => task.captured.get(v) ?? full(v.shape, 0));
}

/** The gradient the walk starts from: ones for a one-element root, else the caller's seed. */
function seedGradient(root: Var, seed: Tensor | number | undefined): Tensor {
  if (!root.requiresGrad) {
    throw new Error(`backward: ${root.describe()} does not require grad (no input required grad, or it was computed inside noGrad)`);
  }
  if (root.node?.freed) throw freedError(root.node);
  if (seed === undefined) {
    if (root.size !== 1) throw new ShapeError("backward", "the root must be a scalar (one element) unless a seed gradient of its shape is given", [root.shape]);
    return full(root.shape, 1);
  }
  const g0 = asTensor(seed, "backward");
  if (!shapesEqual(g0.shape, root.shape)) throw new ShapeError("backward", "seed must have the root's shape", [g0.shape, root.shape]);
  return g0;
}

/**
 * The nodes reachable from `root`, newest first, the leaves that need a gradient (in discovery
 * order), and how many input slots consume each leaf.
 */
function collectTape(root: Var): { nodes: Node[]; leaves: Var[]; uses: Map<Var, number> } {
  const nodes: Node[] = [];
  const uses = new Map<Var, number>();
  if (root.node === null) return { nodes, leaves: [root], uses: new Map([[root, 1]]) };
  const seen = new Set<Node>([root.node]);
  const stack: Node[] = [root.node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    nodes.push(n);
    for (const v of n.inputs) {
      if (v === null) continue;
      const m = v.node;
      if (m === null) uses.set(v, (uses.get(v) ?? 0) + 1);
      else if (!seen.has(m)) {
        if (m.freed) throw freedError(m);
        seen.add(m);
        stack.push(m);
      }
    }
  }
  nodes.sort((a, b) => b.seq - a.seq);
  return { nodes, leaves: [...uses.keys()], uses };
}

/** One step of the walk: node `node`'s output gradient `dy` through its rule to its inputs. */
function backpropNode(task: GraphTask, node: Node, dy: Tensor, observer?: NodeObserver): void {
  const out = node.out!;
  dy = runHooks(out, dy);
  const needs = observer?.visit(node, dy) ?? null;
  // Only the pass holds dy when a freshGrads rule made it and nothing else got to see it.
  const dyOwned = needs === null && task.owned.has(node) && !(out.hooks && out.hooks.length > 0) && !out.retainsGrad && !task.capture?.has(out);
  if (task.capture?.has(out)) task.captured.set(out, dy);
  if (out.retainsGrad && !task.capture) keepRetained(task, out, dy);
  const rule = node.rule!;
  const gradInto = task.sinksOf(node);
  const need = needs ?? node.needs;
  const grads = rule.backward(dy, { x: node.xs!, y: node.y!, attrs: node.attrs, saved: node.saved, needs: need, dyOwned, gradInto });
  for (let i = 0; i < node.inputs.length; i++) {
    const v = node.inputs[i];
    const gi = grads[i];
    if (v === null || v === undefined || !need[i] || gi === null || gi === undefined) continue;
    if (gi === GRAD_WRITTEN) {
      if (!gradInto?.[i]) throw internalError(`${node.op}.backward wrote input ${i}'s gradient without a gradInto buffer`);
      task.wrote(v);
    } else if (gi instanceof RegionGrad) task.sendRegion(v.node ?? v, v.shape, gi);
    else task.send(v.node ?? v, toInputShape(node, i, gi, v), rule.freshGrads === true);
  }
}

/** `g` un-broadcast to input `i`'s shape (broadcasting rules only); any other mismatch is our bug. */
function toInputShape(node: Node, i: number, g: Tensor, v: Var): Tensor {
  if (shapesEqual(g.shape, v.shape)) return g;
  if (node.rule!.broadcast && isBroadcastOf(v.shape, g.shape)) return sumToShape(g, v.shape);
  throw internalError(`${node.op}.backward gave a gradient of shape ${fmt(g.shape)} for input ${i} of shape ${fmt(v.shape)}`);
}

function isBroadcastOf(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  try {
    return shapesEqual(broadcastShapes("backward", shape, target), target);
  } catch {
    return false;
  }
}

/** Runs `v`'s gradient hooks in order; a returned tensor replaces the gradient. */
function runHooks(v: Var, g: Tensor): Tensor {
  if (!v.hooks) return g;
  for (const h of v.hooks.slice()) {
    const r = h(g);
    if (r !== undefined) {
      if (!(r instanceof Tensor) || !shapesEqual(r.shape, g.shape)) {
        throw new ShapeError("hook", `a gradient hook on ${v.describe()} must return a Tensor of the gradient's shape or nothing`, [r instanceof Tensor ? r.shape : [], g.shape]);
      }
      g = r;
    }
  }
  return g;
}

function freedError(node: Node): Error {
  return new Error(
    `backward: the graph through op "${node.op}" was already released by a previous backward; ` +
      `pass { retainGraph: true } to the first backward() to backpropagate twice`,
  );
}
