/**
 * @file Every elementwise op, defined once as a map kernel (`expr.ts`): the forward ops
 * ({@link UnOp}, {@link BinOp}) and the fused backward rules autograd uses (`BinOp.*_GRAD`).
 * Each backend runs these definitions (the interpreter, or WebAssembly compiled from them), so an
 * op has one definition and every backend gives the same bits.
 *
 * Unary kernels have arrays `[o, x]`, binary ones `[o, a, b]` (`a` is the upstream gradient of a
 * `*_GRAD` rule, `b` the saved input or output named in its comment), and every kernel takes two
 * parameters `p0`, `p1` (unused ones ignored). Op parameters such as a slope or clamp bounds are
 * float32 values (rounded when passed, as PyTorch converts them to the tensor's dtype), except
 * `affine`'s scale and shift and `pow`'s exponent, which stay float64.
 */
import { Expr, host, lift } from "./expr.js";
import { mapKernel, type MapKernel } from "./compile.js";
import { expF, geluF, geluGradF, geluTanhF, geluTanhGradF, log1pExpF, logF, sigmoidF, tanhF } from "./math.js";

/**
 * Binary elementwise op codes.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * binaryOp("maximum", BinOp.MAXIMUM, a, b); // same as maximum(a, b)
 * ```
 */
export const BinOp = {
  ADD: 0, SUB: 1, MUL: 2, DIV: 3, POW: 4, MAXIMUM: 5, MINIMUM: 6,
  EQ: 7, NE: 8, LT: 9, LE: 10, GT: 11, GE: 12, ATAN2: 13,
  /** g * (x > 0) with b = x. */
  RELU_GRAD: 20,
  /** g * (x > 0 ? 1 : p0) with b = x. */
  LEAKY_RELU_GRAD: 21,
  /** g * (1 - y²) with b = y = tanh(x). */
  TANH_GRAD: 22,
  /** g * y * (1 - y) with b = y = sigmoid(x). */
  SIGMOID_GRAD: 23,
  /** g * (Φ(x) + x φ(x)) with b = x. */
  GELU_GRAD: 24,
  /** derivative of the tanh approximation, b = x. */
  GELU_TANH_GRAD: 25,
  /** g * sigmoid(p0 x) (or g when p0 x > p1), b = x. */
  SOFTPLUS_GRAD: 26,
  /** g * sign(x), b = x. */
  ABS_GRAD: 27,
  /** g * 0.5 / y with b = y = sqrt(x). */
  SQRT_GRAD: 28,
  /** g * p0 * x^(p0-1), b = x. */
  POW_GRAD: 29,
  /** g where p0 <= x <= p1, else 0; b = x. */
  CLAMP_GRAD: 30,
  /** g where b == 0, else 0 (routes gradients of max/min: b = x − y). */
  MASK_EQ_ZERO: 31,
} as const;
/** A binary op code. */
export type BinOp = (typeof BinOp)[keyof typeof BinOp];

/**
 * Unary elementwise op codes (`p0`, `p1` are op parameters).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * unaryOp("clamp", UnOp.CLAMP, x, undefined, -1, 1); // same as clamp(x, -1, 1)
 * ```
 */
export const UnOp = {
  COPY: 0, NEG: 1, EXP: 2, LOG: 3, SQRT: 4, RSQRT: 5, ABS: 6, SIGN: 7, TANH: 8, SIGMOID: 9,
  RELU: 10, LEAKY_RELU: 11, GELU: 12, GELU_TANH: 13, SOFTPLUS: 14, CLAMP: 15, POW: 16,
  SQUARE: 17, RECIPROCAL: 18, SIN: 19, COS: 20, LOG1P: 21, EXPM1: 22, FLOOR: 23, CEIL: 24,
  ROUND: 25, ISNAN: 26, ISFINITE: 27, ISINF: 28, NOT: 29, AFFINE: 30, TRUNC: 31,
} as const;
/** A unary op code. */
export type UnOp = (typeof UnOp)[keyof typeof UnOp];

type UnaryBody = (x: Expr, p0: Expr, p1: Expr) => Expr;
type BinaryBody = (a: Expr, b: Expr, p0: Expr, p1: Expr) => Expr;

