/**
 * @file Tensor creation: from JS data, constant fills, ranges, identity, and seeded random fills.
 * Every function returns a fresh contiguous tensor that shares nothing with its arguments.
 */
import { ShapeError, fmt } from "./errors.js";
import { checkShape, shapeSize } from "./shape.js";
import { Tensor } from "./tensor.js";
import { defaultRng, type Rng } from "./random.js";
import { allocate, type AllocOptions } from "./memory.js";

/** Nested arrays of numbers (or booleans) accepted by {@link tensor}. */
export type TensorLike = number | boolean | ArrayLike<number> | readonly TensorLike[];

/**
 * Creates a tensor from a number, nested arrays, or flat data plus a shape. Data is copied.
 *
 * @throws {ShapeError} for ragged nested arrays or a `shape` whose size differs from the data.
 * @throws {TypeError} for non-numeric entries.
 * @example
 * ```ts
 * tensor([[1, 2], [3, 4]]).shape; // [2, 2]
 * tensor([1, 2, 3, 4, 5, 6], [2, 3]).shape; // [2, 3]
 * tensor(3.5).shape; // []
 * ```
 */
export function tensor(data: TensorLike, shape?: ArrayLike<number>): Tensor {
  if (typeof data === "number" || typeof data === "boolean") {
    const v = Number(data);
    if (shape !== undefined) {
      const sh = checkShape("tensor", shape);
      if (shapeSize(sh) !== 1) throw new ShapeError("tensor", "a single number needs a shape with one element", [sh]);
      return new Tensor(Float32Array.of(v), sh);
    }
    return new Tensor(Float32Array.of(v), []);
  }
  const isFlat = isNumericArrayLike(data);
  if (isFlat && shape !== undefined) {
    const sh = checkShape("tensor", shape);
    const arr = data as ArrayLike<number>;
    if (shapeSize(sh) !== arr.length) throw new ShapeError("tensor", `shape needs ${shapeSize(sh)} values but ${arr.length} were given`, [sh]);
    return new Tensor(toF32(arr), sh);
  }
  const inferred = inferNestedShape(data);
  const flat = new Float32Array(shapeSize(inferred));
  let k = 0;
  const fill = (node: TensorLike, depth: number, path: number[]): void => {
    if (depth === inferred.length) {
      if (typeof node === "number" || typeof node === "boolean") {
        flat[k++] = Number(node);
        return;
      }
      throw new ShapeError("tensor", `ragged nested array at index ${fmt(path)}: expected a number`, [inferred]);
    }
    if (typeof node !== "object" || node === null || typeof (node as ArrayLike<unknown>).length !== "number") {
      throw new ShapeError("tensor", `ragged nested array at index ${fmt(path)}: expected an array of length ${inferred[depth]}`, [inferred]);
    }
    const arr = node as ArrayLike<TensorLike>;
    if (arr.length !== inferred[depth]) {
      throw new ShapeError("tensor", `ragged nested array at index ${fmt(path)}: expected length ${inferred[depth]}, got ${arr.length}`, [inferred]);
    }
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      if (depth + 1 === inferred.length && typeof v !== "number" && typeof v !== "boolean" && !isArrayLikeObject(v)) {
        throw new TypeError(`tensor: entries must be numbers (got ${v === null ? "null" : typeof v} at index ${fmt([...path, i])})`);
      }
      fill(v, depth + 1, [...path, i]);
    }
  };
  fill(data, 0, []);
  if (shape === undefined) return new Tensor(flat, inferred);
  const sh = checkShape("tensor", shape);
  if (shapeSize(sh) !== flat.length) throw new ShapeError("tensor", `shape needs ${shapeSize(sh)} values but ${flat.length} were given`, [sh]);
  return new Tensor(flat, sh);
}

function isArrayLikeObject(x: unknown): boolean {
  return typeof x === "object" && x !== null && typeof (x as ArrayLike<unknown>).length === "number";
}

function isNumericArrayLike(x: unknown): boolean {
  if (ArrayBuffer.isView(x)) return true;
  if (!Array.isArray(x)) return false;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (typeof v !== "number" && typeof v !== "boolean") return false;
  }
  return true;
}

