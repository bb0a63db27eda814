/**
 * @file Golden handler for rnn_explode.json (exploding gradients in a tanh RNN, Pascanu et al.
 * 2013), compared as the file's README prescribes: the ill-conditioned initial forwards (output,
 * h_last: ‖Δ‖ ≤ 1e-3·‖expected‖) and gradients
 * norm-wise (within 10× the float32-vs-float64 relative error), the first update relative to its
 * size, the chaotic trajectories only for their float32-reproducible leading steps, and the rest
 * qualitatively: finiteness as recorded, every clipped update within `lr · max_norm`, and the
 * unclipped first update of norm `lr · ‖g‖`.
 */
import * as A from "@tapegrad/autograd";
import type { Var } from "@tapegrad/autograd";

import { Linear, RNN } from "@tapegrad/nn";
import { SGD, clipGradNorm } from "@tapegrad/optim";
import { Checks, compareNumber, f32, num, runCase, toTensor, type CaseResult, type GTensor, type GoldenFile } from "./schema.js";

const NAMES: Record<string, [string, string]> = {
  W_ih: ["rnn", "weight_ih_l0"], W_hh: ["rnn", "weight_hh_l0"], b_ih: ["rnn", "bias_ih_l0"], b_hh: ["rnn", "bias_hh_l0"], W_out: ["head", "weight"], b_out: ["head", "bias"],
};

function l2(xs: ArrayLike<number>[]): number {
  let s = 0;
  for (const x of xs) for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}
function diffNorm(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let s = 0;
  a.forEach((x, k) => { for (let i = 0; i < x.length; i++) { const d = x[i]! - b[k]![i]!; s += d * d; } });
  return Math.sqrt(s);
}

interface Problem {
  hidden_size: number; input_size: number; param_names: string[]; params: GTensor[]; x: GTensor; y: GTensor;
  initial: { loss: number; output: GTensor; h_last: GTensor; grads: GTensor[]; grad_norms: (number | string)[]; total_grad_norm: number | string; float32_vs_float64_grad_relerr: number };
}

function build(p: Problem) {
  const rnn = new RNN(p.input_size, p.hidden_size);
  const head = new Linear(p.hidden_size, 1);
  const byName: Record<string, Var> = {};
  for (const [n, v] of rnn.namedParameters()) byName[`rnn.${n}`] = v;
  for (const [n, v] of head.namedParameters()) byName[`head.${n}`] = v;
  const params = p.param_names.map((n, i) => {
    const m = NAMES[n];
    if (!m) throw new Error(`unknown parameter name ${n}`);
    const v = byName[`${m[0]}.${m[1]}`]!;
    v.value.data.set(f32(p.params[i]!));
    return v;
  });
  const x = toTensor(p.x), y = toTensor(p.y);
  const forward = () => {
    const { h } = rnn.forward(x);
    const hT = A.select(h, 0, 0);
    const out = head.forward(hT);
    return { out, hT, loss: A.mseLoss(out, y) };
  };
  return { params, forward };
}

