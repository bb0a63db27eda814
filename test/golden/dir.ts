/**
 * @file Where the golden files are: `GOLDEN_DIR` when set; otherwise `../shared/golden` next to
 * the repository (the documented default), falling back to `/work/shared/golden` for clones
 * checked out elsewhere on the development machine. Missing files are an error, never a skip.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

const REPO_ROOT = join(import.meta.dirname, "..", "..");

/** The golden directory to use; throws with the places tried when none exists. */
export function goldenDir(): string {
  if (process.env.GOLDEN_DIR) return process.env.GOLDEN_DIR;
  const candidates = [join(REPO_ROOT, "..", "shared", "golden"), "/work/shared/golden"];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`golden files not found: set GOLDEN_DIR (tried ${candidates.join(", ")})`);
}
