/**
 * @file Golden handler for `layers/nn_ops.json` (see `../shared/golden/layers/README.md`): each
 * case goes to the runner of its op (conv/pool ops in `nn_ops_conv.ts`, normalisation in
 * `nn_ops_norm.ts`); an op without a runner fails, except `optional` ones, which are skipped.
 */
import type { CaseResult, GoldenCase, GoldenFile, Tolerance } from "../schema.js";
import { CONV_OPS } from "./nn_ops_conv.js";
import { NORM_OPS } from "./nn_ops_norm.js";

/** Runs every case of `layers/nn_ops.json`. */
export function runNnOpsFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c): CaseResult => {
    const run = CONV_OPS[String(c.op)] ?? NORM_OPS[String(c.op)];
    if (run) {
      try {
        return (run as (c: GoldenCase, tol: Tolerance) => CaseResult)(c, file.tolerance); // norm runners take the file tolerance
      } catch (e) {
        return { name: c.name, status: "failed", message: `threw: ${(e as Error).message}` };
      }
    }
    return c.optional === true ? { name: c.name, status: "skipped", message: `optional op ${String(c.op)} not implemented` } : { name: c.name, status: "failed", message: `no runner for op ${String(c.op)}` };
  });
}
