/**
 * @file Golden handler for `compress/prune.json` (see `../shared/golden/compress/README.md`).
 */
import type { CaseResult, GoldenFile } from "../schema.js";

/** Runs every case of `compress/prune.json`. */
export function runPruneFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => ({ name: c.name, status: "failed" as const, message: "not implemented yet" }));
}
