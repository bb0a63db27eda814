/**
 * @file The training loop the compression pipeline shares: fine-tuning any
 * `forward(x) → logits` module with any optimizer (cross-entropy, clipping through the optimizer's
 * own clip transforms, cosine schedule), a hook before each epoch (pruning ramps), a progress bar,
 * and the inference time of anything that maps a batch to logits (accuracy: `../lib/evaluate.ts`,
 * re-exported here).
 */
import { type Tensor, indexSelect, Rng } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { DataLoader, type Module } from "@tapegrad/nn";
import { LRScheduler, cosineAnnealingLr, type Optimizer } from "@tapegrad/optim";
import type { Split } from "../train/data.js";
import { Progress } from "../lib/progress.js";
import type { Predict } from "../lib/evaluate.js";

export { accuracyOf, predictor, type Predict } from "../lib/evaluate.js";

/** A trainable classifier: a module whose forward maps `[B, 784]` to logits. */
export interface Classifier extends Module {
  forward(x: A.VarLike): A.Var;
}

/** Options of {@link fit}. */
export interface FitOptions {
  epochs: number;
  batchSize?: number;
  seed: number;
  /** Cosine annealing of the learning rate over all steps (default true). */
  cosine?: boolean;
  /** Progress-bar label (e.g. "prune-80 seed 1"); nothing is drawn without it. */
  label?: string;
  /** Called before each epoch (0-based), e.g. to prune a little more. */
  beforeEpoch?: (epoch: number) => void;
  /** Loss of a batch (default cross-entropy of the logits). */
  loss?: (logits: A.Var, x: Tensor, labels: Int32Array) => A.Var;
}

/** Trains `model` in place; returns the seconds spent. */
export function fit(model: Classifier, optimizer: Optimizer, train: Split, o: FitOptions): number {
  const loader = new DataLoader(train.x, train.y, { batchSize: o.batchSize ?? 128, rng: new Rng(o.seed + 1) });
  const sched = o.cosine === false ? null : new LRScheduler(optimizer, cosineAnnealingLr({ tMax: o.epochs * loader.length }));
  const t0 = performance.now();
  model.train();
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    o.beforeEpoch?.(epoch);
    const bar = o.label ? new Progress(`${o.label} epoch ${epoch + 1}/${o.epochs}`, loader.length) : null;
    let lossSum = 0, seen = 0, k = 0;
    const te = performance.now();
    for (const b of loader) {
      const labels = b.y as Int32Array;
      optimizer.zeroGrad();
      const logits = model.forward(b.x);
      const loss = o.loss ? o.loss(logits, b.x, labels) : A.crossEntropy(logits, labels);
      loss.backward();
      optimizer.step();
      sched?.step();
      lossSum += loss.item() * labels.length;
      seen += labels.length;
      bar?.update(++k, `loss ${(lossSum / seen).toFixed(4)} ${Math.round(seen / ((performance.now() - te) / 1000))} samples/s`);
    }
    bar?.done(`loss ${(lossSum / seen).toFixed(4)}, ${Math.round(seen / ((performance.now() - te) / 1000))} samples/s`);
  }
  return (performance.now() - t0) / 1000;
}

/** Milliseconds to classify 1,000 test images in one batch (median of `reps` after a warm-up). */
export function inferenceMsPer1k(predict: Predict, split: Split, reps = 7): number {
  const x = indexSelect(split.x, 0, Int32Array.from({ length: 1000 }, (_, i) => i));
  predict(x);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    predict(x);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[reps >> 1]!;
}
