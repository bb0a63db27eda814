/**
 * @file `pnpm test:golden`: runs every golden file under `GOLDEN_DIR` (default `../shared/golden`,
 * subfolders included) and prints one line per file, with its path relative to `GOLDEN_DIR`:
 * `golden <file>: <passed>/<total> passed[, <k> skipped (optional)]`, or
 * `golden <file>: pending, not run (issue N: …)` for the reference files of an issue not built yet;
 * then the failures. Exits with status 1 when any case failed.
 */
import "../setup-backend.js"; // TAPEGRAD_KERNELS=js|wasm|auto selects the kernels, as for vitest
import { goldenDir, runGoldenDir } from "./runner.js";

const dir = goldenDir();
const reports = runGoldenDir(dir);
let failed = 0;
for (const r of reports) {
  if (r.pending) {
    console.log(`golden ${r.file}: pending, not run (${r.pending})`);
    continue;
  }
  const skipped = r.skipped > 0 ? `, ${r.skipped} skipped (optional)` : "";
  console.log(`golden ${r.file}: ${r.passed}/${r.total} passed${skipped}`);
  failed += r.failed;
}
for (const r of reports) {
  for (const c of r.results) {
    if (c.status === "failed") console.log(`  FAIL ${r.file} ${c.name}: ${c.message ?? ""}`.replace(/\n/g, "\n    "));
  }
}
if (reports.length === 0) {
  console.log(`golden: no .json files in ${dir}`);
  process.exitCode = 1;
}
if (failed > 0) process.exitCode = 1;
