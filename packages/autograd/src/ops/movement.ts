/**
 * @file Movement and indexing ops: reshape, permute/transpose, broadcastTo/expand, slice/narrow,
 * select, squeeze/unsqueeze, flatten, concat/stack/split, indexSelect/embedding, gather, where.
 * Forward values are views where the tensor package allows; backward rules route gradients back to
 * the input layout (scatter into zeros for slices and gathers, `indexAdd` for repeated indices).
 */
import * as T from "@tapegrad/tensor";
import { Tensor, ShapeError, normalizeAxis } from "@tapegrad/tensor";
import { Var } from "../var.js";
import { apply, toVar, type VarLike } from "../apply.js";
import { RegionGrad, defineRule } from "../rule.js";
import { sumToShape } from "../backward.js";

/** Attributes of the `slice` primitive (part of its entry in the op table). */
export interface SliceAttrs { axis: number; start: number | null; end: number | null; step: number }

/**
 * Rules of movement and indexing ops, each declared with its attribute type (`defineRule<A, S>`).
 * `rules.ts` merges them into the op table; the functions below run them by name with
 * `apply(name, attrs, inputs)`.
 *
 * @throws whatever a rule's forward or backward throws (e.g. ShapeError); reading it never throws.
 * @example
 * ```ts
 * movementRules.reshape.forward([x], { shape: [2, 3] });
 * ```
 */
export const movementRules = {
  reshape: defineRule<{ shape: number[] }>({
    forward: ([x], a) => x!.reshape(a.shape),
    backward: (dy, c) => [dy.reshape(c.x[0]!.shape)], // a reshape's Jacobian is a permutation-free identity
  }),
  permute: defineRule<{ dims: number[] }>({
    forward: ([x], a) => x!.permute(a.dims),
    backward: (dy, c) => [dy.permute(inversePermutation(c.attrs.dims, c.x[0]!.ndim))], // undo the permutation
  }),
  broadcastTo: defineRule<{ shape: number[] }>({
    forward: ([x], a) => x!.broadcastTo(a.shape),
    backward: (dy, c) => [sumToShape(dy, c.x[0]!.shape)], // copies of x: gradients add up
  }),
  slice: defineRule<SliceAttrs>({
    forward: ([x], a) => x!.slice(a.axis, a.start, a.end, a.step),
    // dy goes to the sliced positions, zero elsewhere (accumulated in place by the engine)
    backward: (dy, c) => [new RegionGrad(dy, (g) => g.slice(c.attrs.axis, c.attrs.start, c.attrs.end, c.attrs.step))],
  }),
  select: defineRule<{ axis: number; index: number }>({
    forward: ([x], a) => x!.select(a.axis, a.index),
    backward: (dy, c) => [new RegionGrad(dy, (g) => g.select(c.attrs.axis, c.attrs.index))], // only the selected entry gets dy
  }),
  concat: defineRule<{ axis: number }>({
    forward: (xs, a) => T.concat(xs, a.axis),
    backward: (dy, c) => T.split(dy, c.x.map((x) => x.shape[c.attrs.axis]!), c.attrs.axis), // each input gets its own block
  }),
  indexSelect: defineRule<{ axis: number; indices: Int32Array }>({
    forward: ([x], a) => T.indexSelect(x!, a.axis, a.indices),
    backward: (dy, c) => [T.indexAdd(c.x[0]!.shape, c.attrs.axis, c.attrs.indices, dy)], // repeated indices accumulate
  }),
  gather: defineRule<{ axis: number; index: Tensor }>({
    forward: ([x], a) => T.gather(x!, a.axis, a.index),
    backward: (dy, c) => [T.scatterAdd(T.zeros(c.x[0]!.shape), c.attrs.axis, c.attrs.index, dy)], // adjoint of gather
  }),
  where: defineRule<{ cond: Tensor }>({
    broadcast: true,
    forward: ([a, b], at) => T.where(at.cond, a!, b!),
    // cond ? a : b ⇒ da = dy where cond, db = dy elsewhere
    backward: (dy, c) => [c.needs[0] ? T.where(c.attrs.cond, dy, 0) : null, c.needs[1] ? T.where(c.attrs.cond, 0, dy) : null],
  }),
};

function inversePermutation(dims: readonly number[], ndim: number): number[] {
  const inv = new Array<number>(ndim);
  dims.forEach((d, i) => (inv[d < 0 ? d + ndim : d] = i));
  return inv;
}