function toF32(arr: ArrayLike<number>): Float32Array {
  const out = new Float32Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i] as unknown;
    if (typeof v !== "number" && typeof v !== "boolean" && typeof v !== "bigint") throw new TypeError(`tensor: entries must be numbers (got ${typeof v} at index ${i})`);
    out[i] = Number(v);
  }
  return out;
}

function inferNestedShape(data: TensorLike): number[] {
  const shape: number[] = [];
  let node: unknown = data;
  while (typeof node === "object" && node !== null && typeof (node as ArrayLike<unknown>).length === "number") {
    const arr = node as ArrayLike<unknown>;
    shape.push(arr.length);
    if (arr.length === 0) break;
    node = arr[0];
  }
  return shape;
}

/**
 * A tensor of the given shape filled with `value`.
 *
 * @throws {ShapeError} for an invalid shape.
 * @example
 * ```ts
 * full([2, 2], 7).toArray(); // [[7, 7], [7, 7]]
 * ```
 */
export function full(shape: ArrayLike<number>, value: number): Tensor {
  return filled("full", shape, value);
}

/** A fresh tensor of `shape` filled with `value`; errors name `op`. */
/** The shape of `t`, after checking that it is a Tensor (for the `*Like` creators). */
function likeShape(op: string, t: Tensor): readonly number[] {
  if (!(t instanceof Tensor)) throw new TypeError(`${op}: expected a Tensor (got ${t === null ? "null" : typeof t})`);
  return t.shape;
}

/** Checks that every named number is finite (creation bounds and parameters). */
function checkFinite(op: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new RangeError(`${op}: ${name} must be a finite number (got ${String(v)})`);
  }
}

/** Checks that `rng` is an Rng (anything with its methods). */
function checkRng(op: string, rng: Rng, method: "fillUniform" | "normal"): void {
  if (rng === null || typeof rng !== "object" || typeof rng[method] !== "function") {
    throw new TypeError(`${op}: rng must be an Rng (got ${rng === null ? "null" : typeof rng})`);
  }
}

function filled(op: string, shape: ArrayLike<number>, value: number, options: AllocOptions = {}): Tensor {
  const sh = checkShape(op, shape);
  if (typeof value !== "number") throw new TypeError(`${op}: value must be a number (got ${typeof value})`);
  const data = allocate(shapeSize(sh), options);
  if (!Object.is(value, 0)) data.fill(value); // NOTE: -0 must be written (the buffer starts at +0)
  return new Tensor(data, sh);
}

/**
 * A tensor of zeros; with `{ persistent: true }` in long-lived storage, placed where the active
 * kernels work on it in place (parameters, gradients, optimizer state; see `allocate`).
 *
 * @throws {ShapeError} for an invalid shape.
 * @example
 * ```ts
 * zeros([2, 3]).size; // 6
 * zeros([256, 784], { persistent: true }); // e.g. a gradient buffer
 * ```
 */
export function zeros(shape: ArrayLike<number>, options: AllocOptions = {}): Tensor {
  return filled("zeros", shape, 0, options);
}

/**
 * A tensor of ones.
 *
 * @throws {ShapeError} for an invalid shape.
 * @example
 * ```ts
 * ones([3]).toArray(); // [1, 1, 1]
 * ```
 */
export function ones(shape: ArrayLike<number>): Tensor {
  return filled("ones", shape, 1);
}

/**
 * Zeros with the shape of `t` (`options` as for {@link zeros}).
 *
 * @throws never for a valid tensor.
 * @example
 * ```ts
 * zerosLike(ones([2, 3])).toArray(); // [[0, 0, 0], [0, 0, 0]]
 * ```
 */
export function zerosLike(t: Tensor, options: AllocOptions = {}): Tensor {
  return filled("zerosLike", likeShape("zerosLike", t), 0, options);
}

/**
 * Ones with the shape of `t`.
 *
 * @throws never for a valid tensor (only its shape is read).
 * @example
 * ```ts
 * onesLike(zeros([2, 3])).toArray(); // [[1, 1, 1], [1, 1, 1]]
 * ```
 */
export function onesLike(t: Tensor): Tensor {
  return filled("onesLike", likeShape("onesLike", t), 1);
}

/**
 * `value` with the shape of `t`.
 *
 * @throws {TypeError} when `value` is not a number.
 * @example
 * ```ts
 * fullLike(zeros([2]), 7).toArray(); // [7, 7]
 * ```
 */
