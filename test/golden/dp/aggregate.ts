/**
 * @file Golden cases of `dp/dp.json` for DP-SGD's gradients: `per_example_grads` (autograd's
 * per-sample backward on the file's models), `clip_flat` / `clip_per_layer` (Opacus' clipping of
 * the file's per-example gradients), `dp_sgd_step` (the whole private step through `DPOptimizer`
 * with σ = 0 and plain SGD, every loss-reduction / divisor variant) and `noise_statistics` (the
 * noise's std, checked statistically on seeded draws).
 */
import * as A from "@tapegrad/autograd";
import { Rng, Tensor } from "@tapegrad/tensor";
import { SGD } from "@tapegrad/optim";
import { DPOptimizer, addNoise, clipAndAccumulate, gradDivisor, type PerExampleGrad } from "@tapegrad/privacy";
import { Checks, compareNumber, compareTensor, compareValues, f32, toIndices, type CaseResult, type GTensor, type GoldenCase, type Tolerance } from "../schema.js";
import { buildModel, perExampleLosses, sliceCase, type DpModelCase } from "./model.js";

type Num = number | string;
interface PerExampleCase extends GoldenCase, DpModelCase {
  expected: {
    logits: GTensor; per_example_losses: GTensor; loss: Num; per_example_grads: GTensor[]; batch_grads: GTensor[];
    per_param_norms: GTensor; per_sample_norms: GTensor;
  };
}
interface ClipCase extends GoldenCase {
  per_example_grads: GTensor[]; max_grad_norm?: number; max_grad_norms?: number[];
  expected: {
    per_param_norms: GTensor; per_sample_norms?: GTensor; clip_factors: GTensor; num_clipped: number | number[];
    summed_clipped_grads: GTensor[]; effective_max_grad_norm?: Num;
  };
}
interface Variant {
  loss_reduction: "mean" | "sum"; divisor_kind: "expected_batch_size" | "actual_batch_size" | "none"; divisor?: number | null;
  grads: GTensor[] | null; params_after: GTensor[] | null;
}
interface StepCase extends GoldenCase, DpModelCase {
  clipping: "flat" | "per_layer"; max_grad_norm: number | number[]; noise_multiplier: number; lr: number;
  optimizer: { name: string; momentum: number; dampening: number; weight_decay: number; nesterov: boolean };
  dataset_size: number; sample_rate: number; expected_batch_size: number; actual_batch_size: number; accumulated_iterations: number;
  expected: {
    summed_clipped_grads: GTensor[]; noise_std: number; per_sample_norms?: GTensor; per_param_norms?: GTensor; clip_factors: GTensor;
    num_clipped: number | number[]; effective_max_grad_norm?: Num; variants: Variant[];
  };
}
interface NoiseCase extends GoldenCase {
  noise_multiplier: number; max_grad_norm: number; expected_batch_size: number; per_layer_max_grad_norms: number[];
  expected: { flat_std_sum: number; flat_std_after_mean_scaling: number; per_layer_effective_max_grad_norm: number; per_layer_std_sum: number; per_layer_std_after_mean_scaling: number; mean: number; secure_mode_std_sum: number };
}

const asTensor = (data: Float32Array, shape: readonly number[]) => new Tensor(data, shape);

/** A `per_example_grads` case. */
export function runPerExampleCase(c: PerExampleCase, tol: Tolerance): CaseResult {
  const checks = new Checks();
  const m = buildModel(c);
  const { loss, logits } = m.loss(c.x, c.y);
  const B = c.x.shape[0]!;
  checks.add(compareTensor("logits", logits.value, c.expected.logits, tol));
  checks.add(compareTensor("per_example_losses", perExampleLosses(logits, c.y), c.expected.per_example_losses, tol));
  checks.add(compareNumber("loss", loss.value.item(), c.expected.loss, tol));
  const ps = A.perSampleGrads(loss, m.params, { batchSize: B });
  if (ps.unsupported.length > 0) checks.add(`unsupported uses: ${JSON.stringify(ps.unsupported)}`);
  const ones = new Float32Array(B).fill(1);
  const P = m.params.length;
  const norms = new Float32Array(B * P);
  m.params.forEach((_, p) => {
    checks.add(compareTensor(`per_example_grads[${c.param_names[p]}]`, ps.materialize(p), c.expected.per_example_grads[p]!, tol));
    checks.add(compareTensor(`batch_grads[${c.param_names[p]}]`, ps.weightedSum(p, ones), c.expected.batch_grads[p]!, tol));
    ps.normsSquared(p).forEach((n2, i) => (norms[i * P + p] = Math.sqrt(n2)));
  });
  checks.add(compareTensor("per_param_norms", asTensor(norms, [B, P]), c.expected.per_param_norms, tol));
  checks.add(compareTensor("per_sample_norms", asTensor(clipAndAccumulate(ps, { maxGradNorm: 1 }).perSampleNorms, [B]), c.expected.per_sample_norms, tol));
  return checks.result(c.name);
}

