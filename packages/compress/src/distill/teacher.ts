/**
 * @file Running the teacher: in eval mode (dropout off) and under `noGrad` (no tape), restoring
 * its previous mode afterwards; per batch, or once over a whole dataset so that every epoch reuses
 * the same logits (what per-batch calls give, since an eval-mode teacher is deterministic — up to
 * the last bit of the backend's GEMM, whose rounding may depend on the batch size).
 */
import { Var, noGrad } from "@tapegrad/autograd";
import { Tensor, indexSelect } from "@tapegrad/tensor";

/**
 * What a teacher must offer: a `forward` from a batch to logits `[N, C]` (a `Var` or a `Tensor`,
 * e.g. an nn `Module`, or an int8 quantized model), and optionally the nn `training` flag and
 * `train(mode)` so it can be put in eval mode.
 */
export interface TeacherModel {
  forward(x: Tensor): Var | Tensor;
  training?: boolean;
  train?(mode?: boolean): unknown;
}

/**
 * The teacher's logits for one batch: the teacher runs in eval mode (its previous mode is
 * restored afterwards) under `noGrad`, so no graph is recorded and nothing can flow back into it.
 *
 * @throws {TypeError} when `teacher` has no `forward`, or its output is not a 2-D `[N, C]`
 * tensor/Var with one row per sample of `x`; whatever the teacher's forward throws.
 * @example
 * ```ts
 * const t = teacherLogits(teacher, batch.x); // Tensor [B, 10], no tape
 * ```
 */
export function teacherLogits(teacher: TeacherModel, x: Tensor | Var): Tensor {
  if (teacher === null || typeof teacher !== "object" || typeof teacher.forward !== "function") {
    throw new TypeError(`teacherLogits: the teacher needs a forward(x) method (got ${teacher === null ? "null" : typeof teacher})`);
  }
  if (!(x instanceof Var) && !(x instanceof Tensor)) throw new TypeError(`teacherLogits: x must be a Tensor or a Var (got ${x === null ? "null" : typeof x})`);
  const input = x instanceof Var ? x.value : x;
  const prev = teacher.training;
  const switchMode = typeof teacher.train === "function" && prev !== undefined;
  if (switchMode) teacher.train!(false);
  try {
    const out = noGrad(() => teacher.forward(input));
    const t = out instanceof Var ? out.value : out;
    if (!(t instanceof Tensor) || t.ndim !== 2 || t.shape[0] !== input.shape[0]) {
      const got = t instanceof Tensor ? `shape ${JSON.stringify(t.shape)}` : typeof t;
      throw new TypeError(`teacherLogits: the teacher must return logits [N, C] with N = ${input.shape[0]} (got ${got})`);
    }
    return t;
  } finally {
    if (switchMode) teacher.train!(prev);
  }
}

/**
 * The teacher's logits for every sample of `x` (first axis = samples), computed in chunks of
 * `batchSize` as {@link teacherLogits} does: a `[N, C]` tensor to index with a loader batch's
 * `indices` (`indexSelect(cache, 0, batch.indices)`).
 *
 * @throws {RangeError} for a `batchSize` that is not a positive integer; {TypeError} as
 * {@link teacherLogits}, or when chunks disagree on the number of classes.
 * @example
 * ```ts
 * const cache = precomputeTeacherLogits(teacher, trainX); // [60000, 10]
 * for (const b of loader) distillStep({ ..., x: b.x, teacherLogits: indexSelect(cache, 0, b.indices) });
 * ```
 */
export function precomputeTeacherLogits(teacher: TeacherModel, x: Tensor, batchSize = 1000): Tensor {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`precomputeTeacherLogits: batchSize must be a positive integer (got ${batchSize})`);
  if (!(x instanceof Tensor) || x.ndim === 0) throw new TypeError(`precomputeTeacherLogits: x must be a tensor with a sample axis (got ${x instanceof Tensor ? "a 0-d tensor" : typeof x})`);
  const n = x.shape[0]!;
  let out: Float32Array | null = null;
  let classes = 0;
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    const idx = new Int32Array(m);
    for (let i = 0; i < m; i++) idx[i] = start + i;
    const logits = teacherLogits(teacher, indexSelect(x, 0, idx));
    if (out === null) {
      classes = logits.shape[1]!;
      out = new Float32Array(n * classes);
    } else if (logits.shape[1] !== classes) {
      throw new TypeError(`precomputeTeacherLogits: the teacher returned ${logits.shape[1]} classes for samples ${start}.., ${classes} before`);
    }
    out.set(logits.toFloat32Array(), start * classes);
  }
  return new Tensor(out ?? new Float32Array(0), [n, classes]);
}