export function fullLike(t: Tensor, value: number): Tensor {
  return filled("fullLike", likeShape("fullLike", t), value);
}

/**
 * Values `start, start+step, ...` below `end` (NumPy `arange`); `arange(n)` is `0..n-1`.
 *
 * @throws {RangeError} for a zero or non-finite step, or non-finite bounds.
 * @example
 * ```ts
 * arange(5).toArray(); // [0, 1, 2, 3, 4]
 * arange(1, 2, 0.25).toArray(); // [1, 1.25, 1.5, 1.75]
 * ```
 */
export function arange(start: number, end?: number, step = 1): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step) || step === 0) {
    throw new RangeError(`arange: need finite start/end and a non-zero finite step (got ${start}, ${end}, ${step})`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
}

/**
 * `num` evenly spaced values from `start` to `end` inclusive.
 *
 * @throws {RangeError} for a negative or non-integer `num`.
 * @example
 * ```ts
 * linspace(0, 1, 5).toArray(); // [0, 0.25, 0.5, 0.75, 1]
 * ```
 */
export function linspace(start: number, end: number, num: number): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new RangeError(`linspace: num must be a non-negative integer (got ${num})`);
  checkFinite("linspace", { start, end });
  const data = new Float32Array(num);
  if (num === 1) data[0] = start;
  const step = num > 1 ? (end - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = i === num - 1 && num > 1 ? end : start + i * step;
  return new Tensor(data, [num]);
}

/**
 * An `n × m` matrix with ones on the diagonal.
 *
 * @throws {ShapeError} for invalid sizes.
 * @example
 * ```ts
 * eye(2).toArray(); // [[1, 0], [0, 1]]
 * ```
 */
export function eye(n: number, m = n): Tensor {
  const t = filled("eye", [n, m], 0);
  const k = Math.min(n, m);
  for (let i = 0; i < k; i++) t.data[i * m + i] = 1;
  return t;
}

/**
 * Uniform samples in `[low, high)` (default `[0, 1)`), from `rng` (default: the global generator).
 *
 * @throws {ShapeError} for an invalid shape.
 * @example
 * ```ts
 * const u = rand([2, 3], new Rng(0));
 * ```
 */
export function rand(shape: ArrayLike<number>, rng: Rng = defaultRng, low = 0, high = 1): Tensor {
  const sh = checkShape("rand", shape);
  checkRng("rand", rng, "fillUniform");
  checkFinite("rand", { low, high });
  const data = rng.fillUniform(new Float32Array(shapeSize(sh)));
  const span = high - low;
  if (low !== 0 || span !== 1) for (let i = 0; i < data.length; i++) data[i] = low + span * data[i]!;
  return new Tensor(data, sh);
}

/**
 * Normal samples with the given mean and standard deviation (default 0 and 1).
 *
 * @throws {ShapeError} for an invalid shape.
 * @example
 * ```ts
 * const w = randn([784, 256], new Rng(42));
 * ```
 */
export function randn(shape: ArrayLike<number>, rng: Rng = defaultRng, mean = 0, std = 1): Tensor {
  const sh = checkShape("randn", shape);
  checkRng("randn", rng, "normal");
  checkFinite("randn", { mean, std });
  if (std < 0) throw new RangeError(`randn: std must be non-negative (got ${std})`);
  const data = new Float32Array(shapeSize(sh));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return new Tensor(data, sh);
}

/**
 * Uniform integers in `[low, high)` stored as float32 values (use `Int32Array.from(t.data)` for
 * index arrays).
 *
 * @throws {RangeError} unless `low < high` are integers.
 * @example
 * ```ts
 * randint(0, 10, [5], new Rng(1)).toArray(); // five integers in 0..9
 * ```
 */
export function randint(low: number, high: number, shape: ArrayLike<number>, rng: Rng = defaultRng): Tensor {
  const sh = checkShape("randint", shape);
  if (!Number.isInteger(low) || !Number.isInteger(high) || low >= high) throw new RangeError(`randint: need integers low < high (got ${low}, ${high})`);
  const data = new Float32Array(shapeSize(sh));
  for (let i = 0; i < data.length; i++) data[i] = rng.int(low, high);
  return new Tensor(data, sh);
}
