/**
 * @file Golden handler for `compress/prune.json` (see `../shared/golden/compress/README.md`): every
 * case builds one module per parameter (an `nn.Linear` for the `linear` gradient cases), applies
 * the steps in order through `@tapegrad/compress`'s module API (`l1Unstructured`, `lnStructured`,
 * `globalUnstructured`, `identity`, `customFromMask`), and after each step compares every
 * parameter's `weight_mask` buffer, its effective `module.weight` and the number of pruned
 * entries exactly — or, for a step torch raised on, that it throws torch's message. `ties` cases
 * compare only `num_pruned` plus the ordering property (no pruned candidate outranks a kept one).
 * `linear` cases check output and gradients through the pruned layer with the file's tolerance.
 */
import { Tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { Linear, Module } from "@tapegrad/nn";
import {
  channelNorms,
  countZeros,
  customFromMask,
  globalUnstructured,
  identity,
  l1Unstructured,
  lnStructured,
  normalizeDim,
  pruneMask,
  type PruneAmount,
} from "@tapegrad/compress";
import { Checks, compareTensor, compareValues, f32, num, runCase, toTensor, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "../schema.js";

interface Step {
  method: string;
  targets: number[];
  args: Record<string, unknown>;
}
interface Expected {
  raises: boolean;
  error: string | null;
  masks: GTensor[] | null;
  pruned: GTensor[] | null;
  num_pruned: number[] | null;
}
interface LinearCheck {
  x: GTensor;
  bias: GTensor;
  grad_output: GTensor;
  expected: { output: GTensor; grad_weight_orig: GTensor; grad_bias: GTensor; grad_x: GTensor };
}
interface PruneCase {
  name: string;
  params: { name: string; value: GTensor }[];
  steps: Step[];
  ties: boolean;
  expected: Expected[];
  linear: LinearCheck | null;
}

/** A module holding one parameter `weight` (any shape, 0-d and empty included). */
class Holder extends Module {
  constructor(value: Tensor) {
    super();
    (this as unknown as { weight: A.Var }).weight = this.addParameter("weight", value);
  }
  forward(): never {
    throw new Error("Holder has no forward");
  }
}

const KNOWN_ARGS: Record<string, string[]> = {
  l1_unstructured: ["amount", "amount_is_int", "importance_scores"],
  ln_structured: ["amount", "amount_is_int", "n", "dim", "importance_scores"],
  global_unstructured: ["pruning_method", "amount", "amount_is_int", "importance_scores"],
  identity: [],
  custom_from_mask: ["mask"],
};

function amountOf(args: Record<string, unknown>): PruneAmount {
  const a = num(args.amount as number | string);
  return args.amount_is_int === true ? { count: a } : a;
}

function scoresArg(args: Record<string, unknown>): (Tensor | null)[] | null {
  const s = args.importance_scores as (GTensor | null)[] | null | undefined;
  return s === null || s === undefined ? null : s.map((t) => (t === null ? null : toTensor(t)));
}

/** Runs one step on the modules. */
function applyStep(step: Step, mods: Module[]): void {
  const known = KNOWN_ARGS[step.method];
  if (known === undefined) throw new Error(`unknown method "${step.method}"`);
  for (const k of Object.keys(step.args)) if (!known.includes(k)) throw new Error(`${step.method}: unknown argument "${k}"`);
  const m = mods[step.targets[0]!]!;
  const scores = scoresArg(step.args);
  switch (step.method) {
    case "l1_unstructured":
      l1Unstructured(m, "weight", amountOf(step.args), { importanceScores: scores?.[0] ?? null });
      return;
    case "ln_structured":
      lnStructured(m, "weight", amountOf(step.args), num(step.args.n as number | string), step.args.dim as number, { importanceScores: scores?.[0] ?? null });
      return;
    case "global_unstructured":
      if (step.args.pruning_method !== "l1_unstructured") throw new Error(`global_unstructured: unknown pruning_method ${JSON.stringify(step.args.pruning_method)}`);
      globalUnstructured(step.targets.map((i) => [mods[i]!, "weight"] as const), amountOf(step.args), { importanceScores: scores });
      return;
    case "identity":
      identity(m, "weight");
      return;
    case "custom_from_mask":
      customFromMask(m, "weight", toTensor(step.args.mask as GTensor));
      return;
  }
}

/** torch prints shapes as `torch.Size([4, 6])`; the engine as `[4,6]`. */
function normalizeMessage(s: string): string {
  return s.replace(/torch\.Size\(\[([^\]]*)\]\)/g, (_, inner: string) => `[${inner.replace(/\s+/g, "")}]`);
}

function maskOf(m: Module): Float32Array {
  return pruneMask(m, "weight")?.toFloat32Array() ?? new Float32Array((m as unknown as { weight: A.Var }).weight.size).fill(1);
}

/** Scores a step ranks by: the given importance scores or the effective weight before the step. */
function stepScores(step: Step, before: Float32Array[]): Float32Array[] {
  const given = scoresArg(step.args);
  return step.targets.map((i, j) => given?.[j]?.toFloat32Array() ?? before[i]!);
}

/**
 * The ordering property of a `ties` case: every candidate pruned by the step scores `<=` every
 * candidate kept (entries for unstructured/global steps, channel norms for structured ones).
 */
function checkOrdering(step: Step, mods: Module[], masksBefore: Float32Array[], weightsBefore: Float32Array[], checks: Checks, label: string): void {
  if (step.method === "identity" || step.method === "custom_from_mask") return;
  const scores = stepScores(step, weightsBefore);
  let maxPruned = -Infinity, minKept = Infinity;
  step.targets.forEach((i, j) => {
    const s = scores[j]!, before = masksBefore[i]!, after = maskOf(mods[i]!);
    if (step.method === "ln_structured") {
      const shape = (mods[i] as unknown as { weight: A.Var }).weight.shape;
      const d = normalizeDim("ties", step.args.dim as number, shape);
      const norms = channelNorms(s, shape, d, num(step.args.n as number | string));
      const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1), C = shape[d]!;
      for (let c = 0; c < C; c++) {
        let had = false, has = false;
        for (let e = 0; e < s.length; e++) {
          if (Math.floor(e / inner) % C !== c) continue;
          if (before[e] !== 0) had = true;
          if (after[e] !== 0) has = true;
        }
        if (!had) continue;
        if (has) minKept = Math.min(minKept, norms[c]!);
        else maxPruned = Math.max(maxPruned, norms[c]!);
      }
      return;
    }
    for (let e = 0; e < s.length; e++) {
      if (before[e] !== 1) continue;
      const v = Math.abs(s[e]!);
      if (after[e] === 0) maxPruned = Math.max(maxPruned, v);
      else minKept = Math.min(minKept, v);
    }
  });
  if (maxPruned > minKept) checks.add(`${label}: a pruned candidate scores ${maxPruned} > a kept one ${minKept}`);
}

