/**
 * @file The functional API: `backward`, `gradients` (like `torch.autograd.grad`), `grad` and
 * `valueAndGrad` (like JAX), and `defineOp` for custom ops with hand-written rules.
 */
import { Tensor, ShapeError, asTensor } from "@tapegrad/tensor";
import { Var } from "./var.js";
import { applyRule, toVar, type VarLike } from "./apply.js";
import type { NoAttrs, OpRule } from "./rule.js";
import { runBackward, type BackwardOptions } from "./backward.js";

/**
 * Backpropagates from `root` (a scalar, or any shape with a `seed` of that shape), accumulating
 * into the `.grad` of every leaf that requires grad. Releases the graph unless `retainGraph`.
 *
 * @throws {ShapeError} for a non-scalar root without a seed; {Error} for a released graph or a
 * root that does not require grad.
 * @example
 * ```ts
 * backward(loss);
 * backward(y, ones(y.shape)); // vector-Jacobian product with a seed
 * ```
 */
export function backward(root: Var, seed?: Tensor | number, opts: BackwardOptions = {}): void {
  if (!(root instanceof Var)) throw new TypeError(`backward: root must be a Var (got ${describeArg(root)})`);
  runBackward(root, seed, opts);
}

/**
 * Gradients of `root` with respect to `inputs`, returned rather than accumulated into `.grad`
 * (no `.grad` is touched). Inputs the root does not depend on get zeros.
 *
 * @throws as {@link backward}.
 * @example
 * ```ts
 * const [gw, gb] = gradients(loss, [w, b]);
 * ```
 */
export function gradients(root: Var, inputs: readonly Var[], seed?: Tensor | number, opts: BackwardOptions = {}): Tensor[] {
  if (!(root instanceof Var)) throw new TypeError(`gradients: root must be a Var (got ${describeArg(root)})`);
  if (!Array.isArray(inputs)) throw new TypeError(`gradients: inputs must be an array of Vars (got ${describeArg(inputs)})`);
  for (const v of inputs) if (!(v instanceof Var)) throw new TypeError("gradients: inputs must be Vars");
  if (!root.requiresGrad) return inputs.map((v) => new Tensor(new Float32Array(v.size), v.shape));
  return runBackward(root, seed, opts, inputs)!;
}

/** Options of {@link grad} and {@link valueAndGrad}. */
export interface GradOptions {
  /** Which positional arguments to differentiate (default 0). */
  argnums?: number | readonly number[];
}

/**
 * `valueAndGrad(f)` returns a function computing `f(...args)` and its gradient with respect to
 * the arguments in `argnums` (JAX style). `f` receives Vars and must return a scalar Var.
 *
 * @throws {ShapeError} when `f` does not return a one-element value; {RangeError} for bad argnums.
 * @example
 * ```ts
 * const f = (x: Var) => sum(mul(x, x));
 * const { value, grad } = valueAndGrad(f)(tensor([1, 2])); // value 5, grad [2, 4]
 * ```
 */
export function valueAndGrad<F extends (...args: Var[]) => Var | Tensor | number>(f: F, opts: GradOptions = {}): (...args: VarLike[]) => { value: Tensor; grad: Tensor | Tensor[] } {
  return valueAndGradOf("valueAndGrad", f, opts);
}

/** A short description of a bad argument for messages (`null`, `an array`, `string`, ...). */
function describeArg(x: unknown): string {
  return x === null ? "null" : Array.isArray(x) ? "an array" : x instanceof Tensor ? "a Tensor" : typeof x;
}

/** {@link valueAndGrad}, with the name its errors carry (`valueAndGrad` or `grad`). */
function valueAndGradOf<F extends (...args: Var[]) => Var | Tensor | number>(op: string, f: F, opts: GradOptions): (...args: VarLike[]) => { value: Tensor; grad: Tensor | Tensor[] } {
  if (typeof f !== "function") throw new TypeError(`${op}: f must be a function (got ${describeArg(f)})`);
  const multi = Array.isArray(opts.argnums);
  const argnums = opts.argnums === undefined ? [0] : typeof opts.argnums === "number" ? [opts.argnums] : Array.from(opts.argnums);
  return (...args: VarLike[]) => {
    for (const i of argnums) {
      if (!Number.isInteger(i) || i < 0 || i >= args.length) throw new RangeError(`${op}: argnum ${i} is out of range for ${args.length} arguments`);
    }
    const vars = args.map((a, i) => (argnums.includes(i) ? new Var(a instanceof Var ? a.value : asTensor(a, op), true) : toVar(a, op)));
    const out = f(...vars);
    const value = out instanceof Var ? out.value : asTensor(out, op);
    if (value.size !== 1) throw new ShapeError(op, "f must return a scalar (one element)", [value.shape]);
    const targets = argnums.map((i) => vars[i]!);
    const grads = out instanceof Var ? gradients(out, targets) : targets.map((v) => new Tensor(new Float32Array(v.size), v.shape));
    return { value, grad: multi ? grads : grads[0]! };
  };
}

/**
 * `grad(f)` returns a function computing the gradient of scalar `f` with respect to the
 * arguments in `argnums` (default the first).
 *
 * @throws as {@link valueAndGrad}.
 * @example
 * ```ts
 * const df = grad((x: Var) => sum(square(x)));
 * df(tensor([3])).toArray(); // [6]
 * ```
 */
export function grad<F extends (...args: Var[]) => Var | Tensor | number>(f: F, opts: GradOptions = {}): (...args: VarLike[]) => Tensor | Tensor[] {
  const vg = valueAndGradOf("grad", f, opts);
  return (...args: VarLike[]) => vg(...args).grad;
}

/**
 * Defines a custom differentiable op from a forward function on tensors and its vector-Jacobian
 * product (attributes can be captured in closures). The returned function records the op like a
 * built-in one, through the same recording path as `apply`, under the given `name` (on the tape,
 * in `v.node.op` and in error messages). Built-in ops are looked up by name in `opRules`; a custom
 * op is not added to that table, so its name may be anything.
 *
 * @throws {TypeError} when `rule` lacks a `forward` or `backward` function; the returned function
 * throws whatever `rule.forward` throws.
 * @example
 * ```ts
 * const cube = defineOp("cube", {
 *   forward: ([x]) => mulT(mulT(x!, x!), x!),
 *   backward: (dy, c) => [mulT(dy, mulT(mulT(c.x[0]!, c.x[0]!), 3))], // d x³ = 3x²
 * });
 * cube(v);
 * ```
 */
export function defineOp<S = undefined>(name: string, rule: OpRule<NoAttrs, S>): (...inputs: VarLike[]) => Var {
  if (typeof name !== "string" || name === "") throw new TypeError(`defineOp: name must be a non-empty string (got ${describeArg(name)})`);
  if (typeof rule?.forward !== "function" || typeof rule?.backward !== "function") throw new TypeError(`defineOp: ${name} needs forward and backward functions`);
  return (...inputs: VarLike[]) => applyRule(name, rule, {}, inputs);
}