const unary = (name: string, body: UnaryBody, f32Scalars = true): MapKernel =>
  mapKernel(name, { arrays: ["o", "x"], scalars: ["p0", "p1"], f32Scalars }, ({ x }, { p0, p1 }) => ({ o: body(x, p0, p1) }));
const binary = (name: string, body: BinaryBody, f32Scalars = true): MapKernel =>
  mapKernel(name, { arrays: ["o", "a", "b"], scalars: ["p0", "p1"], f32Scalars }, ({ a, b }, { p0, p1 }) => ({ o: body(a, b, p0, p1) }));
const flag = (c: Expr) => c.select(1, 0);

/** softplus(x) = x where βx > threshold, else log(1 + e^(βx))/β. */
const softplus: UnaryBody = (x, beta, threshold) => {
  const z = x.mul(beta).f32();
  return z.gt(threshold).select(x, log1pExpF(z).div(beta));
};

/**
 * The kernel of each unary op code.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * kernels().mapBlock(UNARY_KERNELS[UnOp.EXP], [o, x], ...);
 * ```
 */
export const UNARY_KERNELS: Readonly<Record<UnOp, MapKernel>> = {
  [UnOp.COPY]: unary("copy", (x) => x),
  [UnOp.NEG]: unary("neg", (x) => x.neg()),
  [UnOp.EXP]: unary("exp", (x) => expF(x)),
  [UnOp.LOG]: unary("log", (x) => logF(x)),
  [UnOp.SQRT]: unary("sqrt", (x) => x.sqrt()),
  [UnOp.RSQRT]: unary("rsqrt", (x) => lift(1).div(x.sqrt())),
  [UnOp.ABS]: unary("abs", (x) => x.abs()),
  [UnOp.SIGN]: unary("sign", (x) => x.gt(0).select(1, x.lt(0).select(-1, x))), // ±0 and NaN pass through
  [UnOp.TANH]: unary("tanh", (x) => tanhF(x)),
  [UnOp.SIGMOID]: unary("sigmoid", (x) => sigmoidF(x)),
  // max(x, 0) with NaN kept and −0 → +0, as comparisons and a mask (f32x4.max costs several
  // x86 instructions for its NaN and signed-zero rules; this is four)
  [UnOp.RELU]: unary("relu", (x) => x.gt(0).or(x.ne(x)).select(x, 0)),
  [UnOp.LEAKY_RELU]: unary("leakyRelu", (x, slope) => x.gt(0).select(x, x.mul(slope))),
  [UnOp.GELU]: unary("gelu", (x) => geluF(x)),
  [UnOp.GELU_TANH]: unary("geluTanh", (x) => geluTanhF(x)),
  [UnOp.SOFTPLUS]: unary("softplus", softplus),
  [UnOp.CLAMP]: unary("clamp", (x, lo, hi) => x.lt(lo).select(lo, x.gt(hi).select(hi, x))), // NaN stays NaN
  [UnOp.POW]: unary("powScalar", (x, e) => host("pow", x, e), false),
  [UnOp.SQUARE]: unary("square", (x) => x.mul(x)),
  [UnOp.RECIPROCAL]: unary("reciprocal", (x) => lift(1).div(x)),
  [UnOp.SIN]: unary("sin", (x) => host("sin", x)),
  [UnOp.COS]: unary("cos", (x) => host("cos", x)),
  [UnOp.LOG1P]: unary("log1p", (x) => host("log1p", x)),
  [UnOp.EXPM1]: unary("expm1", (x) => host("expm1", x)),
  [UnOp.FLOOR]: unary("floor", (x) => x.floor()),
  [UnOp.CEIL]: unary("ceil", (x) => x.ceil()),
  [UnOp.ROUND]: unary("round", (x) => x.nearest()),
  [UnOp.TRUNC]: unary("trunc", (x) => x.trunc()),
  [UnOp.ISNAN]: unary("isNaN", (x) => flag(x.ne(x))),
  [UnOp.ISFINITE]: unary("isFinite", (x) => flag(x.abs().lt(Infinity))),
  [UnOp.ISINF]: unary("isInf", (x) => flag(x.abs().eq(Infinity))),
  [UnOp.NOT]: unary("logicalNot", (x) => flag(x.eq(0))),
  [UnOp.AFFINE]: unary("affine", (x, scale, shift) => x.mul(scale).add(shift), false),
};

