/**
 * @file Parameter initialisers with PyTorch's formulas (`torch.nn.init`): uniform, normal,
 * Xavier/Glorot, Kaiming/He and orthogonal. Each returns a fresh tensor; all randomness comes
 * from the given seeded `Rng`.
 *
 * Fans follow PyTorch: for a weight `[out, in, ...k]`, `fanIn = in·Πk` and `fanOut = out·Πk`.
 */
import { Rng, ShapeError, Tensor, checkShape, defaultRng, rand, randn } from "@tapegrad/tensor";

/** Nonlinearities known to {@link calculateGain}. */
export type Nonlinearity = "linear" | "identity" | "sigmoid" | "tanh" | "relu" | "leaky_relu" | "selu" | "conv2d";

/**
 * The recommended gain for a nonlinearity (PyTorch's table): tanh 5/3, relu √2,
 * leaky_relu √(2/(1+slope²)), selu 3/4, others 1.
 *
 * @throws {TypeError} for an unknown nonlinearity.
 * @example
 * ```ts
 * calculateGain("relu"); // 1.4142135623730951
 * ```
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  return gainOf("calculateGain", nonlinearity, param);
}

/** {@link calculateGain}, with the name its errors carry. */
function gainOf(op: string, nonlinearity: Nonlinearity, param?: number): number {
  if (param !== undefined && (typeof param !== "number" || !Number.isFinite(param))) throw new RangeError(`${op}: param must be a finite number (got ${String(param)})`);
  switch (nonlinearity) {
    case "linear": case "identity": case "sigmoid": case "conv2d": return 1;
    case "tanh": return 5 / 3;
    case "relu": return Math.SQRT2;
    case "leaky_relu": { const s = param ?? 0.01; return Math.sqrt(2 / (1 + s * s)); }
    case "selu": return 3 / 4;
    default: throw new TypeError(`${op}: unknown nonlinearity ${String(nonlinearity)}`);
  }
}

/**
 * `[fanIn, fanOut]` of a weight shape.
 *
 * @throws {ShapeError} for shapes with fewer than 2 dimensions.
 * @example
 * ```ts
 * fans([256, 784]); // [784, 256]
 * ```
 */
export function fans(shape: readonly number[]): [number, number] {
  return fansOf("fans", shape);
}

/** {@link fans}, with the name its errors carry. */
function fansOf(op: string, shape: readonly number[]): [number, number] {
  checkShape(op, shape);
  if (shape.length < 2) throw new ShapeError(op, "fan in and fan out need a weight with at least 2 dimensions", [shape]);
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i]!;
  return [shape[1]! * receptive, shape[0]! * receptive];
}

/** Common options: the generator (default: the global one). */
export interface InitOptions {
  rng?: Rng;
}

/** Checks an initialiser's shape, rng and numeric arguments, naming the initialiser. */
function checkInit(op: string, shape: readonly number[], opts: InitOptions, nums: Record<string, number | undefined>): void {
  checkShape(op, shape);
  if (opts.rng !== undefined && !(opts.rng instanceof Rng)) throw new TypeError(`${op}: rng must be an Rng (got ${opts.rng === null ? "null" : typeof opts.rng})`);
  for (const [name, v] of Object.entries(nums)) {
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v))) throw new RangeError(`${op}: ${name} must be a finite number (got ${String(v)})`);
  }
}

/**
 * Uniform values in `[low, high)`.
 *
 * @throws {ShapeError} for an invalid shape (negative or fractional sizes).
 * @example
 * ```ts
 * uniform([3], -0.1, 0.1, { rng: new Rng(0) });
 * ```
 */
export function uniform(shape: readonly number[], low = 0, high = 1, opts: InitOptions = {}): Tensor {
  checkInit("uniform", shape, opts, { low, high });
  if (low > high) throw new RangeError(`uniform: need low <= high (got ${low}, ${high})`);
  return rand(shape, opts.rng ?? defaultRng, low, high);
}

/**
 * Normal values with the given mean and standard deviation.
 *
 * @throws {ShapeError} for an invalid shape (negative or fractional sizes).
 * @example
 * ```ts
 * normal([3, 3], 0, 0.02);
 * ```
 */
export function normal(shape: readonly number[], mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  checkInit("normal", shape, opts, { mean, std });
  if (std < 0) throw new RangeError(`normal: std must be non-negative (got ${std})`);
  return randn(shape, opts.rng ?? defaultRng, mean, std);
}

/**
 * Xavier/Glorot uniform: `U(−a, a)`, `a = gain·√(6/(fanIn+fanOut))`.
 *
 * @throws {ShapeError} for shapes with fewer than 2 dimensions.
 * @example
 * ```ts
 * xavierUniform([64, 32], { gain: calculateGain("tanh") });
 * ```
 */
export function xavierUniform(shape: readonly number[], opts: InitOptions & { gain?: number } = {}): Tensor {
  checkInit("xavierUniform", shape, opts, { gain: opts.gain });
  const [fi, fo] = fansOf("xavierUniform", shape);
  const a = (opts.gain ?? 1) * Math.sqrt(6 / (fi + fo));
  return uniform(shape, -a, a, opts);
}

/**
 * Xavier/Glorot normal: `N(0, std²)`, `std = gain·√(2/(fanIn+fanOut))`.
 *
 * @throws {ShapeError} for shapes with fewer than 2 dimensions.
 * @example
 * ```ts
 * xavierNormal([64, 32]);
 * ```
 */
