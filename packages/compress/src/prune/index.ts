/**
 * @file The prune part of @tapegrad/compress: `torch.nn.utils.prune` on modules (masks as
 * parametrizations of `@tapegrad/nn`), the pure mask functions on typed arrays they use, a
 * sparsity report and the cubic sparsity schedule. See README.md in this folder.
 */
export { type PruneAmount, roundHalfEven, pyFloat, validateAmount, unitsToPrune } from "./amount.js";
export { selectSmallest } from "./select.js";
export { type UnstructuredMethod, candidateIndices, l1UnstructuredMask, randomUnstructuredMask, globalUnstructuredMasks, customMask, countZeros } from "./unstructured.js";
export { normalizeDim, channelNorms, lnStructuredMask } from "./structured.js";
export {
  PRUNE_KIND,
  type PruneOptions,
  type GlobalPruneOptions,
  type PruneTarget,
  l1Unstructured,
  randomUnstructured,
  lnStructured,
  globalUnstructured,
  customFromMask,
  identity,
  remove,
  isPruned,
  pruneMask,
  prunedNames,
} from "./prune.js";
export { type ParameterSparsity, type SparsityReport, sparsityReport } from "./report.js";
export { type CubicScheduleOptions, CubicSparsitySchedule, cubicSparsity } from "./schedule.js";
