/**
 * @file Golden handler for mlp_step.json: an MLP built from `@tapegrad/nn` layers (PyTorch names
 * `fcK.weight`/`fcK.bias`), cross-entropy, `clipGradNorm`, and two SGD-with-momentum steps —
 * logits, loss, gradients, the clip's norm and coefficient, parameters and momentum buffers after
 * each step, and the unclipped step for comparison.
 */
import * as A from "@tapegrad/autograd";
import type { Var } from "@tapegrad/autograd";
import { Linear, Module } from "@tapegrad/nn";
import { SGD, clipGradNorm } from "@tapegrad/optim";
import { Checks, compareNumber, compareTensor, num, runCase, toIndices, toTensor, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "./schema.js";

type Activation = (x: Var) => Var;
const ACTIVATIONS: Record<string, Activation> = { relu: A.relu, tanh: A.tanh, sigmoid: A.sigmoid, gelu: (x) => A.gelu(x) };

/** fc1 … fcN with an activation after every layer but the last. */
class GoldenMlp extends Module {
  readonly layers: Linear[] = [];
  constructor(sizes: number[], private readonly act: Activation) {
    super();
    for (let i = 0; i + 1 < sizes.length; i++) this.layers.push(this.addModule(`fc${i + 1}`, new Linear(sizes[i]!, sizes[i + 1]!)));
  }
  forward(x: A.VarLike): Var {
    let h = A.toVar(x);
    this.layers.forEach((l, i) => {
      h = l.forward(h);
      if (i < this.layers.length - 1) h = this.act(h);
    });
    return h;
  }
}

interface StepExpect {
  logits: GTensor; loss: number | string; grads: GTensor[]; total_norm: number | string; clip_coef: number | string; clipped_grads: GTensor[];
}

function runMlpCase(c: Record<string, unknown>, tol: Tolerance): CaseResult {
  const name = c.name as string;
  const act = ACTIVATIONS[(c.activation as string) ?? "relu"];
  if (!act) return { name, status: "failed", message: `unknown activation ${String(c.activation)}` };
  const lossFn = (c.loss_fn ?? {}) as Record<string, unknown>;
  if ((lossFn.op ?? "cross_entropy") !== "cross_entropy") return { name, status: "failed", message: `unknown loss ${String(lossFn.op)}` };
  const names = c.param_names as string[];
  const init = Object.fromEntries((c.params as GTensor[]).map((t, i) => [names[i]!, toTensor(t)]));
  const x = toTensor(c.x as GTensor);
  const labels = toIndices(c.labels as GTensor);
  const sgd = (c.sgd ?? {}) as Record<string, number | boolean>;
  const maxNorm = num(c.max_norm as number);
  const make = () => {
    const m = new GoldenMlp(c.layers as number[], act);
    m.loadStateDict(init);
    return m;
  };
  const lossOf = (m: GoldenMlp) => A.crossEntropy(m.forward(x), labels, { reduction: (lossFn.reduction as "mean" | "sum") ?? "mean", labelSmoothing: (lossFn.label_smoothing as number) ?? 0 });
  const makeOpt = (m: GoldenMlp) => new SGD(m.parameters(), { lr: sgd.lr as number, momentum: (sgd.momentum as number) ?? 0, dampening: (sgd.dampening as number) ?? 0, weightDecay: (sgd.weight_decay as number) ?? 0, nesterov: Boolean(sgd.nesterov) });
  const checks = new Checks();
  const model = make();
  const params = model.parameters();
  const opt = makeOpt(model);
  const step = (label: string, e: StepExpect) => {
    opt.zeroGrad();
    const logits = model.forward(x);
    checks.add(compareTensor(`${label} logits`, logits.value, e.logits, tol));
    const loss = lossOf(model);
    checks.add(compareNumber(`${label} loss`, loss.item(), e.loss, tol));
    loss.backward();
    params.forEach((p, i) => checks.add(compareTensor(`${label} grads[${i}] ${names[i]}`, p.grad!, e.grads[i]!, tol)));
    const r = clipGradNorm(params, maxNorm);
    checks.add(compareNumber(`${label} total_norm`, r.totalNorm, e.total_norm, tol));
    checks.add(compareNumber(`${label} clip_coef`, r.coef, e.clip_coef, tol));
    params.forEach((p, i) => checks.add(compareTensor(`${label} clipped_grads[${i}]`, p.grad!, e.clipped_grads[i]!, tol)));
    opt.step();
  };
  const buffers = () => params.map((_, i) => (opt.stateDict().state[String(i)] as { momentumBuffer?: Float32Array } | undefined)?.momentumBuffer);
  const compareBuffers = (label: string, expected: GTensor[]) =>
    buffers().forEach((b, i) => checks.add(b ? compareTensor(`${label}[${i}]`, toTensor({ dtype: "float32", shape: expected[i]!.shape, data: Array.from(b) }), expected[i]!, tol) : `${label}[${i}]: no momentum buffer`));
  step("step1", c as unknown as StepExpect);
  params.forEach((p, i) => checks.add(compareTensor(`params_after_step1[${i}]`, p.value, (c.params_after_step1 as GTensor[])[i]!, tol)));
  compareBuffers("momentum_buffers_after_step1", c.momentum_buffers_after_step1 as GTensor[]);
  if (c.params_after_step1_unclipped) {
    const m2 = make();
    const o2 = makeOpt(m2);
    lossOf(m2).backward();
    o2.step();
    m2.parameters().forEach((p, i) => checks.add(compareTensor(`params_after_step1_unclipped[${i}]`, p.value, (c.params_after_step1_unclipped as GTensor[])[i]!, tol)));
  }
  const s2 = c.step2 as (StepExpect & { params_after: GTensor[]; momentum_buffers_after: GTensor[] }) | undefined;
  if (s2) {
    step("step2", s2);
    params.forEach((p, i) => checks.add(compareTensor(`step2 params_after[${i}]`, p.value, s2.params_after[i]!, tol)));
    compareBuffers("step2 momentum_buffers_after", s2.momentum_buffers_after);
  }
  return checks.result(name);
}

/** Runs every case of mlp_step.json. */
export function runMlpStepFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => runCase(c.name, () => runMlpCase(c, file.tolerance)));
}