export function xavierNormal(shape: readonly number[], opts: InitOptions & { gain?: number } = {}): Tensor {
  checkInit("xavierNormal", shape, opts, { gain: opts.gain });
  const [fi, fo] = fansOf("xavierNormal", shape);
  return normal(shape, 0, (opts.gain ?? 1) * Math.sqrt(2 / (fi + fo)), opts);
}

/** Options of the Kaiming initialisers (PyTorch defaults: a = 0, fanIn, leaky_relu). */
export interface KaimingOptions extends InitOptions {
  a?: number;
  mode?: "fanIn" | "fanOut";
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, shape: readonly number[], o: KaimingOptions): number {
  checkInit(op, shape, o, { a: o.a });
  const mode = o.mode ?? "fanIn";
  if (mode !== "fanIn" && mode !== "fanOut") throw new TypeError(`${op}: mode must be "fanIn" or "fanOut" (got ${String(mode)})`);
  const [fi, fo] = fansOf(op, shape);
  const fan = mode === "fanIn" ? fi : fo;
  return gainOf(op, o.nonlinearity ?? "leaky_relu", o.a ?? 0) / Math.sqrt(fan);
}

/**
 * Kaiming/He uniform: `U(−b, b)`, `b = gain·√(3/fan)`.
 *
 * @throws {ShapeError} for shapes with fewer than 2 dimensions.
 * @example
 * ```ts
 * kaimingUniform([256, 784], { nonlinearity: "relu" });
 * ```
 */
export function kaimingUniform(shape: readonly number[], opts: KaimingOptions = {}): Tensor {
  const b = Math.sqrt(3) * kaimingStd("kaimingUniform", shape, opts);
  return uniform(shape, -b, b, opts);
}

/**
 * Kaiming/He normal: `N(0, (gain/√fan)²)`.
 *
 * @throws {ShapeError} for shapes with fewer than 2 dimensions.
 * @example
 * ```ts
 * kaimingNormal([256, 784], { nonlinearity: "relu" });
 * ```
 */
export function kaimingNormal(shape: readonly number[], opts: KaimingOptions = {}): Tensor {
  return normal(shape, 0, kaimingStd("kaimingNormal", shape, opts), opts);
}

/**
 * A (semi-)orthogonal matrix scaled by `gain`: the weight flattened to `[shape[0], rest]` has
 * orthonormal rows or columns (Saxe et al. 2013; PyTorch's QR-of-a-Gaussian recipe with the sign
 * correction that makes the distribution uniform). QR by Householder reflections in float64.
 *
 * @throws {ShapeError} for shapes with fewer than 2 dimensions.
 * @example
 * ```ts
 * orthogonal([16, 16], { gain: 1, rng: new Rng(0) });
 * ```
 */
export function orthogonal(shape: readonly number[], opts: InitOptions & { gain?: number } = {}): Tensor {
  checkInit("orthogonal", shape, opts, { gain: opts.gain });
  if (shape.length < 2) throw new ShapeError("orthogonal", "needs at least 2 dimensions", [shape]);
  const rows = shape[0]!;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  const g = randn([rows, cols], opts.rng ?? defaultRng).toFloat32Array();
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  // A (m×n, m >= n) in float64, column-major for convenient Householder updates.
  const a = new Float64Array(m * n);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    const v = g[i * cols + j]!;
    if (tall) a[j * m + i] = v;
    else a[i * m + j] = v;
  }
  const q = householderQ(a, m, n);
  const out = new Float32Array(rows * cols);
  const gain = opts.gain ?? 1;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (tall ? q[j * m + i]! : q[i * m + j]!);
  return new Tensor(out, shape);
}

/** Thin Q (m×n, column-major) of A = QR with R's diagonal made positive. */
function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const vs: Float64Array[] = [];
  const signs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[k * m + i]! ** 2;
    norm = Math.sqrt(norm);
    const x0 = a[k * m + k]!;
    const alpha = x0 >= 0 ? -norm : norm; // R[k,k] = alpha
    const v = new Float64Array(m);
    v[k] = x0 - alpha;
    for (let i = k + 1; i < m; i++) v[i] = a[k * m + i]!;
    let vn = 0;
    for (let i = k; i < m; i++) vn += v[i]! ** 2;
    if (vn > 0) {
      for (let j = k; j < n; j++) {
        let d = 0;
        for (let i = k; i < m; i++) d += v[i]! * a[j * m + i]!;
        const f = (2 * d) / vn;
        for (let i = k; i < m; i++) a[j * m + i]! -= f * v[i]!;
      }
    }
    vs.push(v);
    signs[k] = alpha >= 0 ? 1 : -1;
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k]!;
    let vn = 0;
    for (let i = k; i < m; i++) vn += v[i]! ** 2;
    if (vn === 0) continue;
    for (let j = 0; j < n; j++) {
      let d = 0;
      for (let i = k; i < m; i++) d += v[i]! * q[j * m + i]!;
      const f = (2 * d) / vn;
      for (let i = k; i < m; i++) q[j * m + i]! -= f * v[i]!;
    }
  }
  for (let j = 0; j < n; j++) if (signs[j]! < 0) for (let i = 0; i < m; i++) q[j * m + i] = -q[j * m + i]!;
  return q;
}
