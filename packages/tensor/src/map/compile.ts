/**
 * @file Compiling a map kernel's expression (`expr.ts`) into straight-line code over numbered
 * slots, the form both backends run: the interpreter (`interpret.ts`) and the WebAssembly emitter
 * (`wasm/map-emitter.ts`).
 */
import { CONDITION_OPS, Expr, MapOp } from "./expr.js";

/** The names of a kernel's arrays and scalars. */
export interface MapSignature<A extends string, S extends string> {
  /** Array operands, in the order lists are passed to `foreachMap`. */
  readonly arrays: readonly A[];
  /** Scalar parameters, in the order their values are passed. */
  readonly scalars: readonly S[];
  /**
   * Scalars are float32 parameters: each value is rounded to float32 when the kernel is called
   * (as PyTorch converts a Python float to the tensor's dtype), so operations mixing them with
   * float32 values may run on float32 vectors. Default false (float64 scalars).
   */
  readonly f32Scalars?: boolean;
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
  /** For `call`: the host function's index (`host.ts`), else -1. */
  readonly fn: number;
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
  /** Scalars are rounded to float32 when passed (see {@link MapSignature.f32Scalars}). */
  readonly f32Scalars: boolean;
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
  /** Per array: whether the program writes it. */
  readonly writes: readonly boolean[];
  /** True when the program calls a host function (it then runs in the interpreter everywhere). */
  readonly usesHost: boolean;

  /**
   * @internal use {@link mapKernel}.
   * @throws never (the program is not checked).
   * @example
   * ```ts
   * mapKernel("double", { arrays: ["x"], scalars: [] }, ({ x }) => ({ x: x.mul(2) })); // calls this
   * ```
   */
  constructor(name: string, numArrays: number, numScalars: number, f32Scalars: boolean, consts: number[], instrs: MapInstr[], outputs: [number, number][], numSlots: number) {
    this.name = name;
    this.numArrays = numArrays;
    this.numScalars = numScalars;
    this.f32Scalars = f32Scalars;
    this.consts = consts;
    this.instrs = instrs;
    this.outputs = outputs;
    this.numSlots = numSlots;
    this.reads = Array.from({ length: numArrays }, (_, j) => instrs.some((i) => i.op === MapOp.input && i.a === j));
    this.writes = Array.from({ length: numArrays }, (_, j) => outputs.some(([arr]) => arr === j));
    this.usesHost = instrs.some((i) => i.op === MapOp.call);
    const text = instrs.map((i) => `${i.op}:${i.dst}:${i.a}:${i.b}:${i.c}:${i.fn}`).join(";");
    this.key = `${numArrays}|${numScalars}${f32Scalars ? "f" : ""}|${consts.join(",")}|${text}|${outputs.join(";")}`;
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

  /**
   * The scalar values as the kernel uses them (rounded to float32 for `f32Scalars` kernels).
   *
   * @throws never.
   * @example
   * ```ts
   * k.scalarValues([0.1]); // [0.10000000149011612] for an f32Scalars kernel
   * ```
   */
  scalarValues(scalars: readonly number[]): readonly number[] {
    return this.f32Scalars ? scalars.map((s) => Math.fround(s)) : scalars;
  }
}

/** Outputs that are float32 values already need no rounding node. */
const F32_VALUED: ReadonlySet<number> = new Set([MapOp.input, MapOp.f32, MapOp.scalbn, MapOp.exponent, MapOp.mantissa, MapOp.pow2]);

/**
 * Compiles a map kernel from its expression: `body` receives one {@link Expr} per array element
 * and per scalar, and returns the new values of the arrays it writes (by name). Shared
 * subexpressions are computed once.
 *
 * @throws {TypeError} for an unknown output name, an operand that is not an Expr or number, or a
 * condition used as a value (or a value as a condition).
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
    if (CONDITION_OPS.has(e.op)) throw new TypeError(`mapKernel ${name}: a condition can only be used by select(), and() or or()`);
    // Stores round to float32: make that an explicit node, so backends can fuse it.
    const rounded = F32_VALUED.has(e.op) || e.op === MapOp.scalar || e.op === MapOp.const ? e : e.f32();
    outputs.push([i, rounded]);
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
    [e.a, e.b, e.c].forEach((operand, k) => {
      if (!operand) return;
      const wantCondition = (e.op === MapOp.select && k === 0) || e.op === MapOp.and || e.op === MapOp.or;
      if (CONDITION_OPS.has(operand.op) !== wantCondition) {
        throw new TypeError(`mapKernel ${name}: ${wantCondition ? "select(), and() and or() need conditions" : "a condition can only be used by select(), and() or or()"}`);
      }
      visit(operand);
    });
    order.push(e);
  };
  for (const [, e] of outputs) visit(e);
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
    fn: e.op === MapOp.call ? e.index : -1,
  }));
  const outs = outputs.map(([arr, e]) => [arr, slotOf(e)] as [number, number]);
  return new MapKernel(name, signature.arrays.length, numScalars, signature.f32Scalars === true, consts, instrs, outs, base + elementwise.length);
}
