/**
 * @file The data-driven golden runner: every case of every `*.json` file under a directory
 * (subfolders included), dispatched to the handler for that file's path relative to the
 * directory (`ops.json`, `compress/prune.json`, …). A file or case the engine cannot handle is a
 * failure, never a silent skip; only cases marked `optional` may be reported as skipped. The one
 * exception is a subfolder listed in {@link PENDING}: the reference files of an open issue whose
 * feature does not exist yet. Its files are reported as `pending (issue N)`, loudly, and the
 * entry is removed by the change that implements the issue.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { CaseResult, GoldenFile } from "./schema.js";
import { runSafetensorsFile } from "./io.js";
import { type FileHandler, PORTABLE_HANDLERS } from "./handlers.js";

export type { FileHandler } from "./handlers.js";

/**
 * Handlers by path relative to the golden directory (`/`-separated); files without a handler fail
 * every case. The browser-safe ones (`handlers.ts`) plus those that read files beside the JSON.
 */
export const handlers: Record<string, FileHandler> = {
  ...PORTABLE_HANDLERS,
  "io/safetensors.json": runSafetensorsFile,
};

/**
 * Subfolders or files (path prefixes) whose reference files belong to an open issue not
 * implemented yet: they are reported as pending with the issue, not run (see the file comment).
 */
export const PENDING: Readonly<Record<string, string>> = {};

/** Results for one file. */
export interface FileReport {
  /** Path relative to the golden directory, `/`-separated. */
  file: string;
  /** Set when the file belongs to an open issue (see {@link PENDING}): nothing was run. */
  pending?: string;
  results: CaseResult[];
  passed: number;
  failed: number;
  skipped: number;
  total: number;
}

export { goldenDir } from "./dir.js";
import { goldenDir } from "./dir.js";

/**
 * The handler whose path ends with `name`'s base name, when exactly one does: a subfolder's files
 * still run when `GOLDEN_DIR` points into the subfolder itself (e.g. `GOLDEN_DIR=…/compress`).
 */
function byBaseName(name: string): FileHandler | undefined {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const matches = Object.keys(handlers).filter((k) => k === base || k.endsWith(`/${base}`));
  return matches.length === 1 ? handlers[matches[0]!] : undefined;
}

/** Runs one file by path; `name` is its path relative to the golden directory (default: its base name). */
export function runGoldenFile(path: string, name = path.split(/[\\/]/).pop()!): FileReport {
  const pending = Object.entries(PENDING).find(([prefix]) => name.startsWith(prefix));
  if (pending) return { file: name, pending: pending[1], results: [], passed: 0, failed: 0, skipped: 0, total: 0 };
  const file = JSON.parse(readFileSync(path, "utf8")) as GoldenFile;
  const cases = Array.isArray(file.cases) ? file.cases : [];
  const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/") + 1) : "";
  const handler = handlers[name] ?? (typeof file.file === "string" ? handlers[dir + file.file] : undefined) ?? byBaseName(name);
  let results: CaseResult[];
  if (cases.length === 0) {
    // A file that tests nothing is a broken file, not a pass.
    const what = Array.isArray(file.cases) ? "an empty case list" : "no case list";
    results = [{ name: "(file)", status: "failed", message: `golden file ${name} has ${what}: nothing would be tested${handler === undefined ? " (and no handler)" : ""}` }];
  } else if (!handler) {
    results = cases.map((c) => ({ name: c.name, status: "failed" as const, message: `no handler for golden file ${name}` }));
  } else {
    try {
      results = handler(file);
    } catch (e) {
      results = cases.map((c) => ({ name: c.name, status: "failed" as const, message: `handler threw: ${(e as Error).message}` }));
    }
  }
  if (results.length === 0) results = [{ name: "(file)", status: "failed", message: `the handler of ${name} returned no results for ${cases.length} cases` }];
  const count = (s: CaseResult["status"]) => results.filter((r) => r.status === s).length;
  return { file: name, results, passed: count("passed"), failed: count("failed"), skipped: count("skipped"), total: results.length };
}

/** Every `*.json` file under `dir`, as paths relative to it (`/`-separated, sorted). */
export function goldenFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith(".json")) out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

/** Runs every `*.json` golden file under `dir`, subfolders included (sorted by relative path). */
export function runGoldenDir(dir = goldenDir()): FileReport[] {
  return goldenFiles(dir).map((f) => runGoldenFile(join(dir, f), f));
}
