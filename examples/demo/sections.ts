/**
 * @file The three experiments of `pnpm demo`, each returning the numbers behind its charts and
 * claims (they go verbatim into out/summary.json):
 *
 * 1. the seed article's linear regression, done right, with clip-by-value and clip-by-norm;
 * 2. exploding gradients in a vanilla RNN on the adding problem, with and without global-norm
 *    clipping, same model/data/seed/learning rate, on several seeds;
 * 3. a small MLP classifier (spirals) trained with clipping telemetry on, global-norm vs AutoClip.
 */
import { Rng, argmax } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { DataLoader } from "@tapegrad/nn";
import { AutoClip, SGD, clipGradNorm, type GradTransform } from "@tapegrad/optim";
import { closedForm, makeProblem, trainLinreg, type LinregRun } from "../lib/linreg.js";
import { BASELINE_MSE, LEARNED_FRACTION, PARTLY_FRACTION, trainAdding, type AddingConfig, type AddingRun } from "../lib/adding.js";
import { spirals, spiralsModel } from "../lib/spirals.js";
import { Progress } from "../lib/progress.js";

/** Section 1 result. */
export interface LinregSection {
  closedForm: { w: number; b: number; loss: number };
  runs: (Omit<LinregRun, "clipped"> & { clippedSteps: number; clipRate: number[] })[];
}

/** Moving average of a boolean series (clip rate per step). */
export function rate(flags: readonly boolean[], window = 50): number[] {
  const out: number[] = [];
  let s = 0;
  for (let i = 0; i < flags.length; i++) {
    s += flags[i] ? 1 : 0;
    if (i >= window) s -= flags[i - window] ? 1 : 0;
    out.push(s / Math.min(i + 1, window));
  }
  return out;
}

export function runLinreg(): LinregSection {
  const bar = new Progress("1/3 linear regression", 4);
  const p = makeProblem();
  const configs: [string, number, Parameters<typeof trainLinreg>[3]][] = [
    ["no clipping, lr 0.1", 0.1, { type: "none" }],
    ["clip by value 0.1, lr 0.1", 0.1, { type: "value", clipValue: 0.1 }],
    ["clip by norm 0.5, lr 0.1", 0.1, { type: "norm", maxNorm: 0.5 }],
    ["clip by value 0.1, lr 0.01", 0.01, { type: "value", clipValue: 0.1 }],
  ];
  const runs = configs.map(([label, lr, clip], i) => {
    const r = trainLinreg(p, label, lr, clip);
    bar.update(i + 1, label);
    const { clipped, ...rest } = r;
    return { ...rest, clippedSteps: clipped.filter(Boolean).length, clipRate: rate(clipped) };
  });
  const cf = closedForm(p);
  bar.done(`closed form w ${cf.w.toFixed(4)} b ${cf.b.toFixed(4)}; ` + runs.map((r) => `${r.label}: w ${r.final.w.toFixed(4)} b ${r.final.b.toFixed(4)}`).join("; "));
  return { closedForm: cf, runs };
}

/** Section 2 result. */
export interface RnnSection {
  config: Omit<AddingConfig, "seed" | "maxNorm">;
  maxNorm: number;
  baselineMse: number;
  learnedBelow: number;
  partlyBelow: number;
  seeds: number[];
  runs: (Omit<AddingRun, "clipped"> & { clipped: boolean; clippedSteps: number; clipRate: number[] })[];
  counts: { clipped: Record<string, number>; unclipped: Record<string, number> };
}

