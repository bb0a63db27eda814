/**
 * @file Map kernels: an elementwise computation over several arrays at once (say a parameter, its
 * gradient and a momentum buffer), written once as an expression and run by every backend — the
 * pure-TS interpreter (`interpret.ts`) and code emitted for WebAssembly (`wasm/map-emitter.ts`)
 * — with the same bits. Optimizers define their update rules with it, so each rule exists once.
 *
 * Semantics, per element: every array element is read as a float64; arithmetic is float64
 * (`add sub mul div sqrt max min neg abs`, each correctly rounded, as JS numbers compute them);
 * `.f32()` rounds to float32 (`Math.fround`); `x.gt(y).select(a, b)` is `x > y ? a : b` (a
 * comparison is only usable as such a condition); an output is rounded to float32 when stored.
 * All reads of an element happen before any write, so an array may be both read and written.
 * `max`/`min` propagate NaN and order `-0 < +0` (as `Math.max`/`Math.min`). Every backend gives
 * the same bits for every non-NaN result; a NaN result is NaN everywhere, but its sign and
 * payload bits are unspecified (x86 SIMD and scalar code disagree on them, as JS engines may).
 *
 * @example
 * ```ts
 * // SGD with momentum: b ← μ·b + g (float32), θ ← θ − lr·b
 * const sgd = mapKernel("sgd", { arrays: ["p", "g", "b"], scalars: ["lr", "mu"] }, ({ p, g, b }, { lr, mu }) => {
 *   const b1 = mu.mul(b).f32().add(g).f32();
 *   return { b: b1, p: p.sub(lr.mul(b1)) };
 * });
 * foreachMap(sgd, [params, grads, bufs], [0.1, 0.9]);
 * ```
 */

/**
 * Operation codes of expression nodes and compiled instructions.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * kernel.instrs.filter((i) => i.op === MapOp.f32).length; // roundings to float32
 * ```
 */
export const MapOp = {
  input: 0, scalar: 1, const: 2,
  add: 3, sub: 4, mul: 5, div: 6, max: 7, min: 8,
  neg: 9, abs: 10, sqrt: 11, f32: 12,
  gt: 13, select: 14,
} as const;
/** One of the {@link MapOp} codes. */
export type MapOp = (typeof MapOp)[keyof typeof MapOp];

/** Binary operations, by name. */
export type BinaryMapOp = "add" | "sub" | "mul" | "div" | "max" | "min";

/**
 * A node of a map kernel's expression: a float64 value per element. Build with the methods;
 * numbers are constants.
 *
 * @throws {TypeError} from the methods for an operand that is neither an Expr nor a number.
 * @example
 * ```ts
 * x.mul(2).add(y).f32(); // fround(2x + y)
 * ```
 */
export class Expr {
  /**
   * A node; {@link mapKernel} builds the leaves (inputs, scalars, constants) and the methods build
   * the rest, so user code rarely calls this.
   *
   * @param op the operation.
   * @param a the first operand (null for leaves).
   * @param b the second operand (binary operations only).
   * @param index the array index (`input`) or scalar index (`scalar`).
   * @param value the value of a `const` node.
   * @param c the third operand (`select` only: the value where the condition is false).
   * @throws never (nothing is checked).
   * @example
   * ```ts
   * new Expr(MapOp.const, null, null, 0, 0.5); // the constant 0.5, as `x.mul(0.5)` makes it
   * ```
   */
  constructor(readonly op: MapOp, readonly a: Expr | null = null, readonly b: Expr | null = null, readonly index = 0, readonly value = 0, readonly c: Expr | null = null) {}

