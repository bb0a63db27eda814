/**
 * @file The cost of privacy (issue 16): one DP-SGD step against the non-private step of the same
 * model, same batch (256), same optimizer (SGD, momentum 0.9), in ms per step. The models are the
 * `pnpm train --dp` ones (`examples/train/private.ts`): the tanh MLP 784-256-10 and the tanh CNN
 * (conv 16 8×8/2, pool, conv 32 4×4/2, pool, 32, 10).
 *
 * - non-private: `zeroGrad`, forward, cross-entropy (mean), `backward`, `step`.
 * - private: `DPOptimizer.step` as `pnpm train --dp` runs it — forward, the per-sample backward
 *   (ghost norms for the Linear layers, per-sample conv weight gradients), flat clipping to C = 1,
 *   seeded Gaussian noise (σ = 1) on every coordinate, division by the expected batch size, the
 *   SGD update, the accountant's step and ε at δ = 1e-5 in the telemetry.
 *
 * tapegrad only: no JavaScript peer has per-example gradients.
 */
import { crossEntropy, constant, type Var } from "@tapegrad/autograd";
import { SGD } from "@tapegrad/optim";
import { Rng, Tensor, randn } from "@tapegrad/tensor";
import { DPOptimizer } from "@tapegrad/privacy";
import { DEFAULTS } from "../examples/train/trainer.js";
import { DP_CNN_DEFAULTS, DP_MLP_DEFAULTS, makePrivateModel } from "../examples/train/private.js";
import type { Case, Topic } from "./types.js";

const BATCH = 256;
const MODELS = { mlp: { ...DEFAULTS, ...DP_MLP_DEFAULTS }, cnn: { ...DEFAULTS, ...DP_CNN_DEFAULTS } } as const;
type ModelKey = keyof typeof MODELS;
const KEYS = Object.keys(MODELS) as ModelKey[];

/** The case names of a model: private first, then its non-private partner. */
export const dpCaseName = (m: string): string => `dp-step ${m} b${BATCH} private`;
export const plainCaseName = (m: string): string => `dp-step ${m} b${BATCH} non-private`;

function tapegradCases(): Case[] {
  const rng = new Rng(7);
  const x = randn([BATCH, 784], rng);
  const labels = Int32Array.from({ length: BATCH }, () => Math.floor(rng.random() * 10));
  const cases: Case[] = [];
  for (const key of KEYS) {
    const o = MODELS[key];
    const size = `${key}/${BATCH}`;
    const plainModel = makePrivateModel(o, new Rng(0));
    const plainOpt = new SGD(plainModel.parameters(), { lr: 0.01, momentum: 0.9 });
    const input = constant(x);
    cases.push({
      name: plainCaseName(key), size, unit: "ms", work: 0,
      fn: () => {
        plainOpt.zeroGrad();
        const loss = crossEntropy(plainModel.forward(input) as Var, labels);
        loss.backward();
        plainOpt.step();
        loss.value.item();
      },
    });
    const model = makePrivateModel(o, new Rng(0));
    const dp = new DPOptimizer(new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 }), {
      noiseMultiplier: 1, maxGradNorm: 1, sampleRate: BATCH / 60000, expectedBatchSize: BATCH, rng: new Rng(1), delta: 1e-5,
    });
    const lossOf = (s = 0, e = BATCH) => crossEntropy(model.forward(s === 0 && e === BATCH ? input : constant(new Tensor(x.data.subarray(s * 784, e * 784), [e - s, 784]))) as Var, labels.subarray(s, e));
    cases.push({ name: dpCaseName(key), size, unit: "ms", work: 0, fn: () => void dp.step(BATCH, lossOf) });
  }
  return cases;
}

/** The dp-step topic (issue 16: a private step ≤ 3× the non-private one). */
export const dpTopic: Topic = {
  bench: "dp-step",
  perBackend: true,
  caseNames: KEYS.flatMap((k) => [dpCaseName(k), plainCaseName(k)]),
  cases: { tapegrad: tapegradCases },
};