/** Reshape (one -1 allowed). @throws {ShapeError} for a size mismatch. @example `reshape(x, [2, -1])` */
export function reshape(x: VarLike, shape: readonly number[]): Var {
  const v = toVar(x, "reshape");
  const target = v.value.reshape(shape).shape.slice(); // validates and resolves -1
  return apply("reshape", { shape: target }, [v]);
}

/** Collapse dims `startDim..endDim`. @throws {ShapeError} for bad dims. @example `flatten(x, 1)` */
export function flatten(x: VarLike, startDim = 0, endDim = -1): Var {
  const v = toVar(x, "flatten");
  return reshape(v, v.value.flatten(startDim, endDim).shape);
}

/** Reorder dims (`dims[i]` is the source of output dim i). @throws {ShapeError} for a bad permutation. @example `permute(x, [0, 2, 1])` */
export function permute(x: VarLike, dims: readonly number[]): Var {
  const v = toVar(x, "permute");
  v.value.permute(dims); // validates
  const nd = v.ndim;
  return apply("permute", { dims: dims.map((d) => (d < 0 ? d + nd : d)) }, [v]);
}

/** Swap two dims. @throws {ShapeError} for bad dims. @example `transpose(w, 0, 1)` */
export function transpose(x: VarLike, dim0: number, dim1: number): Var {
  const v = toVar(x, "transpose");
  const nd = v.ndim;
  const a = normalizeAxis("transpose", dim0, nd, v.shape);
  const b = normalizeAxis("transpose", dim1, nd, v.shape);
  const dims = Array.from({ length: nd }, (_, i) => (i === a ? b : i === b ? a : i));
  return apply("permute", { dims }, [v]);
}

/** Broadcast to a shape (a view). @throws {ShapeError} when not broadcastable. @example `broadcastTo(b, [4, 3])` */
export function broadcastTo(x: VarLike, shape: readonly number[]): Var {
  const v = toVar(x, "broadcastTo");
  v.value.broadcastTo(shape);
  return apply("broadcastTo", { shape: Array.from(shape) }, [v]);
}

/** NumPy slice `start:end:step` along `axis`. @throws {RangeError} for step 0. @example `slice(x, 1, 0, 2)` */
export function slice(x: VarLike, axis: number, start: number | null = null, end: number | null = null, step = 1): Var {
  const v = toVar(x, "slice");
  v.value.slice(axis, start, end, step);
  return apply("slice", { axis: normalizeAxis("slice", axis, v.ndim, v.shape), start, end, step }, [v]);
}

/** `length` entries from `start` along `dim` (strict bounds). @throws {ShapeError} when out of range. @example `narrow(x, 1, 2, 3)` */
export function narrow(x: VarLike, dim: number, start: number, length: number): Var {
  const v = toVar(x, "narrow");
  const ax = normalizeAxis("narrow", dim, v.ndim, v.shape);
  const s = start < 0 ? start + v.shape[ax]! : start;
  v.value.narrow(ax, s, length);
  return slice(v, ax, s, s + length);
}

/** The entry at `index` along `axis`, axis removed. @throws {ShapeError} when out of range. @example `select(x, 0, -1)` */
export function select(x: VarLike, axis: number, index: number): Var {
  const v = toVar(x, "select");
  const ax = normalizeAxis("select", axis, v.ndim, v.shape);
  v.value.select(ax, index);
  return apply("select", { axis: ax, index: index < 0 ? index + v.shape[ax]! : index }, [v]);
}

/** Remove size-1 dims (all, or the given ones). @throws {ShapeError} for a non-1 axis. @example `squeeze(x, 1)` */
export function squeeze(x: VarLike, ...axes: number[]): Var {
  const v = toVar(x, "squeeze");
  return reshape(v, v.value.squeeze(axes).shape);
}

/** Insert a size-1 dim. @throws {ShapeError} for a bad axis. @example `unsqueeze(x, 0)` */
export function unsqueeze(x: VarLike, axis: number): Var {
  const v = toVar(x, "unsqueeze");
  return reshape(v, v.value.unsqueeze(axis).shape);
}

/** Join along an existing axis. @throws {ShapeError} for mismatched shapes. @example `concat([a, b], 1)` */
export function concat(xs: readonly VarLike[], axis = 0): Var {
  if (!Array.isArray(xs)) throw new TypeError(`concat: xs must be an array (got ${xs === null ? "null" : typeof xs})`);
  if (xs.length === 0) throw new ShapeError("concat", "needs at least one tensor");
  const vs = xs.map((x) => toVar(x, "concat"));
  const ax = normalizeAxis("concat", axis, Math.max(vs[0]!.ndim, 1), vs[0]!.shape);
  return apply("concat", { axis: ax }, vs);
}

