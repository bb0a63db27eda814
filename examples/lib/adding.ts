/**
 * @file The adding problem (Hochreiter & Schmidhuber 1997; used by Pascanu, Mikolov & Bengio 2013
 * to study exploding gradients): each input is a sequence of `T` pairs `(value ~ U[0,1), marker)`
 * with exactly two markers set, one in each half; the target is the sum of the two marked values.
 * Predicting the mean (1) gives an MSE of 1/6 ≈ 0.167, so a model only beats that by remembering
 * the first marked value across the sequence.
 *
 * The model is a vanilla tanh RNN (`@tapegrad/nn` `RNN`) with a linear read-out of the last hidden
 * state, trained with plain SGD; the recurrent matrix starts as `gain ×` an orthogonal matrix, and
 * a gain above 1 puts the network in the exploding-gradient regime.
 */
import { Rng, Tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { Linear, RNN, init } from "@tapegrad/nn";
import { SGD, clipGradNorm } from "@tapegrad/optim";

/** MSE of always predicting the mean sum (1): Var(U + U) = 1/6. */
export const BASELINE_MSE = 1 / 6;

/** One batch of the adding problem, time-major: `x [T, B, 2]`, `y [B, 1]`. */
export function addingBatch(rng: Rng, T: number, B: number): { x: Tensor; y: Tensor } {
  const x = new Float32Array(T * B * 2);
  const y = new Float32Array(B);
  const half = Math.floor(T / 2);
  for (let b = 0; b < B; b++) {
    const i = rng.int(0, half);
    const j = rng.int(half, T);
    for (let t = 0; t < T; t++) {
      const v = rng.random();
      x[(t * B + b) * 2] = v;
      if (t === i || t === j) {
        x[(t * B + b) * 2 + 1] = 1;
        y[b]! += v;
      }
    }
  }
  return { x: new Tensor(x, [T, B, 2]), y: new Tensor(y, [B, 1]) };
}

/** Settings of one adding-problem run. */
export interface AddingConfig {
  seqLen: number;
  hidden: number;
  batch: number;
  steps: number;
  lr: number;
  /** Gain of the orthogonal recurrent initialisation. */
  recurrentGain: number;
  /** Global-norm threshold, or null for no clipping. */
  maxNorm: number | null;
  seed: number;
}

/** What happened in a run. */
export type AddingOutcome = "learned" | "partly learned" | "no progress" | "diverged";

/** Per-step record of a run. */
export interface AddingRun {
  config: AddingConfig;
  loss: number[];
  preClipNorm: number[];
  clipped: boolean[];
  /** Step at which loss or gradient first became non-finite (null if never). */
  firstNonFinite: number | null;
  /** Mean loss over the last 10% of steps (NaN once diverged). */
  finalLoss: number;
  /** Mean loss of the trained model on 4,096 fresh sequences (NaN once diverged). */
  testLoss: number;
  outcome: AddingOutcome;
}

/** Test loss below this fraction of the baseline counts as "learned". */
export const LEARNED_FRACTION = 0.3;
/** Test loss below this fraction of the baseline (but not learned) counts as "partly learned". */
export const PARTLY_FRACTION = 0.9;

/** The adding-problem model: its parameters and its forward pass (`x [T, B, 2]` → `[B, 1]`). */
export interface AddingModel {
  params: A.Var[];
  forward(x: Tensor): A.Var;
}

/**
 * The tanh RNN with a linear read-out, initialised from `seed` (the recurrent matrix is
 * `recurrentGain ×` an orthogonal matrix). Browser-safe: `examples/web` trains it step by step.
 */
export function addingModel(cfg: Pick<AddingConfig, "hidden" | "recurrentGain" | "seed">): AddingModel {
  const rng = new Rng(cfg.seed);
  const rnn = new RNN(2, cfg.hidden, { rng });
  const whh = rnn.namedParameters().find(([n]) => n === "weight_hh_l0")![1];
  whh.value.data.set(init.orthogonal([cfg.hidden, cfg.hidden], { rng, gain: cfg.recurrentGain }).data);
  const head = new Linear(cfg.hidden, 1, { rng });
  return { params: [...rnn.parameters(), ...head.parameters()], forward: (x) => head.forward(A.select(rnn.forward(x).h, 0, 0)) };
}

/** The stream of training batches of a run (independent of the model's generator). */
export function addingDataRng(seed: number): Rng {
  return new Rng(seed + 1_000_003);
}

/**
 * Trains one model. Model initialisation and the data stream depend only on `seed`, so runs with
 * and without clipping see the same initial weights and the same batches.
 */
export function trainAdding(cfg: AddingConfig, onStep?: (step: number, loss: number) => void): AddingRun {
  const { params, forward } = addingModel(cfg);
  const opt = new SGD(params, { lr: cfg.lr, clip: cfg.maxNorm === null ? [] : [clipGradNorm.transform(cfg.maxNorm)] });
  const data = addingDataRng(cfg.seed);
  const run: AddingRun = { config: cfg, loss: [], preClipNorm: [], clipped: [], firstNonFinite: null, finalLoss: NaN, testLoss: NaN, outcome: "no progress" };
  for (let k = 0; k < cfg.steps; k++) {
    const { x, y } = addingBatch(data, cfg.seqLen, cfg.batch);
    if (run.firstNonFinite !== null) {
      // once non-finite, the parameters stay non-finite: record it without spending time
      run.loss.push(NaN);
      run.preClipNorm.push(NaN);
      run.clipped.push(false);
      continue;
    }
    opt.zeroGrad();
    const loss = A.mseLoss(forward(x), y);
    loss.backward();
    opt.step();
    const s = opt.lastStats!;
    const lv = loss.item();
    run.loss.push(lv);
    run.preClipNorm.push(s.preClipNorm);
    run.clipped.push(s.clipped);
    if (!Number.isFinite(lv) || !Number.isFinite(s.preClipNorm) || params.some((p) => !Number.isFinite(p.value.data[0]!))) run.firstNonFinite = k;
    onStep?.(k + 1, lv);
  }
  const tail = run.loss.slice(Math.floor(cfg.steps * 0.9));
  run.finalLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
  if (run.firstNonFinite === null) {
    const test = addingBatch(new Rng(987_654_321), cfg.seqLen, 4096);
    run.testLoss = A.noGrad(() => A.mseLoss(forward(test.x), test.y).item());
  }
  const t = run.testLoss;
  run.outcome = !Number.isFinite(t) || t > 10 * BASELINE_MSE ? "diverged" : t < LEARNED_FRACTION * BASELINE_MSE ? "learned" : t < PARTLY_FRACTION * BASELINE_MSE ? "partly learned" : "no progress";
  return run;
}
