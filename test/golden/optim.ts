/**
 * @file Golden handler for optim.json: builds the case's optimizer by name with its
 * hyper-parameters (snake_case → camelCase), assigns each step's gradients, steps, and checks the
 * parameters and the optimizer state (through `stateDict()`) after every step. An unknown
 * optimizer, hyper-parameter or state key fails the case, and so does a state key the reference
 * lacks. `layers/optim2.ts` runs its file through the same code with its own constructors.
 */
import { variable, type Var } from "@tapegrad/autograd";
import { Adam, AdamW, RMSprop, SGD, type Optimizer } from "@tapegrad/optim";
import { Checks, compareTensor, compareValues, f32, isGTensor, num, runCase, toTensor, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "./schema.js";

type Hyper = Record<string, unknown>;
/** Builds an optimizer from a case's parameters and (camelCased) hyper-parameters. */
export type OptimizerFactory = (params: Var[], hyper: Hyper) => Optimizer;

/** Golden optimizer name → constructor. */
export const goldenOptimizers: Record<string, OptimizerFactory> = {
  SGD: (p, h) => new SGD(p, h),
  Adam: (p, h) => new Adam(p, h),
  AdamW: (p, h) => new AdamW(p, h),
  RMSprop: (p, h) => new RMSprop(p, h),
};

/** PyTorch switches that select an implementation, not the update rule (ignored). */
const IMPLEMENTATION_FLAGS = new Set(["foreach", "fused", "capturable", "differentiable"]);

/** `weight_decay` → `weightDecay`, `momentum_buffer` → `momentumBuffer`. */
export function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

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

/** One state entry against the reference: buffers as tensors of the reference's shape, a 0-d reference tensor against a number state (NAdam's `mu_product`), numbers (`step`) exactly. */
function compareEntry(label: string, v: unknown, e: unknown, tol: Tolerance): string | null {
  if (isGTensor(e)) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (typeof v === "number" && size === 1) return compareValues(label, [v], f32(e), tol);
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

function runOptimCase(c: Record<string, unknown>, tol: Tolerance, optimizers: Record<string, OptimizerFactory>): CaseResult {
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

/** Runs every case of an optimizer-trajectory file (the schema of optim.json and layers/optim2.json) with these constructors. */
export function runOptimizerFile(file: GoldenFile, optimizers: Record<string, OptimizerFactory>): CaseResult[] {
  return file.cases.map((c) => runCase(c.name, () => runOptimCase(c, file.tolerance, optimizers)));
}

/** Runs every case of optim.json. */
export function runOptimFile(file: GoldenFile): CaseResult[] {
  return runOptimizerFile(file, goldenOptimizers);
}
