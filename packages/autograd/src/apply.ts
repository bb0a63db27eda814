/**
 * @file `apply`: how every op runs. It computes the forward value from plain tensors and, when an
 * input requires grad and recording is on, records a {@link Node} on the tape (see `var.ts`).
 */
import { Tensor, asTensor } from "@tapegrad/tensor";
import type { OpRule } from "./rule.js";
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
 * Runs an op: computes the forward value with `rule.forward` on plain tensors and, when any input
 * requires grad and recording is on, records a node for `backward`. This is how every op (and any
 * custom op) is built.
 *
 * @throws whatever the forward computation throws (e.g. ShapeError).
 * @example
 * ```ts
 * const out = apply("mul", mulRule, {}, [a, b]);
 * ```
 */
export function apply<A, S>(op: string, rule: OpRule<A, S>, attrs: A, inputs: readonly VarLike[]): Var {
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
