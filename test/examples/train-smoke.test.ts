/**
 * @file Smoke test of `pnpm train` on real data: one short epoch of Fashion-MNIST on a subset must
 * be clearly better than chance (10%). Needs Debian's `dataset-fashion-mnist` (installed by
 * `.ci/run`); under CI a missing dataset is a failure, elsewhere the test is skipped with a note.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_DATA_DIR, hasFashionMnist, loadFashionMnist } from "../../examples/train/data.js";
import { CNN_DEFAULTS, train } from "../../examples/train/trainer.js";

const present = hasFashionMnist(DEFAULT_DATA_DIR);
const inCi = process.env.CI === "true";

describe("Fashion-MNIST training smoke test", () => {
  it.runIf(present || inCi)(`one short epoch on a subset beats chance clearly (needs ${DEFAULT_DATA_DIR})`, async () => {
    const data = await loadFashionMnist(DEFAULT_DATA_DIR);
    expect(data.train.x.shape).toEqual([60000, 784]);
    expect(data.test.y.length).toBe(10000);
    const r = train(data, { epochs: 1, trainSubset: 6000, testSubset: 2000, seed: 0 });
    expect(r.steps).toBe(Math.ceil(6000 / 128));
    expect(r.testAccuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(r.clip.clippedSteps).toBeGreaterThan(0);
    expect(r.clip.clipRate).toBeCloseTo(r.clip.clippedSteps / r.steps, 12);
    expect(r.clip.maxPreClipNorm).toBeGreaterThanOrEqual(r.clip.meanPreClipNorm);
  });
  it.runIf(present || inCi)("the CNN (--model cnn) trains on a subset and beats chance clearly", async () => {
    const data = await loadFashionMnist(DEFAULT_DATA_DIR);
    const r = train(data, { ...CNN_DEFAULTS, epochs: 1, trainSubset: 1280, testSubset: 500, seed: 0 });
    expect(r.options.model).toBe("cnn");
    expect(r.steps).toBe(1280 / 64);
    expect(r.testAccuracy).toBeGreaterThan(0.5); // chance is 0.1
  });
  it("explains how to get the data when it is missing", async () => {
    await expect(loadFashionMnist("/nonexistent-dir")).rejects.toThrow(/Fashion-MNIST not found in \/nonexistent-dir .*apt-get install -y dataset-fashion-mnist/s);
  });
});
