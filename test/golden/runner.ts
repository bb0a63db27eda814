/**
 * @file The data-driven golden runner: every case of every file in a directory, dispatched to
 * the handler for that file name. A file or case the engine cannot handle is a failure, never a
 * silent skip; only cases marked `optional` may be reported as skipped.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { CaseResult, GoldenFile } from "./schema.js";
import { runOpsFile } from "./ops.js";
import { runClipFile } from "./clip.js";
import { runOptimFile } from "./optim.js";
import { runSeedLinregFile } from "./seed_linreg.js";
import { runMlpStepFile } from "./mlp_step.js";
import { runRnnExplodeFile } from "./rnn_explode.js";

/** Runs every case of one parsed golden file. */
export type FileHandler = (file: GoldenFile) => CaseResult[];

/** Handlers by file name; files without a handler fail every case. */
export const handlers: Record<string, FileHandler> = {
  "ops.json": runOpsFile,
  "clip.json": runClipFile,
  "optim.json": runOptimFile,
  "seed_linreg.json": runSeedLinregFile,
  "mlp_step.json": runMlpStepFile,
  "rnn_explode.json": runRnnExplodeFile,
};

/** Results for one file. */
export interface FileReport {
  file: string;
  results: CaseResult[];
  passed: number;
  failed: number;
  skipped: number;
  total: number;
}

export { goldenDir } from "./dir.js";
import { goldenDir } from "./dir.js";

/** Runs one file by path. */
export function runGoldenFile(path: string): FileReport {
  const name = path.split(/[\\/]/).pop()!;
  const file = JSON.parse(readFileSync(path, "utf8")) as GoldenFile;
  const cases = Array.isArray(file.cases) ? file.cases : [];
  const handler = handlers[name] ?? (file.file ? handlers[file.file] : undefined);
  let results: CaseResult[];
  if (!handler) {
    results = cases.map((c) => ({ name: c.name, status: "failed" as const, message: `no handler for golden file ${name}` }));
  } else {
    try {
      results = handler(file);
    } catch (e) {
      results = cases.map((c) => ({ name: c.name, status: "failed" as const, message: `handler threw: ${(e as Error).message}` }));
    }
  }
  const count = (s: CaseResult["status"]) => results.filter((r) => r.status === s).length;
  return { file: name, results, passed: count("passed"), failed: count("failed"), skipped: count("skipped"), total: results.length };
}

/** Runs every `*.json` golden file in `dir` (sorted by name). */
export function runGoldenDir(dir = goldenDir()): FileReport[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  return files.map((f) => runGoldenFile(join(dir, f)));
}
