/**
 * @file Golden handler for `layers/optim2.json` (see `../shared/golden/layers/README.md`).
 */
import type { CaseResult, GoldenFile } from "../schema.js";

/** Runs every case of `layers/optim2.json`. */
export function runOptim2File(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => ({ name: c.name, status: "failed" as const, message: "not implemented yet" }));
}