/**
 * The kernel of each binary op code.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * kernels().mapBlock(BINARY_KERNELS[BinOp.ADD], [o, a, b], ...);
 * ```
 */
export const BINARY_KERNELS: Readonly<Record<BinOp, MapKernel>> = {
  [BinOp.ADD]: binary("add", (a, b) => a.add(b)),
  [BinOp.SUB]: binary("sub", (a, b) => a.sub(b)),
  [BinOp.MUL]: binary("mul", (a, b) => a.mul(b)),
  [BinOp.DIV]: binary("div", (a, b) => a.div(b)),
  [BinOp.POW]: binary("pow", (a, b) => host("pow", a, b)),
  [BinOp.MAXIMUM]: binary("maximum", (a, b) => a.max(b)),
  [BinOp.MINIMUM]: binary("minimum", (a, b) => a.min(b)),
  [BinOp.EQ]: binary("eq", (a, b) => flag(a.eq(b))),
  [BinOp.NE]: binary("ne", (a, b) => flag(a.ne(b))),
  [BinOp.LT]: binary("lt", (a, b) => flag(a.lt(b))),
  [BinOp.LE]: binary("le", (a, b) => flag(a.le(b))),
  [BinOp.GT]: binary("gt", (a, b) => flag(a.gt(b))),
  [BinOp.GE]: binary("ge", (a, b) => flag(a.ge(b))),
  [BinOp.ATAN2]: binary("atan2", (a, b) => host("atan2", a, b)),
  // d relu = [x > 0]
  [BinOp.RELU_GRAD]: binary("reluGrad", (g, x) => x.gt(0).select(g, 0)),
  // d leakyRelu = 1 where x > 0, else the slope
  [BinOp.LEAKY_RELU_GRAD]: binary("leakyReluGrad", (g, x, slope) => x.gt(0).select(g, g.mul(slope))),
  // d tanh = 1 − tanh²
  [BinOp.TANH_GRAD]: binary("tanhGrad", (g, y) => g.mul(lift(1).sub(y.mul(y)))),
  // dσ = σ(1 − σ)
  [BinOp.SIGMOID_GRAD]: binary("sigmoidGrad", (g, y) => g.mul(y).mul(lift(1).sub(y))),
  // d gelu = Φ(x) + x φ(x)
  [BinOp.GELU_GRAD]: binary("geluGrad", (g, x) => g.mul(geluGradF(x))),
  [BinOp.GELU_TANH_GRAD]: binary("geluTanhGrad", (g, x) => g.mul(geluTanhGradF(x))),
  // d softplus = σ(βx), or 1 above the threshold
  [BinOp.SOFTPLUS_GRAD]: binary("softplusGrad", (g, x, beta, threshold) => {
    const z = x.mul(beta).f32();
    return z.gt(threshold).select(g, g.mul(sigmoidF(z)));
  }),
  // d|x| = sign(x), 0 at 0
  [BinOp.ABS_GRAD]: binary("absGrad", (g, x) => x.gt(0).select(g, x.lt(0).select(g.neg(), 0))),
  // d √x = 1/(2√x)
  [BinOp.SQRT_GRAD]: binary("sqrtGrad", (g, y) => g.mul(0.5).div(y)),
  // d xᵖ = p·x^(p−1) (0 for p = 0)
  [BinOp.POW_GRAD]: binary("powGrad", (g, x, p) => p.eq(0).select(0, g.mul(p).mul(host("pow", x, p.sub(1)))), false),
  // d clamp = 1 inside [min, max], else 0
  [BinOp.CLAMP_GRAD]: binary("clampGrad", (g, x, lo, hi) => x.ge(lo).and(x.le(hi)).select(g, 0)),
  [BinOp.MASK_EQ_ZERO]: binary("maskEqZero", (g, d) => d.eq(0).select(g, 0)),
};

/**
 * `where(cond, a, b)`: `a` where `cond` is non-zero (NaN counts as non-zero), else `b`; arrays
 * `[o, cond, a, b]`, no parameters.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * runMap(WHERE_KERNEL, shape, [out, cond, a, b], []);
 * ```
 */
export const WHERE_KERNEL: MapKernel = mapKernel("where", { arrays: ["o", "c", "a", "b"], scalars: [] }, ({ c, a, b }) => ({ o: c.ne(0).select(a, b) }));
