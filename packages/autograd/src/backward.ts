/**
 * @file Reverse-mode accumulation over the recorded tape.
 *
 * 1. Collect the nodes reachable from the root with an explicit stack (no recursion: a 100,000-op
 *    chain is fine) and sort them by sequence number, newest first: the tape in reverse.
 * 2. Walk that array with a plain loop. Each node's output gradient is complete when the node is
 *    reached (all consumers were recorded later), so its hooks run, then its rule maps it to input
 *    gradients, which are un-broadcast (for broadcasting rules), shape-checked and summed into the
 *    inputs' pending gradients. A pending gradient is "owned" when only the engine holds it (it
 *    allocated it, or a `freshGrads` rule did): sums go into it in place, and the consuming rule
 *    may overwrite it (`dyOwned`) unless hooks, `retainGrad` or capture got to see it.
 * 3. Leaves get their total gradient last: hooks, accumulation into `.grad` (owned, contiguous),
 *    post-accumulate hooks. A leaf with a resident gradient buffer (`Var.setGradBuffer`) gets it
 *    in that buffer: copied or summed there; or, when its `.grad` is null, it has no hooks, one
 *    consumer, and no op of the graph reads the buffer, its rule may write it there directly
 *    (`ctx.gradInto`, e.g. the weight GEMM of `linear`), which nothing else can observe.
 * 4. Unless `retainGraph`, every walked node releases its inputs and saved tensors, so the graph's
 *    memory can be reclaimed; walking it again is an error.
 */
import { Tensor, ShapeError, add, addInto, asTensor, broadcastShapes, copyInto, fmt, full, internalError, shapesEqual, sum, zeros } from "@tapegrad/tensor";
import type { Node, Var } from "./var.js";
import { GRAD_WRITTEN, RegionGrad } from "./rule.js";

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** Keep the graph so it can be walked again (default false: release it). */
  retainGraph?: boolean;
}

let pass = 0;

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