  /** `this + y`. @throws {TypeError} when `y` is neither an Expr nor a number. @example `y.add(a.mul(x)) // y + a·x, in a mapKernel body` */
  add(y: Expr | number): Expr {
    return new Expr(MapOp.add, this, lift(y));
  }
  /** `this − y`. @throws {TypeError} when `y` is neither an Expr nor a number. @example `p.sub(lr.mul(g)) // p − lr·g` */
  sub(y: Expr | number): Expr {
    return new Expr(MapOp.sub, this, lift(y));
  }
  /** `this · y`. @throws {TypeError} when `y` is neither an Expr nor a number. @example `mu.mul(b) // μ·b` */
  mul(y: Expr | number): Expr {
    return new Expr(MapOp.mul, this, lift(y));
  }
  /** `this / y`. @throws {TypeError} when `y` is neither an Expr nor a number. @example `m.div(v.sqrt().add(eps)) // m / (√v + ε)` */
  div(y: Expr | number): Expr {
    return new Expr(MapOp.div, this, lift(y));
  }
  /** `max(this, y)` (NaN if either is NaN). @throws {TypeError} when `y` is neither an Expr nor a number. @example `v.max(vMax) // AMSGrad's running maximum` */
  max(y: Expr | number): Expr {
    return new Expr(MapOp.max, this, lift(y));
  }
  /** `min(this, y)` (NaN if either is NaN). @throws {TypeError} when `y` is neither an Expr nor a number. @example `g.min(c).max(-c) // clip g into [−c, c]` */
  min(y: Expr | number): Expr {
    return new Expr(MapOp.min, this, lift(y));
  }
  /** `−this`. @throws never. @example `g.neg() // −g (maximize)` */
  neg(): Expr {
    return new Expr(MapOp.neg, this);
  }
  /** `|this|`. @throws never. @example `g.abs() // |g|` */
  abs(): Expr {
    return new Expr(MapOp.abs, this);
  }
  /** `√this` (correctly rounded). @throws never. @example `v.sqrt().add(eps) // √v + ε` */
  sqrt(): Expr {
    return new Expr(MapOp.sqrt, this);
  }
  /** Rounded to float32 (`Math.fround`). @throws never. @example `mu.mul(b).f32().add(g).f32() // the float32 steps of PyTorch's momentum` */
  f32(): Expr {
    return new Expr(MapOp.f32, this);
  }
  /**
   * The condition `this > y` (false when either is NaN), usable only as the condition of
   * {@link Expr.select}.
   *
   * @throws {TypeError} when `y` is neither an Expr nor a number.
   * @example
   * ```ts
   * x.gt(0).select(g, 0); // ReLU's gradient: g where x > 0, else 0
   * ```
   */
  gt(y: Expr | number): Expr {
    return new Expr(MapOp.gt, this, lift(y));
  }
  /**
   * `ifTrue` where this condition holds, else `ifFalse` (this must be a comparison such as
   * {@link Expr.gt}).
   *
   * @throws {TypeError} when this is not a comparison, or an operand is neither an Expr nor a number.
   * @example
   * ```ts
   * x.gt(0).select(x, 0); // max(x, 0) without NaN propagation
   * ```
   */
  select(ifTrue: Expr | number, ifFalse: Expr | number): Expr {
    if (this.op !== MapOp.gt) throw new TypeError("mapKernel: select() needs a comparison as its condition, e.g. x.gt(0).select(a, b)");
    return new Expr(MapOp.select, this, lift(ifTrue), 0, 0, lift(ifFalse));
  }
}

function lift(y: Expr | number): Expr {
  if (y instanceof Expr) return y;
  if (typeof y !== "number") throw new TypeError(`mapKernel: an operand must be an Expr or a number (got ${typeof y})`);
  return new Expr(MapOp.const, null, null, 0, y);
}

/** The names of a kernel's arrays and scalars. */
export interface MapSignature<A extends string, S extends string> {
  /** Array operands, in the order lists are passed to `foreachMap`. */
  readonly arrays: readonly A[];
  /** Scalar parameters, in the order their values are passed. */
  readonly scalars: readonly S[];
}

/** One instruction of a compiled kernel: `slot[dst] = op(a, b, c)`. */
export interface MapInstr {
  readonly op: MapOp;
  /** Destination slot. */
  readonly dst: number;
  /** For `input`: the array index; otherwise the first operand's slot (`select`: the condition). */
  readonly a: number;
  /** The second operand's slot (binary ops, `select`), else -1. */
  readonly b: number;
  /** The third operand's slot (`select`), else -1. */
  readonly c: number;
}

/**
 * A compiled map kernel (see {@link mapKernel}): straight-line code over numbered slots. Slots
 * `0 .. numScalars−1` hold the scalar parameters and then the constants (one value per call);
 * the others hold one value per element.
 *
 * @throws never (construct with {@link mapKernel}).
 * @example
 * ```ts
 * const k = mapKernel("double", { arrays: ["x"], scalars: [] }, ({ x }) => ({ x: x.mul(2) }));
 * k.numArrays; // 1
 * ```
 */
export class MapKernel {
  /** Identifies the kernel in messages. */
  readonly name: string;
  /** Number of array operands. */
  readonly numArrays: number;
  /** Number of scalar parameters. */
  readonly numScalars: number;
  /** Constants, in slots `numScalars ..`. */
  readonly consts: readonly number[];
  /** Instructions in evaluation order (loads first). */
  readonly instrs: readonly MapInstr[];
  /** `[array, slot]`: what is stored into which array, after every instruction ran. */
  readonly outputs: readonly (readonly [number, number])[];
  /** Number of slots. */
  readonly numSlots: number;
  /** A canonical text of the program (equal programs, equal keys). */
  readonly key: string;
  /** Per array: whether the program reads it (arrays only written need not be loaded). */
  readonly reads: readonly boolean[];

