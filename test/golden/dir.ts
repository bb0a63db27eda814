/**
 * @file Where the golden files are: `GOLDEN_DIR` when set, otherwise `shared/golden` beside the
 * repository (`../shared/golden`, the documented layout) or beside one of its parent folders.
 * Missing files are an error, never a skip.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

const REPO_ROOT = join(import.meta.dirname, "..", "..");

/** The golden directory to use; throws with the places tried when none exists. */
export function goldenDir(): string {
  if (process.env.GOLDEN_DIR) return process.env.GOLDEN_DIR;
  const tried: string[] = [];
  for (let dir = dirname(REPO_ROOT); ; dir = dirname(dir)) {
    const candidate = join(dir, "shared", "golden");
    tried.push(candidate);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`golden files not found: set GOLDEN_DIR (tried ${tried.join(", ")})`);
}
