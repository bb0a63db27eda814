/**
 * @file One knowledge-distillation training step: the teacher's logits (eval mode, `noGrad`, or
 * given), the student's forward, the distillation loss split into its parts, backward, optional
 * extra gradient transforms, and the optimizer's step (which runs its own clip chain).
 */
import { Var } from "@tapegrad/autograd";
import { ShapeError, Tensor, type Indices } from "@tapegrad/tensor";
import { applyTransform, type GradTransform, type Optimizer, type StepStats } from "@tapegrad/optim";
import { distillationLossParts, type DistillLossOptions } from "./loss.js";
import { teacherLogits, type TeacherModel } from "./teacher.js";

/** What a student must offer: a differentiable `forward` to logits `[N, C]` (e.g. an nn `Module`). */
export interface StudentModel {
  forward(x: Tensor): Var;
  training?: boolean;
  train?(mode?: boolean): unknown;
}

/** Options of {@link distillStep}. */
export interface DistillStepOptions extends DistillLossOptions {
  /** The model being trained; its parameters must be the optimizer's. */
  student: StudentModel;
  /** The teacher, run per step in eval mode under `noGrad`. Give this or `teacherLogits`. */
  teacher?: TeacherModel;
  /** Precomputed teacher logits `[N, C]` for this batch (e.g. rows of `precomputeTeacherLogits`). */
  teacherLogits?: Tensor | Var;
  /** Any `@tapegrad/optim` optimizer over the student's parameters (its `clip` transforms run in `step()`). */
  optimizer: Optimizer<any>;
  /** The input batch `[N, ...]`. */
  x: Tensor;
  /** Integer class labels, N of them. */
  labels: Indices;
  /**
   * Extra gradient transforms (e.g. `clipGradNorm.transform(1)`, an `AutoClip`) applied in order to
   * the optimizer's parameters after backward and before `optimizer.step()`; a transform that
   * asks to skip skips the update. Prefer the optimizer's own `clip` option (it records telemetry).
   */
  clip?: GradTransform | readonly GradTransform[];
}

/** What {@link distillStep} returns: the loss parts (before the update) and the batch accuracy. */
export interface DistillStepResult {
  /** `alpha · kdLoss + (1 − alpha) · ceLoss`: the loss that was backpropagated. */
  loss: number;
  /** The soft term `T² · KL(teacher ‖ student)` (batchmean). */
  kdLoss: number;
  /** The hard term: cross-entropy with the labels. */
  ceLoss: number;
  /** Samples whose student argmax equals the label. */
  correct: number;
  batchSize: number;
  /** False when an extra `clip` transform asked to skip the update (the optimizer did not step). */
  stepped: boolean;
  /** The optimizer's `lastStats` after the step (clipping telemetry), null if it never stepped. */
  stats: StepStats | null;
}

/** Labels as numbers (for the accuracy count). */
function labelValues(labels: Indices): ArrayLike<number> {
  return labels instanceof Tensor ? labels.toFloat32Array() : (labels as ArrayLike<number>);
}

/**
 * Rows of `logits` `[N, C]` whose first maximum is at the label.
 *
 * @throws Never throws (labels were validated by the loss).
 * @example
 * ```ts
 * countCorrect(tensor([[0.1, 2], [3, 1]]), [1, 1]); // 1
 * ```
 */
export function countCorrect(logits: Tensor, labels: Indices): number {
  if (!(logits instanceof Tensor)) throw new TypeError(`countCorrect: logits must be a Tensor (got ${logits === null ? "null" : typeof logits})`);
  if (logits.ndim !== 2) throw new ShapeError("countCorrect", "logits must be [N, C]", [logits.shape]);
  const [n, c] = logits.shape as [number, number];
  const d = logits.toFloat32Array();
  const y = labelValues(labels);
  if (y === null || y === undefined || y.length !== n) throw new ShapeError("countCorrect", `expected ${n} labels (got ${y?.length ?? String(y)})`, [logits.shape]);
  let correct = 0;
  for (let i = 0, row = 0; i < n; i++, row += c) {
    let best = 0;
    for (let k = 1; k < c; k++) if (d[row + k]! > d[row + best]!) best = k;
    if (best === y[i]) correct++;
  }
  return correct;
}