  /**
   * @internal use {@link mapKernel}.
   * @throws never (the program is not checked).
   * @example
   * ```ts
   * mapKernel("double", { arrays: ["x"], scalars: [] }, ({ x }) => ({ x: x.mul(2) })); // calls this
   * ```
   */
  constructor(name: string, numArrays: number, numScalars: number, consts: number[], instrs: MapInstr[], outputs: [number, number][], numSlots: number) {
    this.name = name;
    this.numArrays = numArrays;
    this.numScalars = numScalars;
    this.consts = consts;
    this.instrs = instrs;
    this.outputs = outputs;
    this.numSlots = numSlots;
    this.reads = Array.from({ length: numArrays }, (_, j) => instrs.some((i) => i.op === MapOp.input && i.a === j));
    this.key = `${numArrays}|${numScalars}|${consts.join(",")}|${instrs.map((i) => `${i.op}:${i.dst}:${i.a}:${i.b}:${i.c}`).join(";")}|${outputs.join(";")}`;
  }

  /**
   * True when `slot` holds a per-call value (a scalar or a constant).
   *
   * @throws never.
   * @example
   * ```ts
   * k.isUniform(0); // true when the kernel has a scalar parameter
   * ```
   */
  isUniform(slot: number): boolean {
    return slot < this.numScalars + this.consts.length;
  }
}

/**
 * Compiles a map kernel from its expression: `body` receives one {@link Expr} per array element
 * and per scalar, and returns the new values of the arrays it writes (by name). Shared
 * subexpressions are computed once.
 *
 * @throws {TypeError} for an unknown output name or an operand that is not an Expr or number.
 * @example
 * ```ts
 * const axpy = mapKernel("axpy", { arrays: ["y", "x"], scalars: ["a"] }, ({ y, x }, { a }) => ({ y: y.add(a.mul(x)) }));
 * ```
 */
export function mapKernel<A extends string, S extends string>(
  name: string,
  signature: MapSignature<A, S>,
  body: (arrays: Record<A, Expr>, scalars: Record<S, Expr>) => Partial<Record<A, Expr>>,
): MapKernel {
  const arrays = {} as Record<A, Expr>;
  signature.arrays.forEach((n, i) => (arrays[n] = new Expr(MapOp.input, null, null, i)));
  const scalars = {} as Record<S, Expr>;
  signature.scalars.forEach((n, i) => (scalars[n] = new Expr(MapOp.scalar, null, null, i)));
  const result = body(arrays, scalars);
  const outputs: [number, Expr][] = [];
  for (const [n, e] of Object.entries(result) as [A, Expr | undefined][]) {
    const i = signature.arrays.indexOf(n);
    if (i < 0) throw new TypeError(`mapKernel ${name}: "${n}" is not one of its arrays (${signature.arrays.join(", ")})`);
    if (!(e instanceof Expr)) throw new TypeError(`mapKernel ${name}: output "${n}" must be an Expr`);
    outputs.push([i, e]);
  }
  // 1. Post-order over the DAG (each node once): constants and per-element nodes.
  const consts: number[] = [];
  const order: Expr[] = [];
  const seen = new Set<Expr>();
  const visit = (e: Expr): void => {
    if (seen.has(e)) return;
    seen.add(e);
    if (e.op === MapOp.scalar) return;
    if (e.op === MapOp.const) {
      if (!consts.some((c) => Object.is(c, e.value))) consts.push(e.value);
      return;
    }
    for (const operand of [e.a, e.b, e.c]) {
      if (!operand) continue;
      if (operand.op === MapOp.gt && !(e.op === MapOp.select && operand === e.a)) {
        throw new TypeError(`mapKernel ${name}: a comparison can only be the condition of select()`);
      }
      visit(operand);
    }
    order.push(e);
  };
  for (const [, e] of outputs) {
    if (e.op === MapOp.gt) throw new TypeError(`mapKernel ${name}: a comparison can only be the condition of select()`);
    visit(e);
  }
  // 2. Slots: scalars, constants, then per-element values (loads first: every read precedes a write).
  const numScalars = signature.scalars.length;
  const base = numScalars + consts.length;
  const elementwise = [...order.filter((e) => e.op === MapOp.input), ...order.filter((e) => e.op !== MapOp.input)];
  const slot = new Map<Expr, number>();
  elementwise.forEach((e, k) => slot.set(e, base + k));
  const slotOf = (e: Expr): number => {
    if (e.op === MapOp.scalar) return e.index;
    if (e.op === MapOp.const) return numScalars + consts.findIndex((c) => Object.is(c, e.value));
    return slot.get(e)!;
  };
  const instrs: MapInstr[] = elementwise.map((e) => ({
    op: e.op,
    dst: slot.get(e)!,
    a: e.op === MapOp.input ? e.index : slotOf(e.a!),
    b: e.b ? slotOf(e.b) : -1,
    c: e.c ? slotOf(e.c) : -1,
  }));
  const outs = outputs.map(([arr, e]) => [arr, slotOf(e)] as [number, number]);
  return new MapKernel(name, signature.arrays.length, numScalars, consts, instrs, outs, base + elementwise.length);
}
