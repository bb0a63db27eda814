/**
 * @file The `Tensor` class: a strided view (shape, strides, offset) over a `Float32Array`.
 *
 * Views (`reshape` of a contiguous tensor, `transpose`, `permute`, `broadcastTo`, `slice`,
 * `narrow`, `squeeze`, `unsqueeze`, `select`) share `data` with their source and cost O(ndim).
 * Tensors are treated as immutable values by every op in tapegrad: ops allocate new outputs and
 * never write into their inputs (except through an explicit `out` argument). Where the bytes live
 * is `memory.ts`'s business; `dispose()` releases long-lived storage early.
 */
import { ShapeError } from "./errors.js";
import { contiguousStrides, type Shape } from "./shape.js";
import { stridedCopy } from "./kernels/walker.js";
import { formatTensor, toNested, type Nested } from "./format.js";
import {
  broadcastLayout, checkLayout, elementIndex, expandTarget, flatArgs, flattenShape, inferShape, narrowRange, permuteLayout, selectLayout, sliceLayout, squeezeLayout,
  transposePerm, unsqueezeLayout, viewStrides, type Layout,
} from "./view.js";
import { allocate, checkLive, dispose, isReleased, type AllocOptions } from "./memory.js";

/**
 * An N-dimensional float32 array: `data[offset + Σ index[i]·strides[i]]` is the element at
 * `index`. Construct with the creation functions (`tensor`, `zeros`, `randn`, ...) rather than
 * directly.
 *
 * @throws {ShapeError}, {TypeError} or {Error} from the constructor for an invalid layout, data
 * that is not a Float32Array, or released storage (see the constructor); the methods document
 * their own.
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * x.shape; // [2, 3]
 * x.transpose(0, 1).toArray(); // [[1, 4], [2, 5], [3, 6]]  (a view, no copy)
 * ```
 */
export class Tensor {
  /** Backing storage, possibly shared with other views. */
  readonly data: Float32Array;
  /** Sizes per dimension, outermost first. */
  readonly shape: Shape;
  /** Step in `data` per dimension, in elements (0 for broadcast dimensions, may be negative). */
  readonly strides: readonly number[];
  /** Index in `data` of the element at index `[0, 0, ...]`. */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
  /** True when the elements are laid out in row-major order starting at `offset`. */
  readonly isContiguous: boolean;

  /**
   * Wraps `data` with a layout. Validates that every addressable element is inside `data`.
   *
   * @throws {ShapeError} for invalid sizes, strides or offset, or an out-of-bounds layout.
   * @throws {TypeError} when `data` is not a Float32Array.
   * @throws {Error} when `data` was released by `dispose()`.
   * @example
   * ```ts
   * const t = new Tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2], [1, 3]); // a transposed view
   * ```
   */
  constructor(data: Float32Array, shape: ArrayLike<number>, strides?: ArrayLike<number>, offset = 0) {
    const layout = checkLayout(data, shape, strides, offset);
    checkLive("Tensor", data);
    this.data = data;
    this.shape = layout.shape;
    this.strides = layout.strides;
    this.offset = offset;
    this.size = layout.size;
    this.isContiguous = layout.isContiguous;
  }

  /** Number of dimensions (0 for a scalar). */
  get ndim(): number {
    return this.shape.length;
  }

  /**
   * The single value of a one-element tensor.
   *
   * @throws {ShapeError} when the tensor does not hold exactly one element.
   * @example
   * ```ts
   * sum(tensor([1, 2, 3])).item(); // 6
   * ```
   */
  item(): number {
    checkLive("item", this.data);
    if (this.size !== 1) throw new ShapeError("item", "only a one-element tensor can be converted to a number", [this.shape]);
    return this.data[this.offset]!;
  }

  /**
   * Value at a full index (negative indices count from the end).
   *
   * @throws {ShapeError} when the index has the wrong length or is out of range.
   * @example
   * ```ts
   * tensor([[1, 2], [3, 4]]).get(1, -1); // 4
   * ```
   */
  get(...index: number[]): number {
    checkLive("get", this.data);
    return this.data[elementIndex(this.shape, this.strides, this.offset, index)]!;
  }

  /**
   * The logical elements in row-major order, always as a fresh array (never shared).
   *
   * @throws {Error} when the storage was released by `dispose()`.
   * @example
   * ```ts
   * tensor([[1, 2], [3, 4]]).transpose(0, 1).toFloat32Array(); // Float32Array [1, 3, 2, 4]
   * ```
   */
  toFloat32Array(): Float32Array {
    checkLive("toFloat32Array", this.data);
    if (this.isContiguous) return this.data.slice(this.offset, this.offset + this.size);
    const out = new Float32Array(this.size);
    stridedCopy(this.data, this.shape, this.strides, this.offset, out, 0);
    return out;
  }

  /**
   * The elements as nested JS arrays (a number for a 0-d tensor).
   *
   * @throws {Error} when the storage was released by `dispose()`.
   * @example
   * ```ts
   * arange(4).reshape(2, 2).toArray(); // [[0, 1], [2, 3]]
   * ```
   */
  toArray(): Nested {
    return toNested(this.toFloat32Array(), this.shape);
  }

