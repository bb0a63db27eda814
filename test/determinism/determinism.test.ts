/**
 * @file The determinism guarantee (README, "Determinism"): the same seed gives bit-identical
 * weights in every run (separate processes), and on the wasm kernels at 1 and 2 threads alike.
 * The training is the trainer's MLP (dropout, Adam with clipping) and a CNN with BatchNorm, five
 * steps each, on the kernel set of the test run (`TAPEGRAD_KERNELS`).
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { wasmKernels } from "@tapegrad/tensor";

const ROOT = resolve(import.meta.dirname, "../..");
const SCRIPT = join(ROOT, "test/fixtures/determinism-run.ts");

function digest(env: Record<string, string>): string {
  const res = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", SCRIPT], { cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } });
  if (res.status !== 0) throw new Error(`determinism-run failed (${res.status}): ${res.stderr}`);
  const out = res.stdout.trim();
  expect(out).toMatch(/^[0-9a-f]{64}$/);
  return out;
}

describe("same seed, same bits", () => {
  it("in two separate runs on this run's kernel set", () => {
    expect(digest({})).toBe(digest({}));
  }, 240_000);

  it.runIf(wasmKernels() !== null)("on the wasm kernels with 1 and with 2 threads", () => {
    expect(digest({ TAPEGRAD_KERNELS: "wasm", TAPEGRAD_THREADS: "2" })).toBe(digest({ TAPEGRAD_KERNELS: "wasm", TAPEGRAD_THREADS: "1" }));
  }, 240_000);
});
