/**
 * @file Runs every golden case (from `GOLDEN_DIR`, default `../shared/golden`) as a vitest test,
 * so failures show up per case in `pnpm test`.
 */
import { describe, expect, it } from "vitest";
import { runGoldenDir } from "./golden/runner.js";

const reports = runGoldenDir();

describe("golden files", () => {
  it("found golden files", () => {
    expect(reports.length).toBeGreaterThan(0);
  });
  for (const report of reports) {
    if (report.pending) {
      it.todo(`${report.file}: pending (${report.pending})`);
      continue;
    }
    describe(report.file, () => {
      for (const c of report.results) {
        it(c.name, () => {
          if (c.status === "failed") throw new Error(c.message ?? "failed");
          expect(["passed", "skipped"]).toContain(c.status);
        });
      }
    });
  }
});
