/**
 * @file `Node`: one op recorded on the tape (see `var.ts` for the tape and `backward.ts` for the
 * walk that consumes it).
 */
import type { Tensor } from "@tapegrad/tensor";
import type { OpRule } from "./rule.js";
import type { Var } from "./var.js";

/** One recorded op: its rule, inputs, attributes and saved data. Internal to the engine. */
export class Node {
  /** Position on the tape (execution order). */
  readonly seq: number;
  /** Op name, for messages. */
  readonly op: string;
  rule: OpRule<any, any> | null;
  inputs: (Var | null)[];
  needs: boolean[];
  attrs: unknown;
  saved: unknown;
  /** Input and output values, when the rule's backward needs them. */
  xs: readonly Tensor[] | null;
  y: Tensor | null;
  /** Set once `backward` has released this node. */
  freed = false;
  /** Scratch: the gradient accumulated for this node's output during a backward pass. */
  pending: Tensor | null = null;
  /** Scratch: true when `pending` is a buffer the engine allocated (safe to add into in place). */
  pendingOwned = false;
  /** Scratch: marks nodes already collected by the current backward pass. */
  visit = 0;
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

  /** Drops everything the node holds (called by `backward` unless the graph is retained). */
  release(): void {
    this.freed = true;
    this.rule = null;
    this.inputs = [];
    this.attrs = null;
    this.saved = null;
    this.xs = null;
    this.y = null;
    this.pending = null;
    this.out = null;
  }
}
