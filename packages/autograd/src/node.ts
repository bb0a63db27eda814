/**
 * @file `Node`: one op recorded on the tape (see `apply.ts` for the recording and `backward.ts`
 * for the walk that consumes it). A node holds only what the op left for its backward rule;
 * everything about one backward pass lives in that pass's own state object.
 */
import type { Tensor } from "@tapegrad/tensor";
import type { OpRule } from "./rule.js";
import type { Var } from "./var.js";

/**
 * One recorded op: its rule, inputs, attributes and saved data. Internal to the engine: ops
 * create nodes (through `apply`), user code only reads them.
 *
 * @throws never (construction only stores its arguments).
 * @example
 * ```ts
 * const y = mul(w, x);
 * y.node?.op; // "mul"
 * y.node?.inputs.length; // 2
 * ```
 */
export class Node {
  /** Position on the tape (execution order). */
  readonly seq: number;
  /** Op name on the tape (a rule-table key, or a custom op's name). */
  readonly op: string;
  /** The rule (null once released). */
  rule: OpRule<any, any> | null;
  /** Input Vars that need a gradient (null for the others). */
  inputs: (Var | null)[];
  /** Which inputs need a gradient. */
  needs: boolean[];
  /** The op's attributes. */
  attrs: unknown;
  /** What the forward saved for the backward rule. */
  saved: unknown;
  /** Input and output values, when the rule's backward needs them. */
  xs: readonly Tensor[] | null;
  y: Tensor | null;
  /** Set once a backward pass has released this node. */
  freed = false;
  /** The Var this node produced (for its hooks and retained gradient). */
  out: Var | null = null;

  constructor(seq: number, op: string, rule: OpRule<any, any>, inputs: (Var | null)[], needs: boolean[], attrs: unknown, saved: unknown, xs: readonly Tensor[], y: Tensor) {
    this.seq = seq;
    this.op = op;
    this.rule = rule;
    this.inputs = inputs;
    this.needs = needs;
    this.attrs = attrs;
    this.saved = saved;
    this.xs = xs;
    this.y = y;
  }

  /**
   * Drops everything the node holds (called by `backward` unless the graph is retained); a later
   * backward pass through it then throws. Idempotent.
   *
   * @throws never.
   * @example
   * ```ts
   * if (!task.retain) node.release(); // as backward does after running the node's rule
   * ```
   */
  release(): void {
    this.freed = true;
    this.rule = null;
    this.inputs = [];
    this.attrs = null;
    this.saved = null;
    this.xs = null;
    this.y = null;
    this.out = null;
  }
}
