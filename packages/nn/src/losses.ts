/**
 * @file Loss functions: the autograd losses re-exported for convenience, plus knowledge
 * distillation (Hinton, Vinyals & Dean 2015).
 */
import * as A from "@tapegrad/autograd";
import { Var, type VarLike } from "@tapegrad/autograd";
import { ShapeError, shapesEqual, type Indices } from "@tapegrad/tensor";

export { crossEntropy, nllLoss, bceWithLogits, klDiv, mseLoss, l1Loss, huberLoss, type Reduction, type KLReduction, type CrossEntropyOptions } from "@tapegrad/autograd";

/** Options of {@link distillationLoss}. */
export interface DistillationOptions {
  /** Softmax temperature T (> 0). Default 2. */
  temperature?: number;
  /** Weight of the soft (distillation) term; the hard cross-entropy gets `1 − alpha`. Default 0.5. */
  alpha?: number;
}

/**
 * Knowledge-distillation loss:
 * `alpha · T² · KL(softmax(teacher/T) ‖ softmax(student/T))` with `"batchmean"` (the true KL per
 * sample, as `F.kl_div(log_softmax(s/T), softmax(t/T), reduction="batchmean") * T*T`) plus
 * `(1 − alpha) · crossEntropy(student, labels)`. The `T²` keeps the soft term's gradients on the
 * scale of the hard term's. The teacher is detached (no gradient flows into it).
 *
 * @throws {RangeError} for a non-positive temperature or `alpha` outside [0, 1];
 * {ShapeError} when the logits' shapes differ.
 * @example
 * ```ts
 * const loss = distillationLoss(student.forward(x), teacherLogits, labels, { temperature: 4, alpha: 0.7 });
 * ```
 */
export function distillationLoss(studentLogits: VarLike, teacherLogits: VarLike, labels: Indices, opts: DistillationOptions = {}): Var {
  const T = opts.temperature ?? 2;
  const alpha = opts.alpha ?? 0.5;
  if (!(T > 0) || !Number.isFinite(T)) throw new RangeError(`distillationLoss: temperature must be a positive number (got ${T})`);
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`distillationLoss: alpha must be in [0, 1] (got ${alpha})`);
  const s = A.toVar(studentLogits, "distillationLoss");
  const t = teacherLogits instanceof Var ? teacherLogits.detach() : A.toVar(teacherLogits, "distillationLoss");
  if (!shapesEqual(s.shape, t.shape)) throw new ShapeError("distillationLoss", "student and teacher logits must have the same shape", [s.shape, t.shape]);
  const soft = A.mul(A.klDiv(A.logSoftmax(A.div(s, T), -1), A.softmax(A.div(t, T), -1), { reduction: "batchmean" }), T * T);
  if (alpha === 1) return soft;
  const hard = A.crossEntropy(s, labels);
  return alpha === 0 ? hard : A.add(A.mul(soft, alpha), A.mul(hard, 1 - alpha));
}
