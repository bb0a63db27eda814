/**
 * @file The golden handlers that need nothing but the parsed JSON (no file system): the Node
 * runner (`runner.ts`) and the in-browser golden test (`test/browser/golden.test.ts`, files
 * fetched over HTTP) share them.
 */
import type { CaseResult, GoldenFile } from "./schema.js";
import { runOpsFile } from "./ops.js";
import { runClipFile } from "./clip.js";
import { runOptimFile } from "./optim.js";
import { runSeedLinregFile } from "./seed_linreg.js";
import { runMlpStepFile } from "./mlp_step.js";
import { runRnnExplodeFile } from "./rnn_explode.js";
import { runPruneFile } from "./compress/prune.js";
import { runQuantFile } from "./compress/quant.js";
import { runDistillFile } from "./compress/distill.js";
import { runNnOpsFile } from "./layers/nn_ops.js";
import { runOptim2File } from "./layers/optim2.js";
import { runSchedFile } from "./layers/sched.js";
import { runDpFile } from "./dp.js";

/** Runs every case of one parsed golden file. */
export type FileHandler = (file: GoldenFile) => CaseResult[];

/** Handlers by path relative to the golden directory that need only the JSON. */
export const PORTABLE_HANDLERS: Readonly<Record<string, FileHandler>> = {
  "ops.json": runOpsFile,
  "clip.json": runClipFile,
  "optim.json": runOptimFile,
  "seed_linreg.json": runSeedLinregFile,
  "mlp_step.json": runMlpStepFile,
  "rnn_explode.json": runRnnExplodeFile,
  "compress/prune.json": runPruneFile,
  "compress/quant.json": runQuantFile,
  "compress/distill.json": runDistillFile,
  "layers/nn_ops.json": runNnOpsFile,
  "layers/optim2.json": runOptim2File,
  "layers/sched.json": runSchedFile,
  "dp/dp.json": runDpFile,
};
