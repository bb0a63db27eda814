/**
 * @file Distillation over a data loader: `distillEpoch` (one pass of {@link distillStep} over
 * the batches, with running means for a progress bar) and `trainDistilled` (several epochs, the
 * teacher's logits computed once and reused by default, an optional LR scheduler and an
 * evaluation callback per epoch).
 */
import { Tensor, indexSelect } from "@tapegrad/tensor";
import type { Batch, DataLoader } from "@tapegrad/nn";
import { distillStep, type DistillStepOptions, type DistillStepResult } from "./step.js";
import { precomputeTeacherLogits } from "./teacher.js";

/** Running numbers of the current epoch, passed to `onStep`. */
export interface DistillProgress {
  epoch: number;
  /** Steps done in this epoch (1-based) and per epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Sample-weighted means over the epoch so far. */
  loss: number;
  kdLoss: number;
  ceLoss: number;
  /** Training accuracy over the epoch so far (student, before each update). */
  accuracy: number;
  samplesPerSecond: number;
  /** The last step's result (optimizer stats included). */
  last: DistillStepResult;
}

/** One epoch's summary. */
export interface DistillEpochReport {
  epoch: number;
  steps: number;
  /** Steps whose update an extra clip transform skipped. */
  skippedSteps: number;
  loss: number;
  kdLoss: number;
  ceLoss: number;
  accuracy: number;
  seconds: number;
  samplesPerSecond: number;
  /** What `evaluate` returned for this epoch (e.g. test accuracy), if given. */
  metric?: number;
}

/** Options of {@link distillEpoch}: those of {@link distillStep} without the batch, plus the loader. */
export interface DistillEpochOptions extends Omit<DistillStepOptions, "x" | "labels" | "teacherLogits"> {
  /** Batches with integer labels (`y` an Int32Array or a 1-D tensor). */
  loader: DataLoader;
  /** Teacher logits for every sample of `loader.x` (`[N, C]`), indexed by each batch's `indices`; replaces `teacher`. */
  teacherCache?: Tensor;
  /** Epoch number reported to the callbacks (default 1). */
  epoch?: number;
  /** Called after every step (e.g. to draw a progress bar). */
  onStep?: (p: DistillProgress) => void;
  /** Called after every optimizer step, e.g. `() => scheduler.step()`. */
  afterStep?: (r: DistillStepResult) => void;
}

/** Options of {@link trainDistilled}. */
export interface TrainDistilledOptions extends Omit<DistillEpochOptions, "epoch" | "teacherCache"> {
  /** Number of epochs (positive integer). */
  epochs: number;
  /** Compute the teacher's logits once over `loader.x` and reuse them every epoch (default true). */
  cacheTeacher?: boolean;
  /** Called at the end of every epoch; its number becomes the report's `metric`. */
  evaluate?: (epoch: number) => number;
  /** Called with every epoch's report. */
  onEpoch?: (r: DistillEpochReport) => void;
}

/** The integer labels of a batch. */
function batchLabels(b: Batch, op: string): Int32Array | Tensor {
  if (b.y instanceof Int32Array || (b.y instanceof Tensor && b.y.ndim === 1)) return b.y;
  throw new TypeError(`${op}: the loader must yield integer class labels (an Int32Array or a 1-D tensor), got ${b.y === null ? "no labels" : `a tensor of shape ${JSON.stringify(b.y.shape)}`}`);
}

/**
 * One pass over `loader`: a {@link distillStep} per batch (teacher logits from `teacherCache`
 * rows when given, else from `teacher`), with `onStep` progress and `afterStep` (e.g. an LR
 * scheduler). Returns the epoch's sample-weighted mean loss parts and training accuracy.
 *
 * @throws {TypeError} for a missing loader, a loader without integer labels, both or neither of
 * `teacher` and `teacherCache`, or a `teacherCache` whose rows are not the loader's samples;
 * everything {@link distillStep} throws.
 * @example
 * ```ts
 * const r = distillEpoch({ student, teacher, optimizer: opt, loader, temperature: 4, alpha: 0.9,
 *   onStep: (p) => bar.update(p.step, `loss ${p.loss.toFixed(4)}`) });
 * ```
 */
