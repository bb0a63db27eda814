/**
 * @file `pnpm train`: trains an MLP on Fashion-MNIST (read from Debian's `dataset-fashion-mnist`
 * files) with a chosen optimizer and clipping method; progress bar per epoch; `--json` prints a
 * final JSON line with the test accuracy, training time, steps and clip statistics.
 *
 * Example: `pnpm train --data fashion-mnist --optimizer sgd --lr 0.05 --clip agc --clip-threshold 0.01 --epochs 5`
 */
import { parseArgs } from "node:util";
import { availableParallelism } from "node:os";
import { kernels, numThreads, setNumThreads, threadsReady } from "@tapegrad/tensor";
import { DEFAULT_DATA_DIR, loadFashionMnist } from "./data.js";
import { CLIP_METHODS, CNN_DEFAULTS, DEFAULTS, MODELS, OPTIMIZERS, train, type ClipMethod, type ModelName, type OptimizerName, type TrainOptions } from "./trainer.js";
import { Progress, formatSeconds } from "../lib/progress.js";
import type { Module } from "@tapegrad/nn";
import { saveSafetensors } from "./save.js";
import { DP_CNN_DEFAULTS, DP_MLP_DEFAULTS, PRIVACY_DEFAULTS, trainPrivate, type PrivacyOptions } from "./private.js";

/** Every core, up to 4 (beyond that an MLP step this size gains little). */
const DEFAULT_THREADS = Math.max(1, Math.min(4, availableParallelism()));

const HELP = `Usage: pnpm train [options]

  --data <name>            dataset (only "fashion-mnist")              [fashion-mnist]
  --data-dir <dir>         directory with the idx .gz files            [${DEFAULT_DATA_DIR}]
  --model <name>           ${MODELS.join(" | ")}: the MLP, or the CNN (conv-bn-relu-pool ×2 + hidden + 10;
                           its defaults: channels ${CNN_DEFAULTS.channels!.join(",")}, hidden ${CNN_DEFAULTS.hidden!.join(",")}, dropout ${CNN_DEFAULTS.dropout}, batch ${CNN_DEFAULTS.batchSize}, ${CNN_DEFAULTS.epochs} epochs) [mlp]
  --channels <a,b>         channels of the CNN's two conv blocks
  --optimizer <name>       ${OPTIMIZERS.join(" | ")}                 [${DEFAULTS.optimizer}]
  --lr <x>                 learning rate                               [${DEFAULTS.lr}]
  --momentum <x>           momentum (sgd, rmsprop)                     [${DEFAULTS.momentum}]
  --weight-decay <x>       weight decay                                [${DEFAULTS.weightDecay}]
  --clip <method>          ${CLIP_METHODS.join(" | ")}     [${DEFAULTS.clip}]
  --clip-threshold <x>     max norm / clip value / AGC lambda          [${DEFAULTS.clipThreshold}]
  --epochs <n>             epochs                                      [${DEFAULTS.epochs}]
  --batch-size <n>         batch size                                  [${DEFAULTS.batchSize}]
  --hidden <a,b,...>       hidden layer sizes                          [${DEFAULTS.hidden.join(",")}]
  --dropout <p>            dropout after each hidden layer             [${DEFAULTS.dropout}]
  --no-cosine              keep the learning rate constant (default: cosine annealing)
  --seed <n>               seed                                        [${DEFAULTS.seed}]
  --threads <n>            threads for the kernels (GEMM, vector kernels) [${DEFAULT_THREADS}]
  --train-subset <n>       use only the first n training images (0 = all)
  --test-subset <n>        evaluate on the first n test images (0 = all)
  --dp                     differentially private training (DP-SGD: Poisson batches, per-example
                           clipping, Gaussian noise, RDP accountant); its defaults: MLP 784-${DP_MLP_DEFAULTS.hidden!.join("-")}-10
                           with tanh (or the tanh CNN with --model cnn, no BatchNorm), ${DP_MLP_DEFAULTS.optimizer} lr ${DP_MLP_DEFAULTS.lr}
                           momentum ${DP_MLP_DEFAULTS.momentum}, expected batch ${DP_MLP_DEFAULTS.batchSize}, ${DP_MLP_DEFAULTS.epochs} epochs, no dropout, constant lr
  --target-epsilon <x>     (--dp) ε to reach after the last epoch; σ is calibrated   [${PRIVACY_DEFAULTS.targetEpsilon}]
  --noise-multiplier <x>   (--dp) σ instead of a target ε
  --delta <x>              (--dp) δ of the (ε, δ) guarantee                 [${PRIVACY_DEFAULTS.delta}]
  --max-grad-norm <x>      (--dp) per-example clipping norm C               [${PRIVACY_DEFAULTS.maxGradNorm}]
  --secure                 (--dp) noise from crypto.getRandomValues
  --save <file>            write the trained model's state dict as safetensors (PyTorch's nn.Sequential
                           keys "0.weight", "0.bias", …; F32; metadata {"format":"pt"})
  --json                   print a final JSON line with the results
  -h, --help               this help`;

