/**
 * @file Golden handler for `dp/dp.json` (see `../shared/golden/dp/README.md`): every case goes to
 * the runner of its kind (`dp/aggregate.ts` for gradients, clipping, the step and the noise;
 * `dp/accountant.ts` for the accountant); an unknown kind fails.
 */
import type { CaseResult, GoldenCase, GoldenFile } from "./schema.js";
import { runCase } from "./schema.js";
import { runClipCase, runNoiseCase, runPerExampleCase, runStepCase } from "./dp/aggregate.js";
import { type AccountantFile, runCalibrationCase, runHelperCase, runRdpCase } from "./dp/accountant.js";

type Runner = (c: never, file: AccountantFile) => CaseResult;
const RUNNERS: Record<string, Runner> = {
  per_example_grads: (c, f) => runPerExampleCase(c, f.tolerance),
  clip_flat: (c, f) => runClipCase(c, f.tolerance),
  clip_per_layer: (c, f) => runClipCase(c, f.tolerance),
  dp_sgd_step: (c, f) => runStepCase(c, f.tolerance),
  noise_statistics: (c, f) => runNoiseCase(c, f.tolerance),
  rdp_accountant: runRdpCase,
  noise_multiplier_calibration: runCalibrationCase,
  rdp_helpers: runHelperCase,
};

/** Runs every case of `dp/dp.json`. */
export function runDpFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c: GoldenCase) => {
    const run = RUNNERS[String(c.kind)];
    if (!run) return { name: c.name, status: "failed", message: `no runner for kind ${String(c.kind)}` };
    return runCase(c.name, () => run(c as never, file as AccountantFile));
  });
}