function freedError(node: Node): Error {
  return new Error(
    `backward: the graph through op "${node.op}" was already released by a previous backward; ` +
      `pass { retainGraph: true } to the first backward() to backpropagate twice`,
  );
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
export function runBackward(root: Var, seed: Tensor | number | undefined, opts: BackwardOptions, capture?: readonly Var[]): Tensor[] | undefined {
  if (!root.requiresGrad) {
    throw new Error(`backward: ${root.describe()} does not require grad (no input required grad, or it was computed inside noGrad)`);
  }
  let g0: Tensor;
  if (seed === undefined) {
    if (root.size !== 1) throw new ShapeError("backward", "the root must be a scalar (one element) unless a seed gradient of its shape is given", [root.shape]);
    g0 = full(root.shape, 1);
  } else {
    g0 = asTensor(seed, "backward");
    if (!shapesEqual(g0.shape, root.shape)) throw new ShapeError("backward", "seed must have the root's shape", [g0.shape, root.shape]);
  }
  const retain = opts.retainGraph ?? false;
  const mark = ++pass;
  const nodes: Node[] = [];
  const leaves: Var[] = [];
  const captureSet = capture ? new Set(capture) : null;
  const captured = new Map<Var, Tensor>();
  // 1. Collect reachable nodes and leaves (explicit stack).
  if (root.node) {
    if (root.node.freed) throw freedError(root.node);
    root.node.visit = mark;
    const stack: Node[] = [root.node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      nodes.push(n);
      for (const v of n.inputs) {
        if (v === null) continue;
        const m = v.node;
        if (m === null) {
          if (v.visit !== mark) {
            v.visit = mark;
            v.uses = 0;
            leaves.push(v);
          }
          v.uses++;
        } else if (m.visit !== mark) {
          if (m.freed) throw freedError(m);
          m.visit = mark;
          stack.push(m);
        }
      }
    }
    nodes.sort((a, b) => b.seq - a.seq);
    root.node.pending = g0;
    root.node.pendingOwned = false; // the seed may be the caller's tensor
  } else {
    leaves.push(root);
    root.pending = g0;
    root.pendingOwned = false;
  }
  // Buffers the user can see: a leaf .grad must never share storage with them or with each other.
  const visible = new Set<Float32Array>([g0.data]);
  const sinks = capture === undefined && markSinks(nodes, leaves, mark, visible);
  try {
    // 2. Walk the tape in reverse.
    for (const node of nodes) {
      let g = node.pending;
      node.pending = null;
      if (g === null) {
        if (!retain) node.release();
        continue;
      }
      const out = node.out!;
      // Only the engine holds dy when a freshGrads rule made it and nothing else got to see it.
      const dyOwned = node.pendingOwned && !(out.hooks && out.hooks.length > 0) && !out.retainsGrad && !captureSet?.has(out);
      g = runHooks(out, g);
      if (captureSet?.has(out)) captured.set(out, g);
      if (out.retainsGrad && !capture) {
        out.grad = accumulate(out.grad, g, visible);
      }
      const rule = node.rule!;
      const inputs = node.inputs;
      const gradInto = sinks ? sinksOf(inputs, mark) : undefined;
      const grads = rule.backward(g, { x: node.xs!, y: node.y!, attrs: node.attrs, saved: node.saved, needs: node.needs, dyOwned, gradInto });
      for (let i = 0; i < inputs.length; i++) {
        const v = inputs[i];
        if (v === null || v === undefined || !node.needs[i]) continue;
        let gi = grads[i];
        if (gi === null || gi === undefined) continue;
        if (gi === GRAD_WRITTEN) {
          if (!gradInto?.[i]) throw internalError(`${node.op}.backward wrote input ${i}'s gradient without a gradInto buffer`);
          v.sinkDone = mark;
          continue;
        }
        const holder: Node | Var = v.node ?? v;
        if (gi instanceof RegionGrad) {
          // sparse contribution: add into an engine-owned buffer in place
          let buf = holder.pending;
          if (buf === null || !holder.pendingOwned) {
            buf = buf === null ? zeros(v.shape) : buf.clone();
            holder.pending = buf;
            holder.pendingOwned = true;
          }
          addInto(gi.values, gi.region(buf));
          continue;
        }
        if (!shapesEqual(gi.shape, v.shape)) {
          if (rule.broadcast && isBroadcastOf(v.shape, gi.shape)) gi = sumToShape(gi, v.shape);
          else throw internalError(`${node.op}.backward gave a gradient of shape ${fmt(gi.shape)} for input ${i} of shape ${fmt(v.shape)}`);
        }
        if (holder.pending === null) {
          holder.pending = gi;
          holder.pendingOwned = rule.freshGrads === true;
        } else if (holder.pendingOwned && holder.pending.isContiguous) {
          add(holder.pending, gi, holder.pending);
        } else {
          holder.pending = add(holder.pending, gi);
          holder.pendingOwned = true;
        }
      }
      if (!retain) node.release();
    }
    // 3. Leaves.
    for (const leaf of leaves) {
      // A gradient written into the leaf's buffer by its rule is its only contribution.
      let g = leaf.sinkDone === mark ? leaf.residentGrad : leaf.pending;
      leaf.pending = null;
      if (g === null) continue;
      g = runHooks(leaf, g);
      if (captureSet) {
        if (captureSet.has(leaf)) captured.set(leaf, g);
        continue;
      }
      leaf.grad = leaf.residentGrad !== null ? accumulateResident(leaf, leaf.residentGrad, g, visible) : accumulate(leaf.grad, g, visible);
      if (leaf.postHooks) for (const h of leaf.postHooks.slice()) h(leaf);
    }
  } finally {
    for (const n of nodes) n.pending = null;
    for (const l of leaves) l.pending = null;
  }
  if (!capture) return undefined;
  return capture.map((v) => captured.get(v) ?? full(v.shape, 0));
}

function isBroadcastOf(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  try {
    return shapesEqual(broadcastShapes("backward", shape, target), target);
  } catch {
    return false;
  }
}

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

/** Adds `g` into an owned gradient buffer (in place when possible), or adopts/clones `g`. */
function accumulate(prev: Tensor | null, g: Tensor, visible: Set<Float32Array>): Tensor {
  if (prev !== null) {
    if (prev.isContiguous && !visible.has(prev.data)) {
      add(prev, g, prev);
      visible.add(prev.data);
      return prev;
    }
    const r = add(prev, g);
    visible.add(r.data);
    return r;
  }
  const owned = g.isContiguous && g.offset === 0 && g.data.length === g.size && !visible.has(g.data) ? g : g.clone();
  visible.add(owned.data);
  return owned;
}

/**
 * Marks (`sinkOk = mark`) the leaves whose gradient a rule may write straight into their resident
 * buffer: `.grad` null, one consuming input slot, no hooks, and a buffer that no op of this graph
 * reads and no user-visible gradient shares. Returns whether any was marked.
 */
function markSinks(nodes: readonly Node[], leaves: readonly Var[], mark: number, visible: Set<Float32Array>): boolean {
  const ok = (v: Var) => v.residentGrad !== null && v.grad === null && v.uses === 1 && !(v.hooks && v.hooks.length > 0) && !visible.has(v.residentGrad.data);
  if (!leaves.some(ok)) return false;
  const read = new Set<Float32Array>();
  for (const n of nodes) {
    for (const x of n.xs!) read.add(x.data);
    read.add(n.y!.data);
  }
  for (const l of leaves) if (l.grad !== null) read.add(l.grad.data);
  let any = false;
  for (const v of leaves) {
    if (ok(v) && !read.has(v.residentGrad!.data)) {
      v.sinkOk = mark;
      any = true;
    }
  }
  return any;
}

/** The `gradInto` buffers of a node's inputs (undefined when none is a marked leaf). */
function sinksOf(inputs: readonly (Var | null)[], mark: number): (Tensor | null)[] | undefined {
  let into: (Tensor | null)[] | undefined;
  for (let i = 0; i < inputs.length; i++) {
    const v = inputs[i];
    if (v && v.sinkOk === mark) (into ??= new Array<Tensor | null>(inputs.length).fill(null))[i] = v.residentGrad;
  }
  return into;
}

/**
 * Puts a leaf's total gradient `g` into its resident buffer and returns the buffer (the new
 * `.grad`): copied when `.grad` is null, added in place when `.grad` is the buffer. A `.grad`
 * the user replaced by another tensor is accumulated as usual instead.
 */
function accumulateResident(leaf: Var, buf: Tensor, g: Tensor, visible: Set<Float32Array>): Tensor {
  const prev = leaf.grad;
  if ((prev !== null && prev !== buf) || visible.has(buf.data)) return accumulate(prev, g, visible);
  if (prev === null) {
    if (g !== buf) {
      if (g.isContiguous) buf.data.set(g.data.subarray(g.offset, g.offset + g.size), buf.offset);
      else copyInto(g, buf);
    }
  } else add(buf, g, buf);
  visible.add(buf.data);
  return buf;
}