function checkLinear(lin: Linear, c: LinearCheck, tol: Tolerance, checks: Checks): void {
  const x = A.variable(toTensor(c.x), { name: "x" });
  const y = lin.forward(x);
  checks.add(compareTensor("linear.output", y.value, c.expected.output, tol));
  y.backward(toTensor(c.grad_output));
  const orig = lin.getParameter("weight_orig");
  if (orig === undefined) return checks.add("linear: weight_orig is not a parameter of the pruned Linear");
  checks.add(orig.grad ? compareTensor("linear.grad_weight_orig", orig.grad, c.expected.grad_weight_orig, tol) : "linear: no gradient for weight_orig");
  checks.add(lin.bias?.grad ? compareTensor("linear.grad_bias", lin.bias.grad, c.expected.grad_bias, tol) : "linear: no gradient for bias");
  checks.add(x.grad ? compareTensor("linear.grad_x", x.grad, c.expected.grad_x, tol) : "linear: no gradient for x");
  // masked gradient: exactly zero at pruned positions
  const mask = maskOf(lin), g = orig.grad?.toFloat32Array() ?? new Float32Array(0);
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0 && g[i] !== 0) return checks.add(`linear: grad of weight_orig is ${g[i]} at pruned index ${i}`);
  }
}

function runPruneCase(c: PruneCase, tol: Tolerance): CaseResult {
  const checks = new Checks();
  const exact: Tolerance = { rtol: 0, atol: 0 };
  const made: { lin: Linear | null } = { lin: null };
  const mods: Module[] = c.params.map((p, i) => {
    if (i === 0 && c.linear !== null) {
      const [out, inF] = p.value.shape as [number, number];
      const lin = new Linear(inF, out);
      lin.loadStateDict({ weight: toTensor(p.value), bias: toTensor(c.linear.bias) });
      made.lin = lin;
      return lin;
    }
    return new Holder(toTensor(p.value));
  });
  if (c.expected.length !== c.steps.length) throw new Error(`${c.steps.length} steps but ${c.expected.length} expected entries`);
  for (let s = 0; s < c.steps.length; s++) {
    const step = c.steps[s]!, exp = c.expected[s]!, label = `step ${s} (${step.method})`;
    const masksBefore = mods.map(maskOf);
    const weightsBefore = mods.map((m) => (m as unknown as { weight: A.Var }).weight.value.toFloat32Array());
    let error: Error | null = null;
    try {
      applyStep(step, mods);
    } catch (e) {
      error = e as Error;
    }
    if (exp.raises) {
      if (error === null) checks.add(`${label}: expected torch's error "${exp.error}", nothing was thrown`);
      else if (exp.error !== null && !error.message.includes(normalizeMessage(exp.error))) checks.add(`${label}: error "${error.message}" does not contain "${exp.error}"`);
      // unchanged on error
      mods.forEach((m, i) => checks.add(compareValues(`${label}: mask ${i} after the error`, maskOf(m), masksBefore[i]!, exact)));
      break;
    }
    if (error !== null) {
      checks.add(`${label}: threw ${error.name}: ${error.message}`);
      break;
    }
    mods.forEach((m, i) => {
      const mask = maskOf(m);
      const pname = c.params[i]!.name;
      checks.add(countZeros(mask) === exp.num_pruned![i] ? null : `${label}: ${pname} num_pruned ${countZeros(mask)} != expected ${exp.num_pruned![i]}`);
      if (c.ties) return;
      checks.add(compareValues(`${label}: ${pname} mask`, mask, f32(exp.masks![i]!), exact));
      checks.add(compareTensor(`${label}: ${pname} pruned`, (m as unknown as { weight: A.Var }).weight.value, exp.pruned![i]!, exact));
    });
    if (c.ties) checkOrdering(step, mods, masksBefore, weightsBefore, checks, label);
  }
  if (c.linear !== null && made.lin !== null && checks.ok) checkLinear(made.lin, c.linear, tol, checks);
  return checks.result(c.name);
}

/** Runs every case of `compress/prune.json`. */
export function runPruneFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => runCase(c.name, () => runPruneCase(c as unknown as PruneCase, file.tolerance)));
}