  /**
   * A contiguous tensor with the same values: `this` when already contiguous, else a copy.
   *
   * @throws {Error} when the storage was released by `dispose()`.
   * @example
   * ```ts
   * const t = x.transpose(0, 1).contiguous(); // t.isContiguous === true
   * ```
   */
  contiguous(): Tensor {
    checkLive("contiguous", this.data);
    if (this.isContiguous) return this;
    return new Tensor(this.toFloat32Array(), this.shape);
  }

  /**
   * A contiguous copy that shares nothing with `this`; with `persistent`, in long-lived storage
   * (see `allocate`), as parameters are.
   *
   * @throws {Error} when the storage was released by `dispose()`.
   * @example
   * ```ts
   * const y = x.clone(); // writing into y.data never changes x
   * const w = x.clone({ persistent: true }); // where the kernels work on it in place
   * ```
   */
  clone(options: AllocOptions = {}): Tensor {
    checkLive("clone", this.data);
    if (options.persistent !== true) return new Tensor(this.toFloat32Array(), this.shape);
    const data = allocate(this.size, options);
    if (this.isContiguous) data.set(this.data.subarray(this.offset, this.offset + this.size));
    else stridedCopy(this.data, this.shape, this.strides, this.offset, data, 0);
    return new Tensor(data, this.shape);
  }

  /**
   * Releases this tensor's storage now — the whole storage, which its views share: long-lived
   * storage outside the JS heap goes back to its memory at once instead of when the garbage
   * collector finds it (see `memory.ts`). Afterwards this tensor and every view of it throw when
   * used. Idempotent.
   *
   * @throws {RangeError} when `data` is only part of an array of persistent storage in wasm
   * memory (a Tensor built over a `subarray` of `allocate(n, { persistent: true })`); never for
   * tensors the creation functions and ops return.
   * @example
   * ```ts
   * const w = zeros([256, 784], { persistent: true });
   * w.dispose();
   * ```
   */
  dispose(): void {
    dispose(this.data);
  }

  /** True after {@link Tensor.dispose} (of this tensor or of one sharing its storage). */
  get isDisposed(): boolean {
    return isReleased(this.data);
  }

  /**
   * A view of the same data with another layout (like `torch.as_strided`). Bounds are checked.
   *
   * @throws {ShapeError} when the layout reaches outside `data`.
   * @example
   * ```ts
   * x.asStrided([3], [0], 0); // the first element repeated 3 times
   * ```
   */
  asStrided(shape: ArrayLike<number>, strides: ArrayLike<number>, offset = this.offset): Tensor {
    return new Tensor(this.data, shape, strides, offset);
  }

  /**
   * Same elements in another shape; one size may be -1 (inferred). A view whenever the layout
   * allows it (always for contiguous tensors), otherwise a copy.
   *
   * @throws {ShapeError} when the element counts differ or the shape is invalid.
   * @example
   * ```ts
   * arange(6).reshape(2, -1).shape; // [2, 3]
   * ```
   */
  reshape(...shape: number[] | [ArrayLike<number>]): Tensor {
    const target = inferShape("reshape", flatArgs(shape), this.size, this.shape);
    if (this.isContiguous) return new Tensor(this.data, target, contiguousStrides(target), this.offset);
    const st = viewStrides(this.shape, this.strides, target);
    if (st !== null) return new Tensor(this.data, target, st, this.offset);
    return new Tensor(this.toFloat32Array(), target);
  }

  /**
   * Collapses dimensions `startDim..endDim` (inclusive, negative allowed) into one.
   *
   * @throws {ShapeError} for out-of-range dimensions.
   * @example
   * ```ts
   * zeros([2, 3, 4]).flatten(1).shape; // [2, 12]
   * ```
   */
  flatten(startDim = 0, endDim = -1): Tensor {
    return this.reshape(flattenShape(this.shape, startDim, endDim));
  }

  /**
   * Reorders dimensions: output dimension `i` is input dimension `dims[i]`. Always a view.
   *
   * @throws {ShapeError} when `dims` is not a permutation of the axes.
   * @example
   * ```ts
   * zeros([2, 3, 4]).permute(2, 0, 1).shape; // [4, 2, 3]
   * ```
   */
  permute(...dims: number[] | [ArrayLike<number>]): Tensor {
    return this.view(permuteLayout(this.shape, this.strides, this.offset, flatArgs(dims)));
  }

  /**
   * Swaps two dimensions (negative allowed). Always a view. A 0-d tensor accepts 0 and -1
   * (PyTorch's rule) and is returned as is.
   *
   * @throws {ShapeError} for out-of-range dimensions.
   * @example
   * ```ts
   * zeros([2, 3, 4]).transpose(0, 2).shape; // [4, 3, 2]
   * ```
   */
  transpose(dim0: number, dim1: number): Tensor {
    const perm = transposePerm(this.shape, dim0, dim1);
    return perm === null ? this : this.permute(perm);
  }

