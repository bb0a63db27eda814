/**
 * @file `layers/nn_ops.json`: the normalisation ops (batch_norm with its running statistics,
 * group_norm, instance_norm). Inputs are mapped by `input_names` (`weight`/`bias` and the running
 * statistics are absent when unused); every case checks the output, the gradient of each
 * differentiable input (`null` for the running statistics) and, for batch_norm, the running
 * statistics after the call, with the file's tolerance.
 */
import * as A from "@tapegrad/autograd";
import type { Var } from "@tapegrad/autograd";
import type { Tensor } from "@tapegrad/tensor";
import { Checks, compareTensor, toTensor, type CaseResult, type GTensor, type GoldenCase, type Tolerance } from "../schema.js";

/** The README's tolerance for nn_ops.json, used when the runner does not pass the file's own. */
const FILE_TOLERANCE: Tolerance = { rtol: 1e-4, atol: 1e-5 };

type Attrs = Record<string, unknown>;

/** A case's inputs by name: differentiable ones as Vars, running statistics as plain tensors. */
interface NamedInputs {
  vars: Map<string, Var>;
  buffers: Map<string, Tensor>;
}

const BUFFER_NAMES = new Set(["running_mean", "running_var"]);

function namedInputs(c: GoldenCase): NamedInputs {
  const names = c.input_names as string[];
  const raw = c.inputs as GTensor[];
  if (!Array.isArray(names) || names.length !== raw.length) throw new Error("input_names and inputs differ in length");
  const vars = new Map<string, Var>(), buffers = new Map<string, Tensor>();
  names.forEach((n, i) => {
    if (BUFFER_NAMES.has(n)) buffers.set(n, toTensor(raw[i]!).clone());
    else vars.set(n, A.variable(toTensor(raw[i]!)));
  });
  return { vars, buffers };
}

/** Builds the op's output from named inputs. */
type Build = (inp: NamedInputs, attrs: Attrs) => Var;

const builders: Record<string, Build> = {
  batch_norm: ({ vars, buffers }, a) =>
    A.batchNorm(vars.get("x")!, buffers.get("running_mean") ?? null, buffers.get("running_var") ?? null, {
      weight: vars.get("weight") ?? null,
      bias: vars.get("bias") ?? null,
      training: a.training as boolean,
      momentum: a.momentum as number,
      eps: a.eps as number,
    }),
  group_norm: ({ vars }, a) => A.groupNorm(vars.get("x")!, a.num_groups as number, vars.get("weight") ?? null, vars.get("bias") ?? null, a.eps as number),
  instance_norm: ({ vars }, a) => A.instanceNorm(vars.get("x")!, vars.get("weight") ?? null, vars.get("bias") ?? null, a.eps as number),
};

function runNormCase(c: GoldenCase, tol: Tolerance): CaseResult {
  const build = builders[String(c.op)]!;
  const inp = namedInputs(c);
  const out = build(inp, (c.attrs ?? {}) as Attrs);
  const checks = new Checks();
  checks.add(compareTensor("output", out.value, c.output as GTensor, tol));
  const names = c.input_names as string[];
  const expected = c.grad_inputs as (GTensor | null)[];
  const targets: [string, Var, GTensor][] = [];
  names.forEach((n, i) => {
    const v = inp.vars.get(n);
    if (expected[i] === null || expected[i] === undefined) {
      if (v !== undefined) checks.add(`grad_inputs[${i}] (${n}): expected a gradient for a differentiable input, the file has null`);
      return;
    }
    if (v === undefined) checks.add(`grad_inputs[${i}] (${n}): the file has a gradient for a buffer`);
    else targets.push([n, v, expected[i]!]);
  });
  if (targets.length > 0) {
    const grads = A.gradients(out, targets.map(([, v]) => v), toTensor(c.grad_output as GTensor));
    targets.forEach(([n, , e], k) => checks.add(compareTensor(`grad_inputs (${n})`, grads[k]!, e, tol)));
  }
  if (c.op === "batch_norm") {
    const after = c.buffers_after as Record<string, GTensor> | null | undefined;
    if (after === null || after === undefined) {
      if (inp.buffers.size > 0) checks.add("buffers_after: null but the case has running statistics");
    } else {
      for (const [n, e] of Object.entries(after)) {
        const t = inp.buffers.get(n);
        checks.add(t === undefined ? `buffers_after.${n}: not an input of the case` : compareTensor(`buffers_after.${n}`, t, e, tol));
      }
    }
  }
  return checks.result(c.name);
}

/**
 * Runners of the normalisation cases, by op name; the optional second argument is the file's
 * tolerance (default: the README's rtol 1e-4, atol 1e-5).
 */
export const NORM_OPS: Record<string, (c: GoldenCase, tol?: Tolerance) => CaseResult> = {
  batch_norm: (c, tol) => runNormCase(c, tol ?? FILE_TOLERANCE),
  group_norm: (c, tol) => runNormCase(c, tol ?? FILE_TOLERANCE),
  instance_norm: (c, tol) => runNormCase(c, tol ?? FILE_TOLERANCE),
};
