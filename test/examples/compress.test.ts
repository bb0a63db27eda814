/**
 * @file The `pnpm compress` pipeline on a small synthetic task (no dataset needed): every model
 * file it writes is exactly `bytes` long and decodes to a model with the recorded accuracy; the
 * model files round-trip float and int8 models; corrupted files are refused; the summary's Pareto
 * front is right.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Rng, Tensor, randn } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { convert, prepareStatic, l1Unstructured } from "@tapegrad/compress";
import { encodeFloatModel, encodeInt8Model, linearLayers, loadModel, makeMlp } from "../../examples/compress/models.js";
import { runPipeline } from "../../examples/compress/pipeline.js";
import { summarize, reportHtml, type ModelRecord } from "../../examples/compress/report.js";
import type { Split } from "../../examples/train/data.js";

const dir = mkdtempSync(join(tmpdir(), "tapegrad-compress-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 10 Gaussian blobs in 784 dimensions: learnable in one epoch. */
function blobs(n: number, seed: number, centers: Float32Array): Split {
  const rng = new Rng(seed);
  const x = randn([n, 784], rng).data;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rng.random() * 10);
    y[i] = c;
    for (let j = 0; j < 784; j++) x[i * 784 + j] = x[i * 784 + j]! * 0.5 + centers[c * 784 + j]!;
  }
  return { x: new Tensor(x, [n, 784]), y };
}
const centers = randn([10, 784], new Rng(99)).data.map((v) => v * 0.3);
const train = blobs(1200, 1, centers), test = blobs(1000, 2, centers);

describe("compress example: model files", () => {
  it("a pruned float model and its int8 version round-trip through their files", () => {
    const model = makeMlp([32], 0, new Rng(3));
    l1Unstructured(linearLayers(model)[0]!.linear, "weight", 0.8);
    const x = test.x;
    const want = A.noGrad(() => model.forward(x)).value.toFloat32Array();
    const bytes = encodeFloatModel(model, "t");
    const back = loadModel(bytes);
    expect(back.meta.kind).toBe("float");
    expect(Array.from(back.predict(x).toFloat32Array())).toEqual(Array.from(want));
    const prepared = prepareStatic(model);
    A.noGrad(() => prepared.forward(train.x));
    const q = convert(prepared);
    const qBytes = encodeInt8Model(q, "q");
    expect(qBytes.length).toBeLessThan(bytes.length / 2);
    const qBack = loadModel(qBytes);
    expect(Array.from(qBack.predict(x).toFloat32Array())).toEqual(Array.from(q.forward(x).toFloat32Array()));
    q.dispose();
    qBack.int8!.dispose();
  });

  it("refuses truncated or corrupted files with a clear error", () => {
    const bytes = encodeFloatModel(makeMlp([8], 0, new Rng(4)), "t");
    expect(() => loadModel(bytes.subarray(0, bytes.length - 10))).toThrow(/decodeModel/);
    const bad = bytes.slice();
    bad[bad.length >> 1] ^= 0xff;
    expect(() => loadModel(bad)).toThrow(/CRC-32/);
  });
});

describe("compress example: pipeline", () => {
  it("writes every model, each file exactly its recorded size and reloading to its accuracy", () => {
    const logs: string[] = [];
    const records = runPipeline({ train, test }, {
      outDir: dir, seeds: [0], hidden: [64, 32], dropout: 0.1, baselineEpochs: 3, retrain: true, pruneLevels: [0.5, 0.9], pruneEpochs: 1,
      qatEpochs: 1, studentHidden: [8], studentEpochs: 1, temperature: 4, alpha: 0.9, calibrationImages: 256, log: (l) => logs.push(l),
    });
    const configs = records.map((r) => r.config);
    expect(configs).toEqual(["fp32", "int8-ptq", "int8-qat", "prune-50", "prune-50+int8", "prune-90", "prune-90+int8", "student-8", "student-8-kd", "student-8-kd+int8"]);
    for (const r of records) {
      expect(statSync(r.path).size).toBe(r.bytes);
      expect(r.reloadedAccuracy).toBe(r.testAccuracy);
      expect(loadModel(new Uint8Array(readFileSync(r.path))).meta.name).toBe(r.name);
      expect(r.fp32Bytes).toBe(records[0]!.bytes); // the baseline is dense
    }
    expect(records[0]!.testAccuracy).toBeGreaterThan(0.85); // the blobs are easy (chance 0.1)
    const byConfig = (c: string) => records.find((r) => r.config === c)!;
    expect(byConfig("prune-90").sparsity).toBeCloseTo(0.9, 3);
    expect(byConfig("prune-90+int8").bytes).toBeLessThan(0.1 * byConfig("fp32").bytes);
    expect(byConfig("int8-ptq").bytes).toBeLessThan(0.3 * byConfig("fp32").bytes);
    expect(byConfig("int8-ptq").testAccuracy).toBeGreaterThan(byConfig("fp32").testAccuracy - 0.05);
  }, 120_000);

  it("summarizes seeds and finds the Pareto front", () => {
    const rec = (config: string, seed: number, testAccuracy: number, bytes: number): ModelRecord => ({
      name: `${config} seed ${seed}`, config, seed, testAccuracy, reloadedAccuracy: testAccuracy, bytes, fp32Bytes: 1000, path: "", inferenceMsPer1k: 1, sparsity: 0,
    });
    const records = [rec("a", 0, 0.9, 1000), rec("a", 1, 0.92, 1000), rec("b", 0, 0.9, 200), rec("b", 1, 0.9, 200), rec("c", 0, 0.8, 300), rec("c", 1, 0.8, 300)];
    const s = summarize(records, {});
    expect(s.map((c) => [c.config, c.pareto])).toEqual([["a", true], ["b", true], ["c", false]]);
    expect(s[0]!.accuracyMean).toBeCloseTo(0.91, 12);
    expect(s[0]!.accuracySd).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(s[1]!.ratioToFp32).toBe(0.2);
    const html = reportHtml("t", "intro", records, s, ["note"]);
    expect(html).toContain("<svg");
    expect(html.match(/<tr class="pareto">/g)?.length).toBe(2);
  });
});
