/**
 * @file Golden handler for `compress/distill.json` (see `../shared/golden/compress/README.md`):
 * every case through `@tapegrad/nn`'s `distillationLoss` and autograd — `loss` (with the case's
 * `alpha`), `kd_loss` (`alpha` 1), `ce_loss` (`alpha` 0) and `grad_student` (backward of `loss`
 * into the student logits) against `expected.float64.*` with the file's tolerance; the teacher
 * logits must receive no gradient. `@tapegrad/compress`'s `distillationLossParts` must give the
 * same three values (it is what the training helper uses).
 */
import { Tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { distillationLoss } from "@tapegrad/nn";
import { distillationLossParts } from "@tapegrad/compress";
import { Checks, compareNumber, compareTensor, f32, num, runCase, toIndices, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "../schema.js";

interface DistillCase {
  name: string;
  attrs: { temperature: number; alpha: number };
  inputs: { student_logits: GTensor; teacher_logits: GTensor; labels: GTensor };
  expected: { float64: { loss: number | string; kd_loss: number | string; ce_loss: number | string; grad_student: GTensor } };
}

function runDistillCase(c: DistillCase, tol: Tolerance): CaseResult {
  const { temperature, alpha } = c.attrs;
  if (typeof temperature !== "number" || typeof alpha !== "number") throw new Error(`attrs must give numeric temperature and alpha (got ${JSON.stringify(c.attrs)})`);
  const e = c.expected.float64;
  const { student_logits: sl, teacher_logits: tl } = c.inputs;
  const labels = toIndices(c.inputs.labels);
  const checks = new Checks();
  const student = A.variable(new Tensor(f32(sl), sl.shape), { name: "student_logits" });
  const teacher = A.variable(new Tensor(f32(tl), tl.shape), { name: "teacher_logits" });
  const loss = distillationLoss(student, teacher, labels, { temperature, alpha });
  checks.add(compareNumber("loss", loss.item(), e.loss, tol));
  checks.add(compareNumber("kd_loss", distillationLoss(student, teacher, labels, { temperature, alpha: 1 }).item(), e.kd_loss, tol));
  checks.add(compareNumber("ce_loss", distillationLoss(student, teacher, labels, { temperature, alpha: 0 }).item(), e.ce_loss, tol));
  loss.backward();
  if (student.grad === null) checks.add("grad_student: no gradient reached the student logits");
  else checks.add(compareTensor("grad_student", student.grad, e.grad_student, tol));
  if (teacher.grad !== null) checks.add(`teacher_logits: got a gradient (${Array.from(teacher.grad.toFloat32Array()).slice(0, 4).join(", ")}, ...), the teacher must be detached`);
  // The compress helper's split must be the same numbers.
  const parts = A.noGrad(() => distillationLossParts(student.value, teacher.value, labels, { temperature, alpha }));
  checks.add(compareNumber("distillationLossParts.loss", parts.loss.item(), e.loss, tol));
  checks.add(compareNumber("distillationLossParts.kd", parts.kd.item(), e.kd_loss, tol));
  checks.add(compareNumber("distillationLossParts.ce", parts.ce.item(), e.ce_loss, tol));
  // Sanity of the golden numbers themselves (README: loss = alpha·kd + (1 − alpha)·ce).
  const mixed = alpha * num(e.kd_loss) + (1 - alpha) * num(e.ce_loss);
  checks.add(compareNumber("expected loss vs alpha·kd + (1−alpha)·ce", mixed, e.loss, { rtol: 1e-9, atol: 1e-12 }));
  return checks.result(c.name);
}

/** Runs every case of `compress/distill.json`. */
export function runDistillFile(file: GoldenFile): CaseResult[] {
  const tol = file.tolerance;
  return file.cases.map((c) => runCase(c.name, () => runDistillCase(c as unknown as DistillCase, tol)));
}