export function runRnn(seeds = [0, 1, 2, 3, 4]): RnnSection {
  const base = { seqLen: 20, hidden: 32, batch: 32, steps: 3000, lr: 0.2, recurrentGain: 1 };
  const maxNorm = 1;
  const runs: RnnSection["runs"] = [];
  for (const seed of seeds) {
    for (const clip of [maxNorm, null]) {
      const label = `2/3 adding T=${base.seqLen} seed ${seed} ${clip === null ? "no clip  " : `clip ${clip}   `}`;
      const bar = new Progress(label, base.steps);
      const r = trainAdding({ ...base, maxNorm: clip, seed }, (k, loss) => bar.update(k, `loss ${loss.toFixed(4)}`));
      bar.done(`${r.outcome}: test MSE ${r.testLoss.toFixed(4)}` + (r.firstNonFinite !== null ? `, non-finite at step ${r.firstNonFinite}` : "") + `, clipped ${r.clipped.filter(Boolean).length}/${base.steps} steps`);
      runs.push({ ...r, clipped: clip !== null, clippedSteps: r.clipped.filter(Boolean).length, clipRate: rate(r.clipped) });
    }
  }
  const count = (clipped: boolean) => {
    const c: Record<string, number> = { learned: 0, "partly learned": 0, "no progress": 0, diverged: 0 };
    for (const r of runs) if (r.clipped === clipped) c[r.outcome] = (c[r.outcome] ?? 0) + 1;
    return c;
  };
  return { config: base, maxNorm, baselineMse: BASELINE_MSE, learnedBelow: LEARNED_FRACTION * BASELINE_MSE, partlyBelow: PARTLY_FRACTION * BASELINE_MSE, seeds, runs, counts: { clipped: count(true), unclipped: count(false) } };
}

/** Section 3 result. */
export interface MlpSection {
  data: { classes: number; trainPerClass: number; testPerClass: number; noise: number };
  runs: { label: string; loss: number[]; preClipNorm: number[]; postClipNorm: number[]; threshold: number[]; clipRate: number[]; clippedSteps: number; steps: number; testAccuracy: number }[];
}

export function runMlp(): MlpSection {
  const data = { classes: 3, trainPerClass: 400, testPerClass: 400, noise: 0.2 };
  const train = spirals(data.trainPerClass, data.classes, data.noise, new Rng(10));
  const test = spirals(data.testPerClass, data.classes, data.noise, new Rng(11));
  const variants: [string, () => GradTransform][] = [
    ["global-norm clip 1.0", () => clipGradNorm.transform(1.0)],
    ["AutoClip (10th percentile)", () => new AutoClip()],
  ];
  const epochs = 60;
  const runs = variants.map(([label, makeClip]) => {
    const rng = new Rng(3);
    const model = spiralsModel(data.classes, rng);
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, clip: makeClip(), history: true });
    const loader = new DataLoader(train.x, train.y, { batchSize: 32, rng: new Rng(4) });
    const bar = new Progress(`3/3 mlp ${label}`, epochs * loader.length);
    const loss: number[] = [];
    for (let e = 0; e < epochs; e++) {
      for (const b of loader) {
        opt.zeroGrad();
        const l = A.crossEntropy(model.forward(b.x), b.y as Int32Array);
        l.backward();
        opt.step();
        loss.push(l.item());
        bar.update(loss.length, `loss ${l.item().toFixed(4)}`);
      }
    }
    const pred = argmax(A.noGrad(() => model.forward(test.x)).value, 1).data;
    let correct = 0;
    for (let i = 0; i < test.y.length; i++) if (pred[i] === test.y[i]) correct++;
    const testAccuracy = correct / test.y.length;
    const h = opt.history;
    const clipped = h.map((s) => s.clipped);
    bar.done(`test accuracy ${(100 * testAccuracy).toFixed(1)}%, clipped ${clipped.filter(Boolean).length}/${h.length} steps`);
    return {
      label, loss, steps: h.length, testAccuracy,
      preClipNorm: h.map((s) => s.preClipNorm),
      postClipNorm: h.map((s) => s.postClipNorm),
      threshold: h.map((s) => s.transforms[0]?.threshold ?? NaN),
      clipRate: rate(clipped),
      clippedSteps: clipped.filter(Boolean).length,
    };
  });
  return { data, runs };
}
