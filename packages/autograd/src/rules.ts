/**
 * @file The complete table of built-in differentiation rules. `OP_NAMES` lists every primitive;
 * the table's mapped type makes a primitive without a rule a compile error, and the gradcheck
 * test suite uses the same names so a primitive without a finite-difference test is one too.
 */
import type { OpRule } from "./rule.js";
import { arithRules } from "./ops/arith.js";
import { unaryRules } from "./ops/unary.js";
import { linalgRules } from "./ops/linalg.js";
import { movementRules } from "./ops/movement.js";
import { reduceRules } from "./ops/reduce.js";
import { softmaxRules } from "./ops/softmax.js";
import { lossRules } from "./ops/loss.js";
import { convRules } from "./ops/conv.js";

/** Every built-in primitive op. */
export const OP_NAMES = [
  "add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg",
  "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leakyRelu", "gelu", "softplus", "clamp", "powScalar",
  "square", "reciprocal", "sin", "cos", "log1p", "expm1",
  "matmul", "linear",
  "reshape", "permute", "broadcastTo", "slice", "select", "concat", "indexSelect", "gather", "where",
  "sum", "mean", "max", "min", "logsumexp",
  "softmax", "logSoftmax",
  "crossEntropy", "nllLoss", "bceWithLogitsPointwise", "klDivPointwise",
  "conv2d", "maxPool2d",
] as const;

/** Name of a built-in primitive op. */
export type OpName = (typeof OP_NAMES)[number];

/** Rule of every primitive, by name (exhaustive by type). */
export const opRules: { readonly [K in OpName]: OpRule<any, any> } = {
  ...arithRules,
  ...unaryRules,
  ...linalgRules,
  ...movementRules,
  ...reduceRules,
  ...softmaxRules,
  ...lossRules,
  ...convRules,
};
