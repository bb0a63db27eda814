/**
 * @file Golden handler for `layers/optim2.json` (see `../shared/golden/layers/README.md`): builds
 * the case's optimizer (Adagrad, Adadelta, Adamax, NAdam, RAdam, Lion) by name with its
 * hyper-parameters (snake_case → camelCase), assigns each step's gradients, steps, and checks the
 * parameters and the optimizer state (through `stateDict()`, so what is saved is what is checked)
 * after every step. Buffers compare as tensors of the reference's shape, `step` exactly, and a
 * 0-d reference tensor (NAdam's `mu_product`) against the state's number. An unknown optimizer,
 * hyper-parameter or state key fails the case, and so does a state key the reference lacks.
 */
import { Adadelta, Adagrad, Adamax, Lion, NAdam, RAdam } from "@tapegrad/optim";
import { runOptimizerFile, type OptimizerFactory } from "../optim.js";
import type { CaseResult, GoldenFile } from "../schema.js";

/** Golden optimizer name → constructor. */
const optimizers: Record<string, OptimizerFactory> = {
  Adagrad: (p, h) => new Adagrad(p, h),
  Adadelta: (p, h) => new Adadelta(p, h),
  Adamax: (p, h) => new Adamax(p, h),
  NAdam: (p, h) => new NAdam(p, h),
  RAdam: (p, h) => new RAdam(p, h),
  Lion: (p, h) => new Lion(p, h),
};

/** Runs every case of `layers/optim2.json` (the trajectory runner of `../optim.ts`). */
export function runOptim2File(file: GoldenFile): CaseResult[] {
  return runOptimizerFile(file, optimizers);
}
