/**
 * @file `layers/nn_ops.json`: the normalisation ops (batch_norm with its running statistics,
 * group_norm, instance_norm).
 */
import type { CaseResult, GoldenCase } from "../schema.js";

/** Runners of the normalisation cases, by op name. */
export const NORM_OPS: Record<string, (c: GoldenCase) => CaseResult> = {};
