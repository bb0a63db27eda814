/**
 * @file The experiments of `pnpm compress`, per seed: a dense fp32 baseline (trained, or reused
 * from its file), int8 post-training quantization, quantization-aware training, iterative global
 * magnitude pruning to 50/80/90/95 % with fine-tuning on a cubic ramp (each level also quantized
 * to int8), and a small student trained alone vs distilled from the baseline (and quantized).
 * Every model is written to its file, read back, and measured from what was read.
 */
import { existsSync, readFileSync, renameSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Rng, indexSelect } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { DataLoader, type Linear, type Sequential } from "@tapegrad/nn";
import { Adam, LRScheduler, clipGradNorm, cosineAnnealingLr } from "@tapegrad/optim";
import { convert, globalUnstructured, prepareQat, prepareStatic, sparsityReport, trainDistilled, type QuantizedSequential } from "@tapegrad/compress";
import type { Split } from "../train/data.js";
import { Progress } from "../lib/progress.js";
import { accuracyOf, fit, inferenceMsPer1k, predictor, type Predict } from "./fit.js";
import { encodeFloatModel, encodeInt8Model, fp32BytesOf, linearLayers, loadModel, makeMlp } from "./models.js";
import type { ModelRecord } from "./report.js";

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  outDir: string;
  seeds: number[];
  hidden: number[];
  dropout: number;
  baselineEpochs: number;
  retrain: boolean;
  pruneLevels: number[];
  pruneEpochs: number;
  qatEpochs: number;
  studentHidden: number[];
  studentEpochs: number;
  temperature: number;
  alpha: number;
  calibrationImages: number;
  log: (line: string) => void;
}

/** What each configuration is, for the report. */
export function describeConfigs(o: PipelineOptions): Record<string, string> {
  const d: Record<string, string> = {
    fp32: `dense float32 MLP 784-${o.hidden.join("-")}-10 (Adam, ${o.baselineEpochs} epochs, dropout ${o.dropout})`,
    "int8-ptq": `post-training static int8 (per-channel symmetric qint8 weights, quint8 activations calibrated on ${o.calibrationImages} training images)`,
    "int8-qat": `quantization-aware training from the baseline (${o.qatEpochs} epochs of fake quantization), then int8`,
    [`student-${o.studentHidden.join("-")}`]: `student 784-${o.studentHidden.join("-")}-10 trained alone (${o.studentEpochs} epochs)`,
    [`student-${o.studentHidden.join("-")}-kd`]: `the same student distilled from the baseline (T=${o.temperature}, alpha=${o.alpha}, ${o.studentEpochs} epochs)`,
    [`student-${o.studentHidden.join("-")}-kd+int8`]: "the distilled student, int8 post-training quantization",
  };
  for (const p of o.pruneLevels) {
    const pc = Math.round(p * 100);
    d[`prune-${pc}`] = `global L1 magnitude pruning of the weights to ${pc} %, cubic ramp over ${o.pruneEpochs} fine-tuning epochs (from the previous level)`;
    d[`prune-${pc}+int8`] = `prune-${pc}, then int8 post-training quantization (pruned weights stay exact zeros)`;
  }
  return d;
}

/** Writes `bytes` to `path` through a temporary file and a rename: never a half-written model. */
function writeAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A copy of a float MLP (same architecture, same values; pruned weights copied as their effective values). */
function copyMlp(src: Sequential, o: PipelineOptions, seed: number): Sequential {
  const dst = makeMlp(o.hidden, o.dropout, new Rng(seed));
  const a = linearLayers(src), b = linearLayers(dst);
  a.forEach(({ linear }, i) => {
    b[i]!.linear.weight.value.data.set(linear.weight.value.toFloat32Array());
    if (linear.bias) b[i]!.linear.bias!.value.data.set(linear.bias.value.toFloat32Array());
  });
  return dst;
}

