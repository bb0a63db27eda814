/**
 * @file `apply`: how every op runs. `apply(op, attrs, inputs)` looks the built-in op's rule up in
 * the typed table (`rules.ts`), so the op name and its attributes are checked by the compiler;
 * custom ops (`defineOp`) bring their own rule through `applyRule`. Both end in `applyRule`, the
 * one recording path: it computes the forward value from plain tensors and, when an input
 * requires grad and recording is on, records a {@link Node} on the tape (see `var.ts`) under the
 * op's name (a table key, or the custom op's own name).
 */
import { Tensor, asTensor } from "@tapegrad/tensor";
import type { OpRule } from "./rule.js";
import { opRules, type OpAttrs, type OpName } from "./rules.js";
import { Node } from "./node.js";
import { Var } from "./var.js";
import { isGradEnabled } from "./grad-mode.js";

/** Position of the next recorded node on the tape (execution order). */
let sequence = 0;

/** Anything an op accepts as an input: a Var, a Tensor (constant) or a number (0-d constant). */
export type VarLike = Var | Tensor | number;

/**
 * Lifts an op input to a Var (Tensors and numbers become constants).
 *
 * @throws {TypeError} for anything else.
 * @example
 * ```ts
 * toVar(2).shape; // []
 * ```
 */
export function toVar(x: VarLike, op = "op"): Var {
  if (x instanceof Var) return x;
  if (x instanceof Tensor || typeof x === "number") return new Var(asTensor(x, op), false);
  throw new TypeError(`${op}: expected a Var, Tensor or number (got ${x === null ? "null" : typeof x})`);
}

/**
 * Runs the built-in primitive `op` on `inputs` with its rule from {@link opRules}: computes the
 * forward value on plain tensors and, when any input requires grad and recording is on, records a
 * node named `op` (exactly the table key) for `backward`. `attrs` has the type the op's rule
 * declares ({@link OpAttrs}), so a wrong attribute or an unknown op name does not compile.
 *
 * @throws {TypeError} for an op name that is not in the table (only reachable from untyped code)
 * or an input that is not a Var, Tensor or number; otherwise whatever the forward computation
 * throws (e.g. ShapeError).
 * @example
 * ```ts
 * const y = apply("mul", {}, [a, b]);
 * const z = apply("leakyRelu", { slope: 0.1 }, [y]);
 * apply("add", { axis: 1 }, [a, b]); // compile error: `add` takes no attributes
 * ```
 */
export function apply<K extends OpName>(op: K, attrs: OpAttrs<K>, inputs: readonly VarLike[]): Var {
  if (!Object.hasOwn(opRules, op)) throw new TypeError(`apply: unknown op ${JSON.stringify(op)} (not in OP_NAMES; use defineOp for a custom op)`);
  // The table's type pairs each key with its rule's attribute type; indexing by a generic key
  // loses that pairing, so restate it.
  return applyRule(op, opRules[op] as OpRule<OpAttrs<K>, unknown>, attrs, inputs);
}

/**
 * The one recording path behind {@link apply} and `defineOp`: runs `rule.forward` on the inputs'
 * tensors and, when any input requires grad and recording is on, records a node named `op` with
 * `rule` for `backward`. Internal: built-in ops go through `apply`, custom ones through
 * `defineOp`, which keeps its user-given name on the tape.
 *
 * @internal
 * @throws {TypeError} for an input that is not a Var, Tensor or number; otherwise whatever
 * `rule.forward` throws (e.g. ShapeError).
 * @example
 * ```ts
 * const cube = (x: VarLike) => applyRule("cube", cubeRule, {}, [x]); // recorded as "cube"
 * ```
 */
export function applyRule<A, S>(op: string, rule: OpRule<A, S>, attrs: A, inputs: readonly VarLike[]): Var {
  const vars = inputs.map((x) => toVar(x, op));
  const xs = vars.map((v) => v.value);
  const res = rule.forward(xs, attrs);
  const y = res instanceof Tensor ? res : res.value;
  let needsAny = false;
  const recording = isGradEnabled();
  const needs = vars.map((v) => {
    const n = recording && v.requiresGrad;
    needsAny ||= n;
    return n;
  });
  if (!needsAny) return new Var(y, false);
  const saved = res instanceof Tensor ? undefined : res.saved;
  const node = new Node(++sequence, op, rule, vars.map((v, i) => (needs[i] ? v : null)), needs, attrs, saved, xs, y);
  const out = new Var(y, true, node);
  node.out = out;
  return out;
}
