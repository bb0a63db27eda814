/**
 * @file Golden handler for `layers/sched.json` (see `../shared/golden/layers/README.md`): builds the
 * case's optimizer (SGD or Adam, one dummy parameter per group) and scheduler by its PyTorch name
 * with its arguments (snake_case → camelCase, `T_0` → `t0`), steps it `steps` times (with
 * `metrics[k]` for ReduceLROnPlateau) and compares every group's lr, the cycled momentum
 * (`momentum` or `betas[0]`) and ReduceLROnPlateau's `best` / `numBadEpochs` / `cooldownCounter`
 * after each step. An unknown scheduler or argument fails the case.
 */
import { variable } from "@tapegrad/autograd";
import { Tensor } from "@tapegrad/tensor";
import {
  Adam, ChainedScheduler, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, LinearLR, OneCycleLR,
  PolynomialLR, ReduceLROnPlateau, SGD, SequentialLR, type LRSchedulerBase, type Optimizer, type SchedulableOptimizer,
} from "@tapegrad/optim";
import { Checks, compareValues, num, runCase, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "../schema.js";

type Args = Record<string, unknown>;
type Stepper = { step(): void } | ReduceLROnPlateau;

/** `T_0` → `t0`, `T_mult` → `tMult`, `eta_min` → `etaMin`. */
function camel(key: string): string {
  const c = key.replace(/_([a-zA-Z0-9])/g, (_, ch: string) => ch.toUpperCase());
  return c[0]!.toLowerCase() + c.slice(1);
}

/** Arguments with camelCase keys; `null` (torch's None) is kept (the classes treat it as absent where torch allows it). */
function toArgs(raw: Args, known: readonly string[], name: string): Args {
  const out: Args = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = camel(k);
    if (!known.includes(key)) throw new Error(`${name}: unknown argument ${k}`);
    if (v === null) continue;
    out[key] = v === "NaN" || v === "Infinity" || v === "-Infinity" ? num(v) : v;
  }
  return out;
}

/** The chainable schedulers by PyTorch name, with their known arguments. */
const SIMPLE: Record<string, { known: string[]; make: (o: SchedulableOptimizer, a: Args) => LRSchedulerBase }> = {
  LinearLR: { known: ["startFactor", "endFactor", "totalIters"], make: (o, a) => new LinearLR(o, a) },
  ConstantLR: { known: ["factor", "totalIters"], make: (o, a) => new ConstantLR(o, a) },
  ExponentialLR: { known: ["gamma"], make: (o, a) => new ExponentialLR(o, a as { gamma: number }) },
  PolynomialLR: { known: ["totalIters", "power"], make: (o, a) => new PolynomialLR(o, a) },
  CosineAnnealingLR: { known: ["tMax", "etaMin"], make: (o, a) => new CosineAnnealingLR(o, a as { tMax: number }) },
  CosineAnnealingWarmRestarts: { known: ["t0", "tMult", "etaMin"], make: (o, a) => new CosineAnnealingWarmRestarts(o, a as { t0: number }) },
  OneCycleLR: {
    known: ["maxLr", "totalSteps", "epochs", "stepsPerEpoch", "pctStart", "annealStrategy", "cycleMomentum", "baseMomentum", "maxMomentum", "divFactor", "finalDivFactor", "threePhase"],
    make: (o, a) => new OneCycleLR(o, a as never),
  },
  CyclicLR: {
    known: ["baseLr", "maxLr", "stepSizeUp", "stepSizeDown", "mode", "gamma", "scaleFn", "scaleMode", "cycleMomentum", "baseMomentum", "maxMomentum"],
    make: (o, a) => new CyclicLR(o, a as never),
  },
};

const PLATEAU_KNOWN = ["mode", "factor", "patience", "threshold", "thresholdMode", "cooldown", "minLr", "eps"];

function makeSub(opt: SchedulableOptimizer, spec: { scheduler: string; args: Args }): LRSchedulerBase {
  const entry = SIMPLE[spec.scheduler];
  if (!entry) throw new Error(`unknown sub-scheduler ${spec.scheduler}`);
  return entry.make(opt, toArgs(spec.args ?? {}, entry.known, spec.scheduler));
}