/** The first `n` images of a seeded permutation of the training set (calibration data). */
function calibrationSet(train: Split, n: number, seed: number): Split {
  const rng = new Rng(seed + 1000);
  const idx = Int32Array.from({ length: train.y.length }, (_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rng.random() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const pick = idx.subarray(0, n);
  return { x: indexSelect(train.x, 0, pick), y: Int32Array.from(pick, (i) => train.y[i]!) };
}

/** Static int8 quantization of a float MLP, calibrated on `calib` in batches of 256. */
function quantizeStatic(model: Sequential, calib: Split): QuantizedSequential {
  const prepared = prepareStatic(model);
  prepared.eval();
  A.noGrad(() => {
    for (let s = 0; s < calib.y.length; s += 256) {
      const idx = Int32Array.from({ length: Math.min(256, calib.y.length - s) }, (_, i) => s + i);
      prepared.forward(indexSelect(calib.x, 0, idx));
    }
  });
  return convert(prepared);
}

/** Runs every experiment; returns one record per model file written. */
export function runPipeline(data: { train: Split; test: Split }, o: PipelineOptions): ModelRecord[] {
  const records: ModelRecord[] = [];
  const student = `student-${o.studentHidden.join("-")}`;
  let fp32Bytes = 0; // the baseline's dense float32 file (set per seed: the name in the metadata is part of the file)
  const save = (config: string, seed: number, bytes: Uint8Array, testAccuracy: number, sparsity: number): void => {
    const name = `${config} seed ${seed}`;
    const path = join(o.outDir, `${config}-seed${seed}.tgc`);
    writeAtomic(path, bytes);
    const onDisk = new Uint8Array(readFileSync(path));
    const loaded = loadModel(onDisk);
    const reloadedAccuracy = accuracyOf(loaded.predict, data.test);
    const ms = inferenceMsPer1k(loaded.predict, data.test);
    loaded.int8?.dispose();
    records.push({ name, config, seed, testAccuracy, reloadedAccuracy, bytes: onDisk.length, fp32Bytes, path, inferenceMsPer1k: ms, sparsity });
    const flag = reloadedAccuracy === testAccuracy ? "" : ` (reloaded: ${(100 * reloadedAccuracy).toFixed(2)}%)`;
    o.log(`  ${name.padEnd(30)} ${(100 * testAccuracy).toFixed(2)}%${flag}  ${onDisk.length} bytes (${((100 * onDisk.length) / fp32Bytes).toFixed(1)} % of fp32)  ${ms.toFixed(2)} ms/1k`);
  };
  const floatAcc = (m: Sequential) => accuracyOf(predictor(m), data.test);
  const int8Acc = (q: QuantizedSequential): number => accuracyOf((x) => q.forward(x), data.test);
  const sparsityOf = (m: Sequential) => {
    const r = sparsityReport(m);
    const w = r.parameters.filter((p) => p.name.endsWith("weight"));
    return w.reduce((a, p) => a + p.zeros, 0) / w.reduce((a, p) => a + p.numel, 0);
  };

  for (const seed of o.seeds) {
    o.log(`seed ${seed}`);
    // 1. baseline: reuse its file when present (and not --retrain)
    const basePath = join(o.outDir, `fp32-seed${seed}.tgc`);
    let baseline: Sequential;
    const wanted = JSON.stringify([784, ...o.hidden, 10]);
    const reuse = !o.retrain && existsSync(basePath) ? loadModel(new Uint8Array(readFileSync(basePath))) : null;
    if (reuse?.float && JSON.stringify([784, ...reuse.meta.layers.map((l) => l.outFeatures)]) === wanted) {
      baseline = copyMlp(reuse.float, o, seed);
      o.log(`  fp32 seed ${seed}: reusing ${basePath} (--retrain to train it again)`);
    } else {
      baseline = makeMlp(o.hidden, o.dropout, new Rng(seed));
      const opt = new Adam(baseline.parameters(), { lr: 1e-3, clip: clipGradNorm.transform(1) });
      fit(baseline, opt, data.train, { epochs: o.baselineEpochs, seed, label: `fp32 seed ${seed}` });
    }
    fp32Bytes = fp32BytesOf(baseline, `fp32 seed ${seed}`);
    save("fp32", seed, encodeFloatModel(baseline, `fp32 seed ${seed}`), floatAcc(baseline), 0);
    const calib = calibrationSet(data.train, o.calibrationImages, seed);

    // 2. int8 post-training static quantization
    const ptq = quantizeStatic(baseline, calib);
    save("int8-ptq", seed, encodeInt8Model(ptq, `int8-ptq seed ${seed}`), int8Acc(ptq), 0);
    ptq.dispose();

    // 3. quantization-aware training from the baseline
    const qat = prepareQat(copyMlp(baseline, o, seed));
    fit(qat, new Adam(qat.parameters(), { lr: 1e-4, clip: clipGradNorm.transform(1) }), data.train, { epochs: o.qatEpochs, seed: seed + 10, label: `int8-qat seed ${seed}` });
    qat.eval();
    const qatInt8 = convert(qat);
    save("int8-qat", seed, encodeInt8Model(qatInt8, `int8-qat seed ${seed}`), int8Acc(qatInt8), 0);
    qatInt8.dispose();

    // 4. iterative global magnitude pruning, each level fine-tuned on a cubic ramp
    const pruned = copyMlp(baseline, o, seed);
    const targets = linearLayers(pruned).map(({ linear }) => [linear, "weight"] as [Linear, string]);
    const total = targets.reduce((a, [l]) => a + l.weight.size, 0);
    let done = 0;
    let from = 0;
    for (const level of o.pruneLevels) {
      const pc = Math.round(level * 100);
      const E = o.pruneEpochs;
      const opt = new Adam(pruned.parameters(), { lr: 5e-4, clip: clipGradNorm.transform(1) });
      const start = from;
      fit(pruned, opt, data.train, {
        epochs: E, seed: seed + 100 + pc, label: `prune-${pc} seed ${seed}`,
        beforeEpoch: (e) => {
          // Zhu & Gupta: s = s_f + (s_i − s_f)(1 − (e + 1)/E)³, reaching s_f at the last epoch's start
          const s = level + (start - level) * (1 - (e + 1) / E) ** 3;
          const count = Math.round(s * total) - done;
          if (count > 0) globalUnstructured(targets, { count });
          done += Math.max(0, count);
        },
      });
      from = level;
      const acc = floatAcc(pruned);
      save(`prune-${pc}`, seed, encodeFloatModel(pruned, `prune-${pc} seed ${seed}`), acc, sparsityOf(pruned));
      const q = quantizeStatic(pruned, calib);
      save(`prune-${pc}+int8`, seed, encodeInt8Model(q, `prune-${pc}+int8 seed ${seed}`), int8Acc(q), sparsityOf(pruned));
      q.dispose();
    }

    // 5. a small student, alone and distilled from the baseline
    const alone = makeMlp(o.studentHidden, 0, new Rng(seed + 500));
    fit(alone, new Adam(alone.parameters(), { lr: 1e-3, clip: clipGradNorm.transform(1) }), data.train, { epochs: o.studentEpochs, seed: seed + 500, label: `${student} seed ${seed}` });
    save(student, seed, encodeFloatModel(alone, `${student} seed ${seed}`), floatAcc(alone), 0);
    const kd = makeMlp(o.studentHidden, 0, new Rng(seed + 500));
    const kdOpt = new Adam(kd.parameters(), { lr: 1e-3, clip: clipGradNorm.transform(1) });
    const loader = new DataLoader(data.train.x, data.train.y, { batchSize: 128, rng: new Rng(seed + 501) });
    const sched = new LRScheduler(kdOpt, cosineAnnealingLr({ tMax: o.studentEpochs * loader.length }));
    baseline.eval();
    let bar: Progress | null = null;
    trainDistilled({
      student: kd, teacher: baseline, optimizer: kdOpt, loader, epochs: o.studentEpochs, temperature: o.temperature, alpha: o.alpha,
      afterStep: () => sched.step(),
      onStep: (p) => {
        if (p.step === 1) bar = new Progress(`${student}-kd seed ${seed} epoch ${p.epoch}/${o.studentEpochs}`, p.stepsPerEpoch);
        bar?.update(p.step, `loss ${p.loss.toFixed(4)} ${Math.round(p.samplesPerSecond)} samples/s`);
      },
      onEpoch: (r) => bar?.done(`loss ${r.loss.toFixed(4)}, ${Math.round(r.samplesPerSecond)} samples/s`),
    });
    save(`${student}-kd`, seed, encodeFloatModel(kd, `${student}-kd seed ${seed}`), floatAcc(kd), 0);
    const kdq = quantizeStatic(kd, calib);
    save(`${student}-kd+int8`, seed, encodeInt8Model(kdq, `${student}-kd+int8 seed ${seed}`), int8Acc(kdq), 0);
    kdq.dispose();
  }
  return records;
}

export type { Predict };