/** A `clip_flat` or `clip_per_layer` case. */
export function runClipCase(c: ClipCase, tol: Tolerance): CaseResult {
  const checks = new Checks();
  const grads: PerExampleGrad[] = c.per_example_grads.map((t) => ({ data: f32(t), shape: t.shape }));
  const B = c.per_example_grads[0]!.shape[0]!, P = grads.length;
  const r = c.kind === "clip_flat" ? clipAndAccumulate(grads, { maxGradNorm: c.max_grad_norm! }) : clipAndAccumulate(grads, { maxGradNorm: c.max_grad_norms! });
  checks.add(compareTensor("per_param_norms", asTensor(r.perParamNorms, [B, P]), c.expected.per_param_norms, tol));
  if (r.kind === "flat") {
    checks.add(compareTensor("per_sample_norms", asTensor(r.perSampleNorms, [B]), c.expected.per_sample_norms!, tol));
    checks.add(compareTensor("clip_factors", asTensor(r.clipFactors, [B]), c.expected.clip_factors, tol));
  } else {
    checks.add(compareTensor("clip_factors", asTensor(r.clipFactors, [B, P]), c.expected.clip_factors, tol));
    checks.add(compareNumber("effective_max_grad_norm", r.effectiveMaxGradNorm, c.expected.effective_max_grad_norm!, tol));
  }
  checks.add(JSON.stringify(r.numClipped) === JSON.stringify(c.expected.num_clipped) ? null : `num_clipped: got ${JSON.stringify(r.numClipped)} expected ${JSON.stringify(c.expected.num_clipped)}`);
  r.summed.forEach((s, p) => checks.add(compareTensor(`summed_clipped_grads[${p}]`, asTensor(s, c.expected.summed_clipped_grads[p]!.shape), c.expected.summed_clipped_grads[p]!, tol)));
  return checks.result(c.name);
}

