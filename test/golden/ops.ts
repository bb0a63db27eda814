/**
 * @file Golden handler for ops.json: builds each case's op from its inputs and attributes, checks
 * the forward output and every non-null input gradient (the VJP with the case's `grad_output`).
 * An op name the engine does not know fails the case; only cases marked `optional` may be skipped.
 */
import * as A from "@tapegrad/autograd";
import type { Var } from "@tapegrad/autograd";
import { Checks, compareTensor, num, runCase, toIndices, toTensor, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "./schema.js";

type Attrs = Record<string, unknown>;
/** Builds the op's output from input Vars (float inputs) and the raw golden inputs. */
type OpBuilder = (x: Var[], attrs: Attrs, raw: GTensor[]) => Var;

const axisOf = (a: Attrs): number | null => (a.axis === null || a.axis === undefined ? null : (a.axis as number));
const reduction = (a: Attrs, def = "mean") => (a.reduction ?? def) as "mean" | "sum" | "none";

/** Golden op name → how to run it with tapegrad. */
export const goldenOps: Record<string, OpBuilder> = {
  add: ([a, b]) => A.add(a!, b!),
  sub: ([a, b]) => A.sub(a!, b!),
  mul: ([a, b]) => A.mul(a!, b!),
  div: ([a, b]) => A.div(a!, b!),
  neg: ([x]) => A.neg(x!),
  exp: ([x]) => A.exp(x!),
  log: ([x]) => A.log(x!),
  sqrt: ([x]) => A.sqrt(x!),
  abs: ([x]) => A.abs(x!),
  tanh: ([x]) => A.tanh(x!),
  sigmoid: ([x]) => A.sigmoid(x!),
  relu: ([x]) => A.relu(x!),
  pow: ([x], a) => A.powScalar(x!, num(a.exponent as number)),
  leaky_relu: ([x], a) => A.leakyRelu(x!, (a.negative_slope as number) ?? 0.01),
  gelu: ([x], a) => A.gelu(x!, ((a.approximate as string) ?? "none") as "none" | "tanh"),
  softplus: ([x], a) => A.softplus(x!, (a.beta as number) ?? 1, (a.threshold as number) ?? 20),
  matmul: ([a, b]) => A.matmul(a!, b!),
  transpose: ([x], a) => A.transpose(x!, a.dim0 as number, a.dim1 as number),
  permute: ([x], a) => A.permute(x!, a.dims as number[]),
  reshape: ([x], a) => A.reshape(x!, a.shape as number[]),
  narrow: ([x], a) => A.narrow(x!, a.dim as number, a.start as number, a.length as number),
  concat: (xs, a) => A.concat(xs, (a.axis as number) ?? 0),
  stack: (xs, a) => A.stack(xs, (a.axis as number) ?? 0),
  sum: ([x], a) => A.sum(x!, axisOf(a), Boolean(a.keepdim)),
  mean: ([x], a) => A.mean(x!, axisOf(a), Boolean(a.keepdim)),
  max: ([x], a) => A.max(x!, axisOf(a), Boolean(a.keepdim)),
  min: ([x], a) => A.min(x!, axisOf(a), Boolean(a.keepdim)),
  logsumexp: ([x], a) => A.logsumexp(x!, axisOf(a), Boolean(a.keepdim)),
  softmax: ([x], a) => A.softmax(x!, (a.axis as number) ?? -1),
  log_softmax: ([x], a) => A.logSoftmax(x!, (a.axis as number) ?? -1),
  cross_entropy: ([logits], a, raw) =>
    A.crossEntropy(logits!, toIndices(raw[1]!), { reduction: reduction(a), labelSmoothing: (a.label_smoothing as number) ?? 0, ignoreIndex: (a.ignore_index as number) ?? -100 }),
  mse_loss: ([x, t], a) => A.mseLoss(x!, t!, { reduction: reduction(a) }),
  binary_cross_entropy_with_logits: ([x, t], a) => A.bceWithLogits(x!, t!, { reduction: reduction(a) }),
  nll_loss: ([x], a, raw) => A.nllLoss(x!, toIndices(raw[1]!), { reduction: reduction(a), ignoreIndex: (a.ignore_index as number) ?? -100 }),
  kl_div: ([q, p], a) => A.klDiv(q!, p!, { reduction: (a.reduction ?? "mean") as A.KLReduction, logTarget: Boolean(a.log_target) }),
  kl_div_distill: ([s, t], a) => {
    const T = num(a.temperature as number);
    const kl = A.klDiv(A.logSoftmax(A.div(s!, T), -1), A.softmax(A.div(t!, T), -1), { reduction: "batchmean" });
    return A.mul(kl, T * T);
  },
  embedding: ([w], _a, raw) => A.embedding(w!, toIndices(raw[1]!), raw[1]!.shape),
  where: ([, a, b], _attrs, raw) => A.where(toTensor(raw[0]!), a!, b!),
  mask_mul: ([x, m]) => A.mul(x!, m!),
  conv2d: ([x, w, b], a) => A.conv2d(x!, w!, b ?? null, { stride: (a.stride as number) ?? 1, padding: (a.padding as number) ?? 0 }),
  max_pool2d: ([x], a) => A.maxPool2d(x!, { kernelSize: a.kernel_size as number, stride: (a.stride as number | undefined) ?? (a.kernel_size as number) }),
};

function runOpCase(c: Record<string, unknown>, tol: Tolerance): CaseResult {
  const name = c.name as string;
  const op = c.op as string;
  const builder = goldenOps[op];
  if (!builder) {
    if (c.optional === true) return { name, status: "skipped", message: `optional op ${op} not implemented` };
    return { name, status: "failed", message: `unknown op ${op}` };
  }
  const raw = c.inputs as GTensor[];
  const expectedGrads = (c.grad_inputs ?? []) as (GTensor | null)[];
  const vars = raw.map((t) => (t.dtype === "float32" || t.dtype === "float64" ? A.variable(toTensor(t)) : A.constant(toTensor(t))));
  const out = builder(vars, (c.attrs ?? {}) as Attrs, raw);
  const checks = new Checks();
  checks.add(compareTensor("output", out.value, c.output as GTensor, tol));
  const wanted = vars.map((v, i) => (expectedGrads[i] ? v : null));
  const targets = wanted.filter((v): v is Var => v !== null);
  if (targets.length > 0) {
    const seed = toTensor(c.grad_output as GTensor);
    const grads = out.requiresGrad ? A.gradients(out, targets, seed) : targets.map((v) => A.constant(0).value.broadcastTo(v.shape));
    let k = 0;
    wanted.forEach((v, i) => {
      if (v === null) return;
      checks.add(compareTensor(`grad_inputs[${i}] (${((c.input_names as string[]) ?? [])[i] ?? i})`, grads[k++]!, expectedGrads[i]!, tol));
    });
  }
  return checks.result(name);
}

/** Runs every case of ops.json. */
export function runOpsFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => runCase(c.name, () => runOpCase(c, file.tolerance)));
}