function num(name: string, v: string | undefined, def: number, integer = false): number {
  if (v === undefined) return def;
  const x = Number(v);
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x))) throw new Error(`--${name} must be ${integer ? "an integer" : "a number"} (got ${v})`);
  return x;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: "string", default: "fashion-mnist" }, model: { type: "string", default: "mlp" }, channels: { type: "string" }, "data-dir": { type: "string", default: DEFAULT_DATA_DIR },
      optimizer: { type: "string" }, lr: { type: "string" }, momentum: { type: "string" }, "weight-decay": { type: "string" },
      clip: { type: "string" }, "clip-threshold": { type: "string" }, epochs: { type: "string" }, "batch-size": { type: "string" },
      hidden: { type: "string" }, dropout: { type: "string" }, "no-cosine": { type: "boolean", default: false }, seed: { type: "string" }, threads: { type: "string" },
      "train-subset": { type: "string" }, "test-subset": { type: "string" },
      dp: { type: "boolean", default: false }, "target-epsilon": { type: "string" }, "noise-multiplier": { type: "string" }, delta: { type: "string" },
      "max-grad-norm": { type: "string" }, secure: { type: "boolean", default: false }, save: { type: "string" }, json: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.data !== "fashion-mnist") throw new Error(`--data: unknown dataset "${values.data}" (supported: fashion-mnist)`);
  const model = values.model as ModelName;
  if (!MODELS.includes(model)) throw new Error(`--model must be one of ${MODELS.join(", ")} (got ${model})`);
  const dp = values.dp;
  const dpOnly = ["target-epsilon", "noise-multiplier", "delta", "max-grad-norm", "secure"].filter((k) => values[k as keyof typeof values] !== undefined && values[k as keyof typeof values] !== false);
  if (!dp && dpOnly.length > 0) throw new Error(`--${dpOnly[0]} needs --dp`);
  const D: TrainOptions = { ...DEFAULTS, ...(dp ? DP_MLP_DEFAULTS : {}), ...(model === "cnn" ? (dp ? DP_CNN_DEFAULTS : CNN_DEFAULTS) : {}) };
  const optimizer = (values.optimizer ?? D.optimizer) as OptimizerName;
  if (!OPTIMIZERS.includes(optimizer)) throw new Error(`--optimizer must be one of ${OPTIMIZERS.join(", ")} (got ${optimizer})`);
  const clip = (values.clip ?? D.clip) as ClipMethod;
  if (!CLIP_METHODS.includes(clip)) throw new Error(`--clip must be one of ${CLIP_METHODS.join(", ")} (got ${clip})`);
  const hidden = values.hidden === undefined ? D.hidden : values.hidden.split(",").map((s) => num("hidden", s, 0, true));
  const channels = values.channels === undefined ? D.channels : values.channels.split(",").map((s) => num("channels", s, 0, true));
  if (channels.some((c) => c < 1)) throw new Error(`--channels must be positive integers (got ${values.channels})`);
  const opts: TrainOptions = {
    model, channels, optimizer, clip, hidden,
    lr: num("lr", values.lr, D.lr),
    momentum: num("momentum", values.momentum, D.momentum),
    weightDecay: num("weight-decay", values["weight-decay"], DEFAULTS.weightDecay),
    clipThreshold: num("clip-threshold", values["clip-threshold"], DEFAULTS.clipThreshold),
    epochs: num("epochs", values.epochs, D.epochs, true),
    batchSize: num("batch-size", values["batch-size"], D.batchSize, true),
    dropout: num("dropout", values.dropout, D.dropout),
    cosine: !values["no-cosine"] && D.cosine,
    seed: num("seed", values.seed, DEFAULTS.seed, true),
    trainSubset: num("train-subset", values["train-subset"], 0, true),
    testSubset: num("test-subset", values["test-subset"], 0, true),
  };
  const threads = num("threads", values.threads, DEFAULT_THREADS, true);
  if (threads < 1) throw new Error(`--threads must be at least 1 (got ${threads})`);
  setNumThreads(threads);
  await threadsReady();
  const data = await loadFashionMnist(values["data-dir"]);
  if (dp) {
    const p: PrivacyOptions = {
      targetEpsilon: values["noise-multiplier"] !== undefined && values["target-epsilon"] === undefined ? null : num("target-epsilon", values["target-epsilon"], PRIVACY_DEFAULTS.targetEpsilon!),
      noiseMultiplier: values["noise-multiplier"] === undefined ? null : num("noise-multiplier", values["noise-multiplier"], 0),
      delta: num("delta", values.delta, PRIVACY_DEFAULTS.delta),
      maxGradNorm: num("max-grad-norm", values["max-grad-norm"], PRIVACY_DEFAULTS.maxGradNorm),
      secure: values.secure,
    };
    if (p.targetEpsilon !== null && p.noiseMultiplier !== null) throw new Error("--target-epsilon and --noise-multiplier exclude each other");
    runPrivate(data, opts, p, values.json, values.save);
    return;
  }
  const arch = model === "cnn" ? `CNN conv${opts.channels.join("-conv")} (3×3, BatchNorm, ReLU, 2×2 max pool) + ${opts.hidden.join("-")}-10` : `MLP 784-${opts.hidden.join("-")}-10`;
  console.log(`Fashion-MNIST: ${data.train.y.length} train / ${data.test.y.length} test images; ${arch}, batch ${opts.batchSize}, ${opts.optimizer} lr ${opts.lr}, clip ${opts.clip}${opts.clip === "none" ? "" : ` (${opts.clipThreshold})`}, ${kernels().name} kernels, ${numThreads()} thread${numThreads() === 1 ? "" : "s"}`);
  let bar: Progress | null = null;
  const result = train(data, opts, {
    onStep: (epoch, step, per, run) => {
      if (step === 1) bar = new Progress(`epoch ${String(epoch).padStart(2)}/${opts.epochs}`, per);
      bar!.update(step, `loss ${run.loss.toFixed(4)} acc ${(100 * run.accuracy).toFixed(1)}% ${Math.round(run.samplesPerSecond)} samples/s`);
    },
    onEpoch: (r) => bar!.done(`loss ${r.trainLoss.toFixed(4)}, train acc ${(100 * r.trainAccuracy).toFixed(2)}%, test acc ${(100 * r.testAccuracy).toFixed(2)}%, ${Math.round(r.samplesPerSecond)} samples/s`),
  });
  const c = result.clip;
  console.log(
    `test accuracy ${(100 * result.testAccuracy).toFixed(2)}% after ${result.epochs} epochs (${result.steps} steps) in ${formatSeconds(result.trainSeconds)} of training` +
      ` (${Math.round(result.samplesPerSecond)} samples/s); clipped ${c.clippedSteps}/${result.steps} steps, mean pre-clip norm ${c.meanPreClipNorm.toFixed(3)}, max ${c.maxPreClipNorm.toFixed(3)}`,
  );
  if (values.save !== undefined) save(values.save, result.model);
  if (values.json) {
    const { history, model: _, ...rest } = result;
    console.log(JSON.stringify({ ...rest, backend: kernels().name, threads: numThreads(), epochsDetail: history }));
  }
}