  /**
   * Matrix transpose of the last two dimensions (a view); requires `ndim >= 2`.
   *
   * @throws {ShapeError} for a tensor with fewer than 2 dimensions.
   * @example
   * ```ts
   * zeros([5, 2, 3]).mT.shape; // [5, 3, 2]
   * ```
   */
  get mT(): Tensor {
    if (this.ndim < 2) throw new ShapeError("mT", "needs at least 2 dimensions", [this.shape]);
    return this.transpose(-2, -1);
  }

  /**
   * A view broadcast to `shape` (NumPy rules): new or size-1 dimensions get stride 0.
   *
   * @throws {ShapeError} when the shape is not a broadcast of this tensor's shape.
   * @example
   * ```ts
   * tensor([1, 2, 3]).broadcastTo([2, 3]).toArray(); // [[1, 2, 3], [1, 2, 3]]
   * ```
   */
  broadcastTo(shape: ArrayLike<number>): Tensor {
    return this.view(broadcastLayout("broadcastTo", this.shape, this.strides, this.offset, shape));
  }

  /**
   * Like {@link Tensor.broadcastTo}, with -1 meaning "keep this size" (PyTorch `expand`).
   *
   * @throws {ShapeError} as `broadcastTo`.
   * @example
   * ```ts
   * zeros([3, 1]).expand(-1, 4).shape; // [3, 4]
   * ```
   */
  expand(...shape: number[] | [ArrayLike<number>]): Tensor {
    return this.view(broadcastLayout("expand", this.shape, this.strides, this.offset, expandTarget(this.shape, flatArgs(shape))));
  }

  /**
   * NumPy-style slice along one axis: `start:end:step` with negative indices counted from the end
   * and out-of-range bounds clamped (as Python does). Always a view; `step` may be negative.
   *
   * @throws {ShapeError} (a `RangeError`) when `step` is 0 or a bound is not an integer.
   * @example
   * ```ts
   * arange(10).slice(0, 2, 8, 3).toArray(); // [2, 5]
   * ```
   */
  slice(axis: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return this.view(sliceLayout(this.shape, this.strides, this.offset, axis, start, end, step));
  }

  /**
   * Elements `start .. start+length-1` along `dim` (PyTorch `narrow`), strictly bounds-checked.
   *
   * @throws {ShapeError} when the range does not fit in the dimension.
   * @example
   * ```ts
   * zeros([4, 6]).narrow(1, 2, 3).shape; // [4, 3]
   * ```
   */
  narrow(dim: number, start: number, length: number): Tensor {
    const [ax, s] = narrowRange(this.shape, dim, start, length);
    return this.slice(ax, s, s + length);
  }

  /**
   * The sub-tensor at `index` along `axis`, with that axis removed (like `x[i]`). A view.
   *
   * @throws {ShapeError} when the index is out of range.
   * @example
   * ```ts
   * tensor([[1, 2], [3, 4]]).select(0, 1).toArray(); // [3, 4]
   * ```
   */
  select(axis: number, index: number): Tensor {
    return this.view(selectLayout(this.shape, this.strides, this.offset, axis, index));
  }

  /**
   * Removes size-1 dimensions: all of them, or only the given axes (which must have size 1).
   *
   * @throws {ShapeError} when a named axis does not have size 1.
   * @example
   * ```ts
   * zeros([1, 3, 1]).squeeze().shape; // [3]
   * ```
   */
  squeeze(...axes: number[] | [ArrayLike<number>]): Tensor {
    return this.view(squeezeLayout(this.shape, this.strides, this.offset, flatArgs(axes)));
  }

  /**
   * Inserts a size-1 dimension at `axis` (in `[-ndim-1, ndim]`). A view.
   *
   * @throws {ShapeError} for an out-of-range axis.
   * @example
   * ```ts
   * zeros([3]).unsqueeze(0).shape; // [1, 3]
   * ```
   */
  unsqueeze(axis: number): Tensor {
    return this.view(unsqueezeLayout(this.shape, this.strides, this.offset, axis));
  }

  /** A view of the same data with `layout`. */
  private view(layout: Layout): Tensor {
    return new Tensor(this.data, layout.shape, layout.strides, layout.offset);
  }

  /**
   * A readable multi-line rendering (large tensors are summarised with `...`).
   *
   * @throws {Error} when the storage was released by `dispose()`.
   * @example
   * ```ts
   * String(tensor([[1, 2], [3, 4]]));
   * // tensor([[1, 2],
   * //         [3, 4]], shape=[2,2])
   * ```
   */
  toString(): string {
    return formatTensor(this.toFloat32Array(), this.shape);
  }
}

/**
 * Throws a `TypeError` naming `op` and the argument when `x` is not a Tensor (for ops whose
 * arguments are read before any other check).
 *
 * @throws {TypeError} when `x` is not a Tensor.
 * @example
 * ```ts
 * checkTensor("gather", "index", index);
 * ```
 */
export function checkTensor(op: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor (got ${x === null ? "null" : Array.isArray(x) ? "an array" : typeof x})`);
}
