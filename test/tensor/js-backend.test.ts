/**
 * @file With the pure-TS kernel set pinned, no WebAssembly is compiled, instantiated, validated
 * or allocated — through every package: a child Node process counts every use of the
 * `WebAssembly` API while it imports the four packages, pins `jsKernels` before any op and trains
 * (see `test/fixtures/js-backend-workload.ts`); a control run without pinning shows the counters
 * work. The same workload also runs in this process when the run's kernel set is js.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as T from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import * as nn from "@tapegrad/nn";
import * as O from "@tapegrad/optim";
import { WASM_ENTRY_POINTS, installWasmCounters, runWorkload, type WasmCounts, type WorkloadResult } from "../fixtures/js-backend-workload.js";

const CHILD = fileURLToPath(new URL("../fixtures/js-backend-child.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NONE = Object.fromEntries(WASM_ENTRY_POINTS.map((k) => [k, 0]));

interface ChildReport {
  afterImport: WasmCounts;
  counts: WasmCounts;
  result: WorkloadResult;
}

function runChild(args: string[] = []): ChildReport {
  const res = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", CHILD, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  expect(res.error).toBeUndefined();
  expect(res.stderr).toBe("");
  expect(res.status).toBe(0);
  const lines = res.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as ChildReport;
}

function expectTrained(r: WorkloadResult): void {
  expect(r.losses).toHaveLength(7);
  for (const l of r.losses) expect(Number.isFinite(l)).toBe(true);
  expect(r.losses[r.losses.length - 1]!).toBeLessThan(r.losses[0]!);
  expect(Number.isFinite(r.gradNorm) && r.gradNorm > 0).toBe(true);
  expect(Number.isFinite(r.sumSquares) && r.sumSquares > 0).toBe(true);
  expect(r.matmulError).toBeLessThan(1e-3);
}

describe("the pure-TS kernel set uses no WebAssembly", () => {
  it("in a fresh process: importing the packages, pinning jsKernels, training, foreach*, allocate, matmul", () => {
    const r = runChild();
    expect(r.afterImport).toEqual(NONE); // importing compiles nothing
    expect(r.counts).toEqual(NONE);
    expect(r.result.kernels).toBe("js");
    expect(r.result.placed).toBe(false);
    expectTrained(r.result);
  });

  it("control: without pinning, the counters see the wasm set being set up", () => {
    const r = runChild(["--auto"]);
    const total = Object.values(r.counts).reduce((s, v) => s + v, 0);
    expect(total).toBeGreaterThan(0); // at least the SIMD probe
    if (r.result.kernels === "wasm") {
      expect(r.counts.Module).toBeGreaterThan(0);
      expect(r.counts.Instance).toBeGreaterThan(0);
      expect(r.counts.Memory).toBeGreaterThan(0);
      expect(r.result.placed).toBe(true);
    }
    expectTrained(r.result);
  });

  it.runIf(T.kernels().name === "js")("in this process (the js run)", () => {
    const { counts, restore } = installWasmCounters();
    let result: WorkloadResult;
    try {
      result = runWorkload({ T, A, nn, O });
    } finally {
      restore();
    }
    expect(counts).toEqual(NONE);
    expect(result.kernels).toBe("js");
    expect(result.placed).toBe(false);
    expectTrained(result);
  });
});