/**
 * One distillation step for a batch: teacher logits (the `teacher` in eval mode under `noGrad`,
 * or the given `teacherLogits`), `optimizer.zeroGrad()`, the student's forward,
 * {@link distillationLossParts} (nn's `distillationLoss`: `alpha · T² · KL + (1 − alpha) · CE`),
 * backward — only the student's parameters get gradients, the teacher is never on the tape —
 * the extra `clip` transforms if any, and `optimizer.step()` (which applies the optimizer's own
 * clip chain, non-finite policy, schedules and hooks). The student's train/eval mode is left as is.
 *
 * @throws {TypeError} for a missing student/optimizer, both or neither of `teacher` and
 * `teacherLogits`, or a student forward that does not return a `Var`; {RangeError} for a bad
 * temperature, alpha or label; {ShapeError} when student and teacher logits differ in shape;
 * whatever the models, transforms and `optimizer.step()` throw. Messages name `distillStep` or
 * the function that rejected the value.
 * @example
 * ```ts
 * const opt = new Adam(student.parameters(), { lr: 1e-3, clip: clipGradNorm.transform(1) });
 * for (const b of loader) {
 *   const r = distillStep({ student, teacher, optimizer: opt, x: b.x, labels: b.y as Int32Array, temperature: 4, alpha: 0.9 });
 *   console.log(r.loss, r.kdLoss, r.ceLoss, r.stats?.preClipNorm);
 * }
 * ```
 */
export function distillStep(o: DistillStepOptions): DistillStepResult {
  if (o === null || typeof o !== "object") throw new TypeError(`distillStep: options must be an object (got ${o === null ? "null" : typeof o})`);
  if (o.student === null || typeof o.student !== "object" || typeof o.student.forward !== "function") throw new TypeError("distillStep: student must be a model with a forward(x) method");
  const opt = o.optimizer;
  if (opt === null || typeof opt !== "object" || typeof opt.step !== "function" || typeof opt.zeroGrad !== "function") throw new TypeError("distillStep: optimizer must be an @tapegrad/optim optimizer");
  if ((o.teacher === undefined) === (o.teacherLogits === undefined)) {
    throw new TypeError(`distillStep: give exactly one of teacher and teacherLogits (got ${o.teacher === undefined ? "neither" : "both"})`);
  }
  if (!(o.x instanceof Tensor)) throw new TypeError(`distillStep: x must be a Tensor (got ${o.x === null ? "null" : typeof o.x})`);
  const t = o.teacherLogits !== undefined ? (o.teacherLogits instanceof Var ? o.teacherLogits.value : o.teacherLogits) : teacherLogits(o.teacher!, o.x);
  opt.zeroGrad();
  const logits = o.student.forward(o.x);
  if (!(logits instanceof Var)) throw new TypeError(`distillStep: the student's forward must return a Var (got ${logits === null ? "null" : typeof logits})`);
  const parts = distillationLossParts(logits, t, o.labels, o);
  parts.loss.backward();
  let stepped = true;
  if (o.clip !== undefined) {
    const list: readonly GradTransform[] = Array.isArray(o.clip) ? o.clip : [o.clip as GradTransform];
    const params = opt.flatParams();
    for (const tr of list) {
      if (applyTransform(tr, params, opt.stepCount + 1).skipped) {
        stepped = false;
        break;
      }
    }
  }
  if (stepped) opt.step();
  return {
    loss: parts.loss.item(), kdLoss: parts.kd.item(), ceLoss: parts.ce.item(),
    correct: countCorrect(logits.value, o.labels), batchSize: logits.shape[0]!, stepped, stats: opt.lastStats,
  };
}
