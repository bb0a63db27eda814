/** @file The distill part of @tapegrad/compress (exports): the loss split into its parts, the teacher's logits, and the training helpers. */
export { distillationLossParts, type DistillLossOptions, type DistillLossParts } from "./loss.js";
export { teacherLogits, precomputeTeacherLogits, type TeacherModel } from "./teacher.js";
export { distillStep, countCorrect, type StudentModel, type DistillStepOptions, type DistillStepResult } from "./step.js";
export { distillEpoch, trainDistilled, type DistillProgress, type DistillEpochReport, type DistillEpochOptions, type TrainDistilledOptions } from "./train.js";
