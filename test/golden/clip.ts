/**
 * @file Golden handler for clip.json: builds parameters whose `.grad` are the case's gradients
 * (and whose values are its `weights`, for AGC), runs the case's `method` with its `args` through
 * `@tapegrad/optim`, and checks the gradients afterwards plus every expected scalar/tensor the case
 * provides. A method or argument the engine does not know fails the case.
 */
import { zeros } from "@tapegrad/tensor";
import { variable, type Var } from "@tapegrad/autograd";
import { NonFiniteGradientError, clipGradAgc, clipGradNorm, clipGradNormPerTensor, clipGradValue } from "@tapegrad/optim";
import { Checks, compareNumber, compareTensor, compareValues, num, runCase, toTensor, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "./schema.js";

type Args = Record<string, unknown>;
type Expected = Record<string, unknown>;
/** What a method produced besides the in-place gradients. */
interface MethodOutput {
  totalNorm?: number;
  coef?: number;
}
/** Runs one method; adds method-specific comparisons to `checks`. */
type Method = (params: Var[], args: Args, expected: Expected, checks: Checks, tol: Tolerance) => MethodOutput;

/** Arguments that select an implementation but do not change the result. */
const IGNORED_ARGS = new Set(["foreach"]);

function takeArgs(method: string, args: Args, known: readonly string[]): Args {
  for (const k of Object.keys(args)) {
    if (!known.includes(k) && !IGNORED_ARGS.has(k)) throw new Error(`${method}: unknown argument "${k}"`);
  }
  return args;
}

function need(args: Args, key: string): number {
  if (args[key] === undefined || args[key] === null) throw new Error(`missing argument "${key}"`);
  return num(args[key] as number | string);
}

/** Golden method name → how to run it with tapegrad. */
export const goldenClipMethods: Record<string, Method> = {
  clip_grad_norm_: (params, raw) => {
    const a = takeArgs("clip_grad_norm_", raw, ["max_norm", "norm_type", "error_if_nonfinite"]);
    const r = clipGradNorm(params, need(a, "max_norm"), {
      normType: a.norm_type === undefined ? 2 : num(a.norm_type as number | string),
      nonFinite: a.error_if_nonfinite === true ? "error" : "propagate",
    });
    return { totalNorm: r.totalNorm, coef: r.coef };
  },
  clip_grad_value_: (params, raw) => {
    const a = takeArgs("clip_grad_value_", raw, ["clip_value"]);
    clipGradValue(params, need(a, "clip_value"));
    return {};
  },
  clipnorm_per_param: (params, raw, expected, checks, tol) => {
    const a = takeArgs("clipnorm_per_param", raw, ["clipnorm"]);
    // The oracle evaluates tf.clip_by_norm's formula g·c / max(‖g‖, c) for every c (compat "tf").
    const r = clipGradNormPerTensor(params, need(a, "clipnorm"), { compat: "tf" });
    if (Array.isArray(expected.norms)) checks.add(compareValues("norms", r.detail.norms, (expected.norms as (number | string)[]).map(num), tol));
    return {};
  },
  agc: (params, raw, expected, checks, tol) => {
    const a = takeArgs("agc", raw, ["clipping", "eps", "div_eps"]);
    const r = clipGradAgc(params, need(a, "clipping"), {
      ...(a.eps !== undefined ? { eps: need(a, "eps") } : {}),
      ...(a.div_eps !== undefined ? { divEps: need(a, "div_eps") } : {}),
      unitAxis: 0, // the file's layout: first axis = output units
    });
    const fields = [
      ["param_unit_norms", "paramNorms"],
      ["grad_unit_norms", "gradNorms"],
      ["max_norms", "maxNorms"],
    ] as const;
    for (const [key, field] of fields) {
      const list = expected[key] as (GTensor | null)[] | undefined;
      if (!Array.isArray(list)) continue;
      list.forEach((e, i) => {
        const s = r.detail.tensors[i];
        if (e === null) return checks.add(s ? `${key}[${i}]: expected no stats` : null);
        if (!s) return checks.add(`${key}[${i}]: no AGC stats (parameter had no gradient?)`);
        if (JSON.stringify(s.unitShape) !== JSON.stringify(e.shape)) return checks.add(`${key}[${i}]: shape ${JSON.stringify(s.unitShape)} != expected ${JSON.stringify(e.shape)}`);
        checks.add(compareValues(`${key}[${i}]`, s[field], e.data.map(num), tol));
      });
    }
    const counts = expected.num_clipped_units as number[] | undefined;
    if (Array.isArray(counts)) {
      const got = r.detail.tensors.map((s) => s?.numClipped ?? 0);
      if (JSON.stringify(got) !== JSON.stringify(counts)) checks.add(`num_clipped_units: got ${JSON.stringify(got)} expected ${JSON.stringify(counts)}`);
    }
    return {};
  },
};

function runClipCase(c: Record<string, unknown>, tol: Tolerance): CaseResult {
  const name = c.name as string;
  const method = goldenClipMethods[c.method as string];
  if (!method) return { name, status: "failed", message: `unknown method ${String(c.method)}` };
  const grads = c.grads as (GTensor | null)[];
  const weights = (c.weights ?? null) as (GTensor | null)[] | null;
  const expected = (c.expected ?? {}) as Expected;
  const params = grads.map((g, i) => {
    const w = weights?.[i];
    const p = variable(w ? toTensor(w) : g ? zeros(g.shape) : zeros([]), { name: `p${i}` });
    p.grad = g ? toTensor(g) : null;
    return p;
  });
  const checks = new Checks();
  let out: MethodOutput = {};
  let raised: unknown = null;
  try {
    out = method(params, (c.args ?? {}) as Args, expected, checks, tol);
  } catch (e) {
    raised = e;
  }
  if (expected.raises === true) {
    if (raised === null) checks.add("expected the call to raise, it returned");
    else if (!(raised instanceof NonFiniteGradientError)) checks.add(`expected a NonFiniteGradientError, got ${(raised as Error).name}: ${(raised as Error).message}`);
  } else if (raised !== null) {
    throw raised;
  }
  const eg = (expected.grads ?? []) as (GTensor | null)[];
  eg.forEach((e, i) => {
    const g = params[i]?.grad ?? null;
    if (e === null) checks.add(g === null ? null : `grads[${i}]: expected no gradient`);
    else if (g === null) checks.add(`grads[${i}]: gradient is missing`);
    else checks.add(compareTensor(`grads[${i}]`, g, e, tol));
  });
  if (raised === null) {
    for (const [key, value] of [["total_norm", out.totalNorm], ["clip_coef", out.coef]] as const) {
      const e = expected[key] as number | string | null | undefined;
      if (e === null || e === undefined) continue;
      if (value === undefined) checks.add(`${key}: the method returned none`);
      else checks.add(compareNumber(key, value, e, tol));
    }
  }
  return checks.result(name);
}

/** Runs every case of clip.json. */
export function runClipFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => runCase(c.name, () => runClipCase(c, file.tolerance)));
}