function runRnnCase(file: GoldenFile, c: Record<string, unknown>): CaseResult {
  const name = c.name as string;
  const p = file.problem as Problem;
  const crit = (file.reproducibility_criterion ?? {}) as { rtol?: number; atol_loss?: number; atol_grad_norm?: number };
  const checks = new Checks();
  const relerr = p.initial.float32_vs_float64_grad_relerr;
  const { params, forward } = build(p);
  // Initial forward/backward.
  const f0 = forward();
  checks.add(compareNumber("initial.loss", f0.loss.item(), p.initial.loss, { rtol: 1e-3, atol: 0 }));
  // Forwards through 40 steps of an expanding recurrence: the operation order alone moves single
  // elements by ~1e-3, so (as the golden README recommends) compare norm-wise: ‖Δ‖ ≤ 1e-3·‖expected‖.
  for (const [label, actual, expected] of [["initial.output", f0.out.value, p.initial.output], ["initial.h_last", f0.hT.value, p.initial.h_last]] as const) {
    if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) {
      checks.add(`${label}: shape ${JSON.stringify(actual.shape)} != expected ${JSON.stringify(expected.shape)}`);
      continue;
    }
    const e = f32(expected);
    const err = diffNorm([actual.toFloat32Array()], [e]);
    if (!(err <= 1e-3 * l2([e]))) checks.add(`${label}: ‖Δ‖ ${err} > 1e-3·‖expected‖ = ${1e-3 * l2([e])}`);
  }
  f0.loss.backward();
  params.forEach((v, i) => {
    const e = f32(p.initial.grads[i]!);
    const err = diffNorm([v.grad!.toFloat32Array()], [e]);
    if (!(err <= 10 * relerr * l2([e]))) checks.add(`initial.grads[${i}] ${p.param_names[i]}: ‖Δ‖ ${err} > 10·relerr·‖g‖ = ${10 * relerr * l2([e])}`);
  });
  const total0 = l2(params.map((v) => v.grad!.data));
  checks.add(compareNumber("initial.total_grad_norm", total0, p.initial.total_grad_norm, { rtol: 10 * relerr, atol: 0 }));
  // Training run.
  const clip = c.clip as { type: string; max_norm: number; norm_type?: number | string } | null;
  if (clip && clip.type !== "global_norm") return { name, status: "failed", message: `unknown clip type ${clip.type}` };
  const lr = num(c.lr as number);
  const steps = c.steps as number;
  const reproducible = (c.float32_reproducible_steps as number) ?? 0;
  const losses = c.loss as (number | string)[];
  const gnorms = c.grad_norm as (number | string)[];
  for (const v of params) v.value.data.set(f32(p.params[params.indexOf(v)]!));
  const opt = new SGD(params, { lr });
  let anyNonFinite = false;
  let maxClippedUpdate = 0;
  let firstUpdate = 0;
  let firstGradNorm = 0;
  for (let k = 0; k < steps; k++) {
    opt.zeroGrad();
    const { loss } = forward();
    const lv = loss.item();
    loss.backward();
    const before = params.map((v) => v.value.toFloat32Array());
    const gn = clip ? clipGradNorm(params, num(clip.max_norm), { normType: clip.norm_type === undefined ? 2 : num(clip.norm_type) }).totalNorm : l2(params.map((v) => v.grad!.data));
    if (!Number.isFinite(lv) || !Number.isFinite(gn)) anyNonFinite = true;
    if (k < reproducible) {
      checks.add(compareNumber(`loss[${k}]`, lv, losses[k]!, { rtol: crit.rtol ?? 1e-3, atol: crit.atol_loss ?? 1e-6 }));
      checks.add(compareNumber(`grad_norm[${k}]`, gn, gnorms[k]!, { rtol: crit.rtol ?? 1e-3, atol: crit.atol_grad_norm ?? 1e-4 }));
    }
    opt.step();
    const update = diffNorm(params.map((v) => v.value.data), before);
    if (k === 0) {
      firstUpdate = update;
      firstGradNorm = gn;
      // params after step 1, relative to the size of the update
      const exp = (c.params_after_step1 as GTensor[]).map(f32);
      const err = diffNorm(params.map((v) => v.value.data), exp);
      const size = diffNorm(exp, p.params.map(f32));
      if (!(err <= 10 * relerr * size + 1e-7)) checks.add(`params_after_step1: ‖Δ‖ ${err} > 10·relerr·‖update‖ = ${10 * relerr * size}`);
    }
    if (clip) maxClippedUpdate = Math.max(maxClippedUpdate, update);
  }
  if (anyNonFinite !== Boolean(c.any_nonfinite)) checks.add(`any_nonfinite: got ${anyNonFinite} expected ${Boolean(c.any_nonfinite)}`);
  if (clip) {
    const bound = lr * num(clip.max_norm) * (1 + 1e-5);
    if (!(maxClippedUpdate <= bound)) checks.add(`a clipped update has norm ${maxClippedUpdate} > lr·max_norm = ${bound}`);
  } else if (Math.abs(firstUpdate - lr * firstGradNorm) > 1e-3 * lr * firstGradNorm) {
    checks.add(`unclipped first update has norm ${firstUpdate}, expected lr·‖g‖ = ${lr * firstGradNorm}`);
  }
  const final = c.final as { loss: number | string } | undefined;
  if (final && !c.any_nonfinite) {
    const lv = A.noGrad(() => forward().loss.item());
    if (!Number.isFinite(lv)) checks.add(`final loss is ${lv}, expected finite`);
  }
  return checks.result(name);
}

/** Runs every case of rnn_explode.json. */
export function runRnnExplodeFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => runCase(c.name, () => runRnnCase(file, c)));
}


