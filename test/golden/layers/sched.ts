/**
 * @file Golden handler for `layers/sched.json` (see `../shared/golden/layers/README.md`).
 */
import type { CaseResult, GoldenFile } from "../schema.js";

/** Runs every case of `layers/sched.json`. */
export function runSchedFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => ({ name: c.name, status: "failed" as const, message: "not implemented yet" }));
}