/** `pnpm train --dp`: the private run, its progress and its result line. */
function runPrivate(data: Awaited<ReturnType<typeof loadFashionMnist>>, opts: TrainOptions, p: PrivacyOptions, json: boolean, savePath: string | undefined): void {
  const arch = opts.model === "cnn" ? `tanh CNN conv${opts.channels.slice(0, 2).join("-conv")} + ${opts.hidden.join("-")}-10` : `MLP 784-${opts.hidden.join("-")}-10 (tanh)`;
  const target = p.targetEpsilon !== null ? `target ε ${p.targetEpsilon}` : `σ ${p.noiseMultiplier}`;
  console.log(`DP-SGD on Fashion-MNIST: ${arch}, expected batch ${opts.batchSize}, ${opts.optimizer} lr ${opts.lr}, C ${p.maxGradNorm}, ${target}, δ ${p.delta}${p.secure ? ", secure noise" : ""}, ${kernels().name} kernels, ${numThreads()} thread${numThreads() === 1 ? "" : "s"}`);
  let bar: Progress | null = null;
  const result = trainPrivate(data, opts, p, {
    onStep: (epoch, step, per, run) => {
      if (step === 1) bar = new Progress(`epoch ${String(epoch).padStart(2)}/${opts.epochs}`, per);
      bar!.update(step, `loss ${run.loss.toFixed(4)} acc ${(100 * run.accuracy).toFixed(1)}% ε ${run.epsilon.toFixed(3)} ${Math.round(run.samplesPerSecond)} samples/s`);
    },
    onEpoch: (r) => bar!.done(`loss ${r.trainLoss.toFixed(4)}, train acc ${(100 * r.trainAccuracy).toFixed(2)}%, test acc ${(100 * r.testAccuracy).toFixed(2)}%, ε ${r.epsilon.toFixed(3)}, ${Math.round(r.samplesPerSecond)} samples/s`),
  });
  console.log(
    `test accuracy ${(100 * result.testAccuracy).toFixed(2)}% at (ε = ${result.epsilon.toFixed(3)}, δ = ${result.delta}) with σ = ${result.noiseMultiplier.toFixed(4)}, C = ${result.maxGradNorm}` +
      ` after ${result.epochs} epochs (${result.steps} steps, q = ${result.sampleRate.toFixed(5)}) in ${formatSeconds(result.trainSeconds)} of training (${Math.round(result.samplesPerSecond)} samples/s);` +
      ` ${(100 * result.clip.clipRate).toFixed(1)}% of per-example gradients clipped, mean norm ${result.clip.meanPerSampleNorm.toFixed(3)}`,
  );
  if (savePath !== undefined) save(savePath, result.model);
  if (json) {
    const { history, model: _, ...rest } = result;
    console.log(JSON.stringify({ ...rest, dp: true, backend: kernels().name, threads: numThreads(), epochsDetail: history }));
  }
}

/** `--save`: the state dict as safetensors (see `save.ts`). */
function save(path: string, model: Module): void {
  const bytes = saveSafetensors(path, model);
  console.log(`saved ${Object.keys(model.stateDict()).length} tensors (${bytes} bytes) to ${path}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
