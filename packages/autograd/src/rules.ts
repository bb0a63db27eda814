/**
 * @file The complete table of built-in differentiation rules (jax-js's typed rule tables). Each
 * op family in `ops/*.ts` declares its rules with precise attribute types (`defineRule<A, S>`);
 * this module merges them into `opRules`, keyed by the name `apply` records on the tape.
 * `OP_NAMES` lists every primitive, and the compiler checks both directions: a name without a
 * rule, or a rule whose key is not in `OP_NAMES`, fails `tsc` here. The gradcheck test table is
 * typed over `OpName` too, so a primitive without a finite-difference test does not compile
 * either.
 *
 * NOTE: `apply.ts` imports this module and every `ops/*.ts` imports `apply.ts`: a module cycle.
 * It is safe because the cycle is entered through `apply.ts` (the package index imports it before
 * any op module), so every rule group exists when the table below is built, and `apply` reads the
 * table only when called. Importing an op module first (before `apply.ts`) would build the table
 * from uninitialised groups; `test/autograd/op-table.test.ts` checks the table is complete.
 */
import type { RuleAttrs } from "./rule.js";
import { arithRules } from "./ops/arith.js";
import { unaryRules } from "./ops/unary.js";
import { linalgRules } from "./ops/linalg.js";
import { movementRules } from "./ops/movement.js";
import { reduceRules } from "./ops/reduce.js";
import { softmaxRules } from "./ops/softmax.js";
import { lossRules } from "./ops/loss.js";
import { convRules } from "./ops/conv.js";
import { normRules } from "./ops/norm.js";

/**
 * Every built-in primitive op: the keys of {@link opRules} and the names recorded on the tape.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * OP_NAMES.includes("powScalar"); // true
 * ```
 */
export const OP_NAMES = [
  "add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg",
  "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leakyRelu", "gelu", "softplus", "clamp", "powScalar",
  "square", "reciprocal", "sin", "cos", "log1p", "expm1",
  "matmul", "linear",
  "reshape", "permute", "broadcastTo", "slice", "select", "concat", "indexSelect", "gather", "where",
  "sum", "mean", "max", "min", "logsumexp",
  "softmax", "logSoftmax",
  "crossEntropy", "nllLoss", "bceWithLogits", "klDiv",
  "conv2d", "maxPool2d", "conv1d", "convTranspose2d", "avgPool2d", "adaptiveAvgPool2d",
  "batchNorm", "groupNorm",
] as const;

/**
 * Name of a built-in primitive op (what `apply` accepts and records on the tape).
 *
 * @example
 * ```ts
 * const op: OpName = "bceWithLogits";
 * ```
 */
export type OpName = (typeof OP_NAMES)[number];

/** Every rule group merged. Object spread skips excess-property checks, hence `ListedRules`. */
const allRules = {
  ...arithRules,
  ...unaryRules,
  ...linalgRules,
  ...movementRules,
  ...reduceRules,
  ...softmaxRules,
  ...lossRules,
  ...convRules,
  ...normRules,
};
type AllRules = typeof allRules;

/**
 * Anything when every rule group key is in `OP_NAMES`; else a type the table does not match,
 * whose one property names the unlisted keys (so the compiler's message shows them).
 */
type ListedRules = [Exclude<keyof AllRules, OpName>] extends [never]
  ? unknown
  : { readonly "rules without a name in OP_NAMES": Exclude<keyof AllRules, OpName> };

/**
 * The type of {@link opRules}: each primitive's rule with its own attribute and saved-data types.
 * A name in `OP_NAMES` without a rule makes its entry `never`, so the table misses that property.
 *
 * @example
 * ```ts
 * type LeakyRule = OpRuleTable["leakyRelu"]; // OpRule<{ slope: number }>
 * ```
 */
export type OpRuleTable = { readonly [K in OpName]: K extends keyof AllRules ? AllRules[K] : never };

/**
 * The attributes of primitive `K`, as its rule declares them (`NoAttrs`, an empty record, for ops
 * without attributes). `apply(op, attrs, inputs)` takes exactly this type, so wrong attributes
 * are a compile error at the call site.
 *
 * @example
 * ```ts
 * const a: OpAttrs<"leakyRelu"> = { slope: 0.01 };
 * const b: OpAttrs<"add"> = {};
 * ```
 */
export type OpAttrs<K extends OpName> = RuleAttrs<OpRuleTable[K]>;

/**
 * Rule of every primitive, keyed by the op's tape name. Exhaustive both ways by type: a name in
 * `OP_NAMES` without a rule is missing from {@link OpRuleTable}, and a rule whose key is not in
 * `OP_NAMES` fails the `satisfies` check below.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * opRules.mul.forward([a, b], {}); // the forward of `mul`, on tensors
 * ```
 */
export const opRules: OpRuleTable = allRules satisfies ListedRules;
