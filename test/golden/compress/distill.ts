/**
 * @file Golden handler for `compress/distill.json` (see `../shared/golden/compress/README.md`).
 */
import type { CaseResult, GoldenFile } from "../schema.js";

/** Runs every case of `compress/distill.json`. */
export function runDistillFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => ({ name: c.name, status: "failed" as const, message: "not implemented yet" }));
}