/** A `dp_sgd_step` case: each variant is one `DPOptimizer.step` on a fresh copy of the model. */
export function runStepCase(c: StepCase, tol: Tolerance): CaseResult {
  const checks = new Checks();
  const B = c.actual_batch_size;
  if (c.optimizer.name !== "SGD" || c.optimizer.momentum !== 0 || c.optimizer.weight_decay !== 0) checks.add(`unsupported optimizer ${JSON.stringify(c.optimizer)}`);
  for (const v of c.expected.variants) {
    const label = `${v.loss_reduction}/${v.divisor_kind}`;
    const m = buildModel(c);
    const dp = new DPOptimizer(new SGD(m.params, { lr: c.lr }), {
      noiseMultiplier: c.noise_multiplier, maxGradNorm: c.max_grad_norm, sampleRate: c.sample_rate, expectedBatchSize: c.expected_batch_size,
      lossReduction: v.loss_reduction, divisor: v.divisor_kind === "actual_batch_size" ? "actual" : "expected", rng: new Rng(0),
      accumulatedIterations: c.accumulated_iterations ?? 1,
    });
    const lossOf = (s = 0, e = B) => {
      const part = sliceCase(c, s, e);
      return A.crossEntropy(m.forward(part.x), toIndices(part.y), { reduction: v.loss_reduction });
    };
    if (v.grads === null) {
      let threw = false;
      try {
        dp.step(B, lossOf);
      } catch {
        threw = true;
      }
      checks.add(threw ? null : `${label}: expected an error (no divisor for an empty batch), the step ran`);
      continue;
    }
    if (typeof v.divisor === "number") { // the file's divisor (E·k, B·k or 1) is the one the step used
      const mine = gradDivisor({ lossReduction: v.loss_reduction, divisor: v.divisor_kind === "actual_batch_size" ? "actual" : "expected", expectedBatchSize: c.expected_batch_size, actualBatchSize: B, accumulatedIterations: c.accumulated_iterations ?? 1 });
      checks.add(mine === v.divisor ? null : `${label}: divisor ${mine} expected ${v.divisor}`);
    }
    dp.step(B, lossOf);
    const st = dp.lastStats!;
    checks.add(compareNumber(`${label}: noise_std`, st.noiseStd, c.expected.noise_std, tol));
    const expClipped = c.expected.num_clipped;
    const nClipped = Array.isArray(expClipped) ? expClipped.reduce((a, b) => a + b, 0) : expClipped;
    checks.add(st.numClipped === nClipped ? null : `${label}: num_clipped ${st.numClipped} expected ${nClipped}`);
    m.params.forEach((p, i) => {
      checks.add(compareTensor(`${label}: grads[${c.param_names[i]}]`, p.grad!, v.grads![i]!, tol));
      checks.add(compareTensor(`${label}: params_after[${c.param_names[i]}]`, p.value, v.params_after![i]!, tol));
    });
  }
  return checks.result(c.name);
}

/** A `noise_statistics` case: seeded noise on zero gradients has the stated std, mean 0, no correlation. */
export function runNoiseCase(c: NoiseCase, tol: Tolerance): CaseResult {
  const checks = new Checks();
  const K = 200_000;
  const per = clipAndAccumulate(c.per_layer_max_grad_norms.map(() => ({ data: new Float32Array(1), shape: [1, 1] })), { maxGradNorm: c.per_layer_max_grad_norms });
  checks.add(compareNumber("per_layer_effective_max_grad_norm", per.effectiveMaxGradNorm, c.expected.per_layer_effective_max_grad_norm, tol));
  const cases: [string, number, number, { rng?: Rng; secure?: boolean }][] = [
    ["flat", c.max_grad_norm, c.expected.flat_std_sum, { rng: new Rng(1) }],
    ["per-layer", per.effectiveMaxGradNorm, c.expected.per_layer_std_sum, { rng: new Rng(2) }],
    ["secure", c.max_grad_norm, c.expected.secure_mode_std_sum, { secure: true }],
  ];
  for (const [what, C, std, src] of cases) {
    const z = addNoise([new Float32Array(K)], { noiseMultiplier: c.noise_multiplier, maxGradNorm: C, ...src })[0]!;
    let s = 0, s2 = 0, cross = 0;
    for (let k = 0; k < K; k++) (s += z[k]!), (s2 += z[k]! * z[k]!);
    const mean = s / K, sd = Math.sqrt(s2 / K - mean * mean);
    for (let k = 0; k + 1 < K; k++) cross += (z[k]! - mean) * (z[k + 1]! - mean);
    const r = cross / (K - 1) / (sd * sd);
    checks.add(Math.abs(mean - c.expected.mean) <= (5 * std) / Math.sqrt(K) ? null : `${what}: mean ${mean} too far from 0 (std ${std})`);
    checks.add(Math.abs(sd / std - 1) <= 5 / Math.sqrt(2 * K) ? null : `${what}: sample std ${sd} vs ${std}`);
    checks.add(Math.abs(r) <= 5 / Math.sqrt(K) ? null : `${what}: neighbour correlation ${r}`);
  }
  checks.add(compareNumber("flat_std_after_mean_scaling", (c.noise_multiplier * c.max_grad_norm) / c.expected_batch_size, c.expected.flat_std_after_mean_scaling, tol));
  checks.add(compareValues("per_layer_std", [c.noise_multiplier * per.effectiveMaxGradNorm], [c.expected.per_layer_std_sum], tol));
  return checks.result(c.name);
}