export function distillEpoch(o: DistillEpochOptions): DistillEpochReport {
  const op = "distillEpoch";
  if (o === null || typeof o !== "object" || o.loader === null || typeof o.loader !== "object" || typeof o.loader[Symbol.iterator] !== "function") {
    throw new TypeError(`${op}: options need a loader (a DataLoader)`);
  }
  const cache = o.teacherCache;
  if ((cache === undefined) === (o.teacher === undefined)) throw new TypeError(`${op}: give exactly one of teacher and teacherCache (got ${cache === undefined ? "neither" : "both"})`);
  if (cache !== undefined && (!(cache instanceof Tensor) || cache.ndim !== 2 || cache.shape[0] !== o.loader.size)) {
    throw new TypeError(`${op}: teacherCache must be [N, C] with N = ${o.loader.size} (the loader's samples), got ${cache instanceof Tensor ? JSON.stringify(cache.shape) : typeof cache}`);
  }
  const epoch = o.epoch ?? 1;
  const stepsPerEpoch = o.loader.length;
  const t0 = performance.now();
  let loss = 0, kd = 0, ce = 0, correct = 0, seen = 0, steps = 0, skipped = 0;
  const { loader: _l, teacherCache: _c, onStep: _s, afterStep: _a, epoch: _e, ...stepOpts } = o;
  for (const b of o.loader) {
    const labels = batchLabels(b, op);
    const r = cache !== undefined
      ? distillStep({ ...stepOpts, teacher: undefined, x: b.x, labels, teacherLogits: indexSelect(cache, 0, b.indices) })
      : distillStep({ ...stepOpts, x: b.x, labels });
    const n = r.batchSize;
    loss += r.loss * n;
    kd += r.kdLoss * n;
    ce += r.ceLoss * n;
    correct += r.correct;
    seen += n;
    steps++;
    if (!r.stepped) skipped++;
    o.afterStep?.(r);
    if (o.onStep) {
      const sec = (performance.now() - t0) / 1000;
      o.onStep({ epoch, step: steps, stepsPerEpoch, loss: loss / seen, kdLoss: kd / seen, ceLoss: ce / seen, accuracy: correct / seen, samplesPerSecond: sec > 0 ? seen / sec : 0, last: r });
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const d = Math.max(seen, 1);
  return { epoch, steps, skippedSteps: skipped, loss: loss / d, kdLoss: kd / d, ceLoss: ce / d, accuracy: correct / d, seconds, samplesPerSecond: seconds > 0 ? seen / seconds : 0 };
}

/**
 * Trains `student` from `teacher` for `epochs` passes over `loader` with the distillation loss
 * (`alpha · T² · KL + (1 − alpha) · CE`): the student is put in training mode (its previous mode
 * is restored at the end); the teacher runs in eval mode under `noGrad` — by default once over
 * `loader.x` before the first epoch (`cacheTeacher`), which gives the per-batch logits since an
 * eval-mode teacher is deterministic (up to the last bit: the GEMM kernels may round a row
 * differently for another batch size). Works with any `@tapegrad/optim` optimizer (its
 * clip chain, non-finite policy and hooks) and extra `clip` transforms; `afterStep` can drive an
 * LR scheduler; `evaluate(epoch)` adds a metric (e.g. test accuracy) to each epoch's report.
 *
 * @throws {RangeError} for `epochs` that is not a positive integer; {TypeError} for a missing
 * teacher or loader; everything {@link distillEpoch} throws.
 * @example
 * ```ts
 * const opt = new Adam(student.parameters(), { lr: 1e-3, clip: clipGradNorm.transform(1) });
 * const sched = new LRScheduler(opt, cosineAnnealingLr({ tMax: 5 * loader.length }));
 * const reports = trainDistilled({
 *   student, teacher, optimizer: opt, loader, epochs: 5, temperature: 4, alpha: 0.9,
 *   afterStep: () => sched.step(), evaluate: () => accuracy(student, test),
 *   onStep: (p) => bar.update(p.step, `kd ${p.kdLoss.toFixed(3)}`),
 * });
 * ```
 */
export function trainDistilled(o: TrainDistilledOptions): DistillEpochReport[] {
  const op = "trainDistilled";
  if (o === null || typeof o !== "object") throw new TypeError(`${op}: options must be an object (got ${o === null ? "null" : typeof o})`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new RangeError(`${op}: epochs must be a positive integer (got ${o.epochs})`);
  if (o.teacher === undefined || o.teacher === null) throw new TypeError(`${op}: a teacher is required`);
  if (o.loader === null || typeof o.loader !== "object" || !(o.loader.x instanceof Tensor)) throw new TypeError(`${op}: options need a loader (a DataLoader)`);
  const { epochs, cacheTeacher, evaluate, onEpoch, teacher, ...rest } = o;
  const cache = cacheTeacher === false ? undefined : precomputeTeacherLogits(teacher, o.loader.x);
  const student = o.student;
  const wasTraining = student.training;
  if (typeof student.train === "function") student.train(true);
  const reports: DistillEpochReport[] = [];
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const r = cache !== undefined ? distillEpoch({ ...rest, teacherCache: cache, epoch }) : distillEpoch({ ...rest, teacher, epoch });
      if (evaluate) r.metric = evaluate(epoch);
      if (typeof student.train === "function") student.train(true); // evaluate may have switched it
      reports.push(r);
      onEpoch?.(r);
    }
  } finally {
    if (typeof student.train === "function" && wasTraining !== undefined) student.train(wasTraining);
  }
  return reports;
}
