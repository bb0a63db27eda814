/**
 * @file Golden handler for `compress/quant.json` (see `../shared/golden/compress/README.md`).
 */
import type { CaseResult, GoldenFile } from "../schema.js";

/** Runs every case of `compress/quant.json`. */
export function runQuantFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) => ({ name: c.name, status: "failed" as const, message: "not implemented yet" }));
}
