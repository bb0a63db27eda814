/**
 * @file Golden handler for `layers/optim2.json` (see `../shared/golden/layers/README.md`): builds
 * the case's optimizer (Adagrad, Adadelta, Adamax, NAdam, RAdam, Lion) by name with its
 * hyper-parameters (snake_case → camelCase), assigns each step's gradients, steps, and checks the
 * parameters and the optimizer state (through `stateDict()`, so what is saved is what is checked)
 * after every step. Buffers compare as tensors of the reference's shape, `step` exactly, and a
 * 0-d reference tensor (NAdam's `mu_product`) against the state's number. An unknown optimizer,
 * hyper-parameter or state key fails the case, and so does a state key the reference lacks.
 */
import { variable, type Var } from "@tapegrad/autograd";
import { Adadelta, Adagrad, Adamax, Lion, NAdam, RAdam, type Optimizer } from "@tapegrad/optim";
import { camel } from "../optim.js";
import { Checks, compareTensor, compareValues, f32, isGTensor, num, runCase, toTensor, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "../schema.js";

type Hyper = Record<string, unknown>;

/** Golden optimizer name → constructor. */
const optimizers: Record<string, (params: Var[], hyper: Hyper) => Optimizer> = {
  Adagrad: (p, h) => new Adagrad(p, h),
  Adadelta: (p, h) => new Adadelta(p, h),
  Adamax: (p, h) => new Adamax(p, h),
  NAdam: (p, h) => new NAdam(p, h),
  RAdam: (p, h) => new RAdam(p, h),
  Lion: (p, h) => new Lion(p, h),
};

/** PyTorch switches that select an implementation, not the update rule (ignored). */
const IMPLEMENTATION_FLAGS = new Set(["foreach", "fused", "capturable", "differentiable"]);

function toHyper(raw: Record<string, unknown>): Hyper {
  const out: Hyper = {};
  for (const [k, v] of Object.entries(raw)) {
    if (IMPLEMENTATION_FLAGS.has(k)) continue;
    out[camel(k)] = typeof v === "string" ? num(v) : Array.isArray(v) ? v.map((x) => num(x as number | string)) : v;
  }
  return out;
}

function setGrads(params: Var[], grads: (GTensor | null)[] | undefined, step: number): void {
  if (!Array.isArray(grads) || grads.length !== params.length) throw new Error(`grads[${step}] must list one gradient per parameter`);
  params.forEach((p, i) => {
    const g = grads[i];
    p.grad = g ? toTensor(g) : null;
  });
}

function compareEntry(label: string, v: unknown, e: unknown, tol: Tolerance): string | null {
  if (isGTensor(e)) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (typeof v === "number" && size === 1) return compareValues(label, [v], f32(e), tol); // 0-d state (mu_product)
    if (!(v instanceof Float32Array)) return `${label}: not a buffer (got ${typeof v})`;
    return compareTensor(label, toTensor({ dtype: "float32", shape: e.shape, data: Array.from(v) }), e, tol);
  }
  if (typeof e === "number") return v === e ? null : `${label}: got ${String(v)} expected ${e}`;
  return `${label}: unsupported expected value ${JSON.stringify(e)}`;
}

function compareState(label: string, ours: Record<string, unknown> | undefined, expected: Record<string, unknown>, tol: Tolerance, checks: Checks): void {
  const got = ours ?? {};
  const wanted = new Set<string>();
  for (const [k, e] of Object.entries(expected)) {
    const key = camel(k);
    wanted.add(key);
    checks.add(got[key] === undefined ? `${label}.${k}: missing` : compareEntry(`${label}.${k}`, got[key], e, tol));
  }
  for (const k of Object.keys(got)) if (!wanted.has(k)) checks.add(`${label}.${k}: present, but the reference has no such state`);
}

function runOptim2Case(c: Record<string, unknown>, tol: Tolerance): CaseResult {
  const name = c.name as string;
  const make = optimizers[c.optimizer as string];
  if (!make) return { name, status: "failed", message: `unknown optimizer ${String(c.optimizer)}` };
  const params = (c.params_init as GTensor[]).map((t, i) => variable(toTensor(t), { name: `p${i}` }));
  const opt = make(params, toHyper((c.hyperparams ?? {}) as Record<string, unknown>));
  const grads = c.grads as (GTensor | null)[][];
  const steps = c.steps as { params: GTensor[]; state?: Record<string, unknown>[] }[];
  if (!Array.isArray(steps) || !Array.isArray(grads) || grads.length < steps.length) throw new Error("need one grads entry per step");
  const checks = new Checks();
  steps.forEach((s, k) => {
    setGrads(params, grads[k], k);
    opt.step();
    s.params.forEach((e, i) => checks.add(compareTensor(`step ${k + 1} params[${i}]`, params[i]!.value, e, tol)));
    if (Array.isArray(s.state)) {
      const sd = opt.stateDict().state;
      s.state.forEach((e, i) => compareState(`step ${k + 1} state[${i}]`, sd[String(i)] as Record<string, unknown> | undefined, e, tol, checks));
    }
  });
  return checks.result(name);
}

/** Runs every case of `layers/optim2.json`. */
export function runOptim2File(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => runCase(c.name, () => runOptim2Case(c, file.tolerance)));
}