/** Stack along a new axis (composite: unsqueeze + concat). @throws {ShapeError} for differing shapes. @example `stack([a, b], -1)` */
export function stack(xs: readonly VarLike[], axis = 0): Var {
  if (!Array.isArray(xs)) throw new TypeError(`stack: xs must be an array (got ${xs === null ? "null" : typeof xs})`);
  if (xs.length === 0) throw new ShapeError("stack", "needs at least one tensor");
  const vs = xs.map((x) => toVar(x, "stack"));
  for (const v of vs) if (!T.shapesEqual(v.shape, vs[0]!.shape)) throw new ShapeError("stack", "all tensors must have the same shape", vs.map((u) => u.shape));
  const ax = normalizeAxis("stack", axis, vs[0]!.ndim + 1, vs[0]!.shape);
  return concat(vs.map((v) => unsqueeze(v, ax)), ax);
}

/** Split into pieces (sizes, or a piece size). @throws {ShapeError} when sizes do not add up. @example `split(x, [2, 3], 1)` */
export function split(x: VarLike, sizeOrSizes: number | readonly number[], axis = 0): Var[] {
  const v = toVar(x, "split");
  const ax = normalizeAxis("split", axis, v.ndim, v.shape);
  const parts = T.split(v.value, sizeOrSizes, ax);
  let start = 0;
  return parts.map((p) => {
    const n = p.shape[ax]!;
    const s = slice(v, ax, start, start + n);
    start += n;
    return s;
  });
}

/** Entries at `indices` along `axis` (repeats allowed). @throws {RangeError} for a bad index. @example `indexSelect(x, 0, [2, 0, 2])` */
export function indexSelect(x: VarLike, axis: number, indices: T.Indices): Var {
  const v = toVar(x, "indexSelect");
  const ax = normalizeAxis("indexSelect", axis, v.ndim, v.shape);
  const idx = T.toIndexArray("indexSelect", indices, v.shape[ax]!);
  return apply("indexSelect", { axis: ax, indices: idx }, [v]);
}

/**
 * Embedding lookup: rows of `weight` `[V, D]` at `indices` (any shape), output
 * `indices.shape + [D]`. The weight gradient adds up over repeated indices.
 *
 * @throws {ShapeError} when `weight` is not 2-D; {RangeError} for an index outside `[0, V)`.
 * @example
 * ```ts
 * embedding(table, tensor([[1, 2], [2, 0]])); // [2, 2, D]
 * ```
 */
export function embedding(weight: VarLike, indices: T.Indices, indicesShape?: readonly number[]): Var {
  const w = toVar(weight, "embedding");
  if (w.ndim !== 2) throw new ShapeError("embedding", "weight must be 2-D [numEmbeddings, dim]", [w.shape]);
  const shape = indicesShape ?? (indices instanceof Tensor ? indices.shape : [indices.length]);
  const flat: ArrayLike<number> = indices instanceof Tensor ? indices.toFloat32Array() : indices;
  if (T.shapeSize(shape) !== flat.length) throw new ShapeError("embedding", `indicesShape does not match ${flat.length} indices`, [shape]);
  for (let i = 0; i < flat.length; i++) {
    const k = flat[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= w.shape[0]!) throw new RangeError(`embedding: index ${k} at position ${i} is out of range for ${w.shape[0]} embeddings`);
  }
  return reshape(indexSelect(w, 0, Int32Array.from(flat)), [...shape, w.shape[1]!]);
}

/** `out[...][j] = x[...][index[...][j]]` along `axis`. @throws {ShapeError} for bad shapes. @example `gather(logp, 1, idx)` */
export function gather(x: VarLike, axis: number, index: Tensor): Var {
  const v = toVar(x, "gather");
  return apply("gather", { axis: normalizeAxis("gather", axis, v.ndim, v.shape), index }, [v]);
}

/**
 * `cond ? a : b` with broadcasting; `cond` is a tensor (non-zero = true) and is not differentiated.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * where(mask, x, 0);
 * ```
 */
export function where(cond: Tensor | Var, a: VarLike, b: VarLike): Var {
  const c = cond instanceof Var ? cond.value : cond;
  return apply("where", { cond: c }, [a, b]);
}
