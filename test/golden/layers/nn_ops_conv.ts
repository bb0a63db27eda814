/**
 * @file `layers/nn_ops.json`: the convolution, pooling and flatten ops (conv1d, conv2d,
 * conv_transpose2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, flatten).
 */
import type { CaseResult, GoldenCase } from "../schema.js";

/** Runners of the conv/pool/flatten cases, by op name. */
export const CONV_OPS: Record<string, (c: GoldenCase) => CaseResult> = {};