function makeScheduler(opt: SchedulableOptimizer, name: string, raw: Args): Stepper {
  if (name === "ReduceLROnPlateau") return new ReduceLROnPlateau(opt, toArgs(raw, PLATEAU_KNOWN, name));
  if (name === "SequentialLR" || name === "ChainedScheduler") {
    const subs = (raw.schedulers as { scheduler: string; args: Args }[]).map((s) => makeSub(opt, s));
    for (const k of Object.keys(raw)) if (k !== "schedulers" && k !== "milestones") throw new Error(`${name}: unknown argument ${k}`);
    return name === "SequentialLR" ? new SequentialLR(opt, subs, raw.milestones as number[]) : new ChainedScheduler(subs);
  }
  return makeSub(opt, { scheduler: name, args: raw });
}

function makeOptimizer(spec: { type: string; param_groups: Args[] }): Optimizer {
  const groups = spec.param_groups.map((g, i) => {
    const params = [variable(new Tensor(Float32Array.of(0), [1]), { name: `p${i}` })];
    const h: Args = { params };
    for (const [k, v] of Object.entries(g)) h[camel(k)] = Array.isArray(v) ? v.map((x) => num(x as number)) : num(v as number);
    return h;
  });
  if (spec.type === "SGD") return new SGD(groups as never);
  if (spec.type === "Adam") return new Adam(groups as never);
  throw new Error(`unknown optimizer ${spec.type}`);
}

function momentumOf(g: { momentum?: number; betas?: readonly number[] }, type: string): number {
  return type === "Adam" ? g.betas![0]! : g.momentum!;
}

function runSchedCase(c: Args, tol: Tolerance): CaseResult {
  const name = c.name as string;
  const optSpec = c.optimizer as { type: string; param_groups: Args[] };
  const opt = makeOptimizer(optSpec);
  const groups = opt.paramGroups as unknown as { lr: number; momentum?: number; betas?: readonly number[] }[];
  const sched = makeScheduler(opt as unknown as SchedulableOptimizer, c.scheduler as string, (c.args ?? {}) as Args);
  const S = c.steps as number;
  const metrics = c.metrics ? (c.metrics as GTensor).data.map((x) => num(x)) : null;
  const expected = c.expected as Record<string, GTensor | null>;
  if (c.scheduler === "ReduceLROnPlateau" && (metrics === null || metrics.length !== S)) throw new Error(`need ${S} metrics`);
  const lrs: number[] = [], moms: number[] = [], best: number[] = [], bad: number[] = [], cool: number[] = [];
  const record = (): void => {
    for (const g of groups) {
      lrs.push(g.lr);
      if (expected.momentum) moms.push(momentumOf(g, optSpec.type));
    }
  };
  record();
  for (let k = 0; k < S; k++) {
    opt.step(); // no gradients: a no-op, as in the reference protocol
    if (sched instanceof ReduceLROnPlateau) {
      sched.step(metrics![k]!);
      best.push(sched.best);
      bad.push(sched.numBadEpochs);
      cool.push(sched.cooldownCounter);
    } else {
      sched.step();
    }
    record();
  }
  const checks = new Checks();
  const values = (t: GTensor): number[] => t.data.map((x) => num(x));
  checks.add(compareValues("lr", lrs, values(expected.lr!), tol));
  if (expected.momentum) checks.add(compareValues("momentum", moms, values(expected.momentum), tol));
  const exact = { rtol: 0, atol: 0 };
  if (expected.best) checks.add(compareValues("best", best, values(expected.best), tol));
  if (expected.num_bad_epochs) checks.add(compareValues("num_bad_epochs", bad, values(expected.num_bad_epochs), exact));
  if (expected.cooldown_counter) checks.add(compareValues("cooldown_counter", cool, values(expected.cooldown_counter), exact));
  for (const k of Object.keys(expected)) if (!["lr", "momentum", "best", "num_bad_epochs", "cooldown_counter"].includes(k)) checks.add(`expected.${k}: not checked by this handler`);
  return checks.result(name);
}

/** Runs every case of `layers/sched.json`. */
export function runSchedFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => runCase(c.name, () => runSchedCase(c, file.tolerance)));
}
