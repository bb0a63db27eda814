/**
 * @file The distillation loss split into its parts — the soft term `kd` (`T² · KL` with batchmean
 * reduction), the hard term `ce` (cross-entropy at temperature 1) and their mix — each computed by
 * `@tapegrad/nn`'s `distillationLoss`, so the training loss is exactly that function's.
 */
import * as A from "@tapegrad/autograd";
import { Var, type VarLike } from "@tapegrad/autograd";
import { ShapeError, type Indices } from "@tapegrad/tensor";
import { distillationLoss } from "@tapegrad/nn";

/** Temperature and soft-term weight of a distillation loss. */
export interface DistillLossOptions {
  /** Softmax temperature T > 0 (default 2, as `distillationLoss`). */
  temperature?: number;
  /** Weight of the soft term in [0, 1]; the hard term gets `1 − alpha` (default 0.5). */
  alpha?: number;
}

/** The three parts of a distillation loss (scalars on the tape; the teacher is detached). */
export interface DistillLossParts {
  /** `alpha · kd + (1 − alpha) · ce` — `alpha` 1 / 0 give exactly `kd` / `ce` (the same Var). */
  loss: Var;
  /** `T² · KL(softmax(teacher/T) ‖ softmax(student/T))`, batchmean. */
  kd: Var;
  /** `crossEntropy(student, labels)`, mean over the batch. */
  ce: Var;
}

/**
 * The distillation loss and its soft and hard parts, each through nn's `distillationLoss`
 * (`alpha` 1 gives the soft term, 0 the hard term; their mix is `distillationLoss` with `alpha`).
 * Backpropagate `loss`: only the student logits get a gradient,
 * `alpha·T/N · (softmax(s/T) − softmax(t/T)) + (1−alpha)/N · (softmax(s) − onehot(y))`.
 *
 * @throws {RangeError} for a temperature that is not finite and > 0, `alpha` outside [0, 1], or a
 * label outside `[0, C)`; {ShapeError} when the logits are not both `[N, C]` of the same shape or
 * the labels are not N. Messages name `distillationLossParts` or `distillationLoss`.
 * @example
 * ```ts
 * const { loss, kd, ce } = distillationLossParts(student.forward(x), teacherLogits, labels, { temperature: 4, alpha: 0.9 });
 * loss.backward();
 * console.log(kd.item(), ce.item());
 * ```
 */
export function distillationLossParts(studentLogits: VarLike, teacherLogits: VarLike, labels: Indices, opts: DistillLossOptions = {}): DistillLossParts {
  const temperature = opts.temperature ?? 2;
  const alpha = opts.alpha ?? 0.5;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new RangeError(`distillationLossParts: temperature must be finite and > 0 (got ${temperature})`);
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`distillationLossParts: alpha must be in [0, 1] (got ${alpha})`);
  const s = A.toVar(studentLogits, "distillationLossParts");
  const t = teacherLogits instanceof Var ? teacherLogits.detach() : A.toVar(teacherLogits, "distillationLossParts");
  if (s.ndim !== 2 || t.ndim !== 2 || s.shape[0] !== t.shape[0] || s.shape[1] !== t.shape[1]) {
    throw new ShapeError("distillationLossParts", "student and teacher logits must both be [N, C] of the same shape", [s.shape, t.shape]);
  }
  const kd = distillationLoss(s, t, labels, { temperature, alpha: 1 });
  const ce = distillationLoss(s, t, labels, { temperature, alpha: 0 });
  const loss = alpha === 1 ? kd : alpha === 0 ? ce : A.add(A.mul(kd, alpha), A.mul(ce, 1 - alpha));
  return { loss, kd, ce };
}
