/**
 * @file The golden runner's own rules: a file whose case list is missing or empty fails (it
 * would test nothing), a file without a handler fails per case, and pending folders are not run.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGoldenFile } from "../golden/runner.js";

const dir = mkdtempSync(join(tmpdir(), "golden-runner-"));
function file(name: string, body: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(body));
  return p;
}

describe("runGoldenFile", () => {
  it("fails a file with an empty case list, with or without a handler", () => {
    const r = runGoldenFile(file("ops.json", { schema: "x", file: "ops.json", tolerance: { rtol: 0, atol: 0 }, cases: [] }), "ops.json");
    expect(r.failed).toBe(1);
    expect(r.passed).toBe(0);
    expect(r.results[0]!.message).toMatch(/ops\.json has an empty case list: nothing would be tested/);
    const u = runGoldenFile(file("unknown.json", { cases: [] }), "unknown.json");
    expect(u.results[0]!.message).toMatch(/empty case list.*no handler/);
  });

  it("fails a file with no case list", () => {
    const r = runGoldenFile(file("clip.json", { schema: "x", file: "clip.json", tolerance: { rtol: 0, atol: 0 } }), "clip.json");
    expect(r.failed).toBe(1);
    expect(r.results[0]!.message).toMatch(/clip\.json has no case list/);
  });

  it("fails every case of a file without a handler", () => {
    const r = runGoldenFile(file("nothing.json", { cases: [{ name: "a" }, { name: "b" }] }), "nothing.json");
    expect(r.failed).toBe(2);
    expect(r.results.map((c) => c.message)).toEqual(["no handler for golden file nothing.json", "no handler for golden file nothing.json"]);
  });
});
