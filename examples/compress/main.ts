/**
 * @file `pnpm compress`: the accuracy-against-bytes study of the three compression methods the
 * gradient-clipping article names — pruning, int8 quantization and knowledge distillation — on
 * Fashion-MNIST (Debian's `dataset-fashion-mnist`). Trains (or reuses) a dense fp32 baseline per
 * seed, derives every compressed model from it (see `pipeline.ts`), writes each model's file, the
 * report `out/compress/report.html` (table + accuracy-vs-bytes plot with the Pareto front) and
 * `out/compress/summary.json`. With `--json` the last stdout line is
 * `{"models":[{"name","testAccuracy","bytes","fp32Bytes","path","inferenceMsPer1k"}, ...]}`.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { kernels, numThreads, setNumThreads, threadsReady } from "@tapegrad/tensor";
import { DEFAULT_DATA_DIR, loadFashionMnist } from "../train/data.js";
import { formatSeconds } from "../lib/progress.js";
import { describeConfigs, runPipeline, type PipelineOptions } from "./pipeline.js";
import { reportHtml, summarize } from "./report.js";

const HELP = `Usage: pnpm compress [options]

  --data <name>          dataset (only "fashion-mnist")                      [fashion-mnist]
  --data-dir <dir>       directory with the idx .gz files                    [${DEFAULT_DATA_DIR}]
  --out <dir>            where the model files and the report go             [out/compress]
  --seeds <n>            seeds per configuration (>= 1)                      [3]
  --baseline-epochs <n>  epochs of the fp32 baseline                         [15]
  --retrain              train the baselines even when their files exist
  --prune-epochs <n>     fine-tuning epochs per pruning level                [3]
  --qat-epochs <n>       quantization-aware training epochs                  [2]
  --student-epochs <n>   epochs of the students (alone and distilled)        [10]
  --temperature <T>      distillation temperature                            [2]
  --alpha <a>            weight of the distillation term (1 − a: labels)     [0.5]
  --threads <n>          kernel threads                                      [${Math.max(1, Math.min(4, availableParallelism()))}]
  --json                 last stdout line: {"models":[...]}
  -h, --help             this help`;

function int(name: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer >= ${min} (got ${v})`);
  return x;
}

function real(name: string, v: string | undefined, def: number, ok: (x: number) => boolean, what: string): number {
  if (v === undefined) return def;
  const x = Number(v);
  if (!Number.isFinite(x) || !ok(x)) throw new Error(`--${name} must be a number ${what} (got ${v})`);
  return x;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: "string", default: "fashion-mnist" }, "data-dir": { type: "string", default: DEFAULT_DATA_DIR }, out: { type: "string", default: "out/compress" },
      seeds: { type: "string" }, "baseline-epochs": { type: "string" }, retrain: { type: "boolean", default: false }, "prune-epochs": { type: "string" },
      "qat-epochs": { type: "string" }, "student-epochs": { type: "string" }, temperature: { type: "string" }, alpha: { type: "string" }, threads: { type: "string" }, json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.data !== "fashion-mnist") throw new Error(`--data: unknown dataset "${values.data}" (supported: fashion-mnist)`);
  const threads = int("threads", values.threads, Math.max(1, Math.min(4, availableParallelism())), 1);
  setNumThreads(threads);
  await threadsReady();
  const outDir = resolve(values.out!);
  mkdirSync(outDir, { recursive: true });
  const t0 = performance.now();
  const data = await loadFashionMnist(values["data-dir"]);
  const seedCount = int("seeds", values.seeds, 3, 1);
  const hidden = [256, 256];
  const o: PipelineOptions = {
    outDir, seeds: Array.from({ length: seedCount }, (_, i) => i), hidden, dropout: 0.2,
    baselineEpochs: int("baseline-epochs", values["baseline-epochs"], 15, 1), retrain: values.retrain ?? false,
    pruneLevels: [0.5, 0.8, 0.9, 0.95], pruneEpochs: int("prune-epochs", values["prune-epochs"], 3, 1), qatEpochs: int("qat-epochs", values["qat-epochs"], 2, 1),
    studentHidden: [32], studentEpochs: int("student-epochs", values["student-epochs"], 10, 1), temperature: real("temperature", values.temperature, 2, (x) => x > 0, "> 0"), alpha: real("alpha", values.alpha, 0.5, (x) => x >= 0 && x <= 1, "in [0, 1]"), calibrationImages: 2048,
    log: (line) => console.log(line),
  };
  console.log(`Fashion-MNIST: ${data.train.y.length} train / ${data.test.y.length} test images; baseline MLP 784-${hidden.join("-")}-10; ${seedCount} seed${seedCount === 1 ? "" : "s"}; ${kernels().name} kernels, ${numThreads()} thread${numThreads() === 1 ? "" : "s"}; files in ${outDir}`);
  const records = runPipeline(data, o);
  const summary = summarize(records, describeConfigs(o));
  const seconds = (performance.now() - t0) / 1000;

  console.log("\nconfiguration          test accuracy (mean ± sd)   bytes (mean)   of fp32   ms/1k   Pareto");
  for (const c of summary) {
    console.log(`${c.config.padEnd(22)} ${(100 * c.accuracyMean).toFixed(2).padStart(6)}% ± ${(100 * c.accuracySd).toFixed(2)}            ${String(Math.round(c.bytesMean)).padStart(9)}   ${(100 * c.ratioToFp32).toFixed(1).padStart(5)} %  ${c.inferenceMsPer1k.toFixed(2).padStart(6)}   ${c.pareto ? "yes" : ""}`);
  }
  const notes = [
    `Bytes are the length of each model's file (<code>encodeModel</code> of @tapegrad/compress: dense, bitmask or CSR per tensor, whichever is smallest, int8 weights with per-channel scales; header, metadata and CRC-32 included). "of fp32" divides by <code>fp32Bytes</code> = ${records[0]!.fp32Bytes} bytes, the dense float32 file of the baseline (the same file format, metadata and CRC): every configuration is a compression of that baseline.`,
    "Test accuracy is on the 10,000 Fashion-MNIST test images; every model was also decoded back from its file and evaluated again (column \"reloaded from file\").",
    "Inference: one batch of 1,000 test images, median of 7 after a warm-up; int8 models run the int8 GEMM (quint8 activations × qint8 weights, int32 accumulation), float models the float32 GEMM (pruned ones stay dense in memory).",
    `Total wall time ${formatSeconds(seconds)} on ${kernels().name} kernels with ${numThreads()} thread(s).`,
  ];
  const kd = summary.find((c) => c.config.endsWith("-kd")), alone = summary.find((c) => c.config === `student-${o.studentHidden.join("-")}`);
  if (kd && alone) {
    const diff = 100 * (kd.accuracyMean - alone.accuracyMean);
    notes.push(`Distillation ${diff > 0 ? "helped" : "did not help"} the ${alone.config} student here: ${(100 * kd.accuracyMean).toFixed(2)}% ± ${(100 * kd.accuracySd).toFixed(2)} distilled vs ${(100 * alone.accuracyMean).toFixed(2)}% ± ${(100 * alone.accuracySd).toFixed(2)} alone (${diff >= 0 ? "+" : ""}${diff.toFixed(2)} points over ${kd.seeds} seeds).`);
  }
  const html = reportHtml("tapegrad compression: accuracy against bytes", `Fashion-MNIST, ${seedCount} seed(s) per configuration, generated by <code>pnpm compress</code> on ${new Date().toISOString().slice(0, 10)}.`, records, summary, notes);
  const write = (name: string, text: string) => {
    const path = join(outDir, name);
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  };
  write("report.html", html);
  write("summary.json", JSON.stringify({ seconds, backend: kernels().name, threads: numThreads(), fp32Bytes: records[0]!.fp32Bytes, configurations: summary, models: records }, null, 2) + "\n");
  console.log(`\nreport: ${join(outDir, "report.html")}; summary: ${join(outDir, "summary.json")}; ${formatSeconds(seconds)} in all`);
  if (values.json) {
    console.log(JSON.stringify({ models: records.map((r) => ({ name: r.name, testAccuracy: r.testAccuracy, bytes: r.bytes, fp32Bytes: r.fp32Bytes, path: r.path, inferenceMsPer1k: r.inferenceMsPer1k })) }));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
