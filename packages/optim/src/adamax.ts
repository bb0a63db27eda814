/**
 * @file Adamax with PyTorch's exact update rule (`torch.optim.Adamax`, `foreach=False`, as in
 * torch 1.13). Per element, `t` the parameter's step count from 1:
 *
 * ```text
 * g ← −g                                  if maximize
 * g ← g + weightDecay·θ                   (L2, coupled)
 * m ← β1·m + (1 − β1)·g
 * u ← max(β2·u, |g| + eps)                (expInf; eps added before the max, u starts at 0)
 * θ ← θ − lr/(1 − β1^t) · m/u
 * ```
 *
 * Defaults: `lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0, maximize false`. The bias
 * correction is computed in float64, as PyTorch does in Python floats. The per-element rule is
 * written once, {@link adamaxRule}, as a map kernel every backend runs with the same bits.
 */
import { foreachMap, mapKernel, type MapKernel } from "@tapegrad/tensor";
import { checkHypers, type HyperRules, checkFlag } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import { cachedKernel } from "./optimizer-util.js";
import { bucketLists } from "./buckets.js";
import { checkBetas } from "./adam.js";
import type { ParamState, StateSpec } from "./state-dict.js";

const adamaxKernels = new Map<string, MapKernel>();

/**
 * The Adamax rule of the file comment as a map kernel, over `p`, `g`, `m` (expAvg), `u`
 * (expInf), with the scalars `[clr = lr/(1 − β1^t), β1, 1 − β1, β2, eps, weightDecay, sign]`;
 * `decay` selects the L2 term.
 *
 * @throws {TypeError} when `decay` is not a boolean.
 * @example
 * ```ts
 * foreachMap(adamaxRule(false), [values, grads, expAvgs, expInfs], [0.02, 0.9, 0.1, 0.999, 1e-8, 0, 1]);
 * ```
 */
export function adamaxRule(decay: boolean): MapKernel {
  checkFlag("adamaxRule", "decay", decay);
  const key = `${+decay}`;
  const spec = { arrays: ["p", "g", "m", "u"], scalars: ["clr", "b1", "c1", "b2", "eps", "wd", "sign"] } as const;
  return cachedKernel(adamaxKernels, key, () => mapKernel(`adamax${key}`, spec, ({ p, g: grad, m, u }, h) => {
    let g = h.sign.mul(grad); // g ← −g to maximize (exact)
    if (decay) g = g.add(h.wd.mul(p)).f32(); // g ← g + λθ
    const m1 = m.mul(h.b1).f32().add(h.c1.mul(g)).f32(); // m ← β1·m + (1 − β1)·g
    const u1 = u.mul(h.b2).f32().max(g.abs().add(h.eps).f32()); // u ← max(β2·u, |g| + eps) (NaN propagates)
    return { p: p.sub(h.clr.mul(m1.div(u1))), m: m1, u: u1 }; // θ ← θ − lr/(1 − β1^t)·m/u
  }));
}

/** Adamax hyper-parameters (per parameter group). */
export interface AdamaxOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** Decay rates of the first moment and of the infinity norm, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to `|g|` before the maximum (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * PyTorch's Adamax defaults.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * ADAMAX_DEFAULTS.lr; // 0.002
 * ```
 */
export const ADAMAX_DEFAULTS: Readonly<AdamaxOptions> = { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false };

/** How each Adamax hyper-parameter is checked. */
const ADAMAX_RULES: HyperRules<AdamaxOptions> = { lr: "nonNegative", betas: checkBetas, eps: "nonNegative", weightDecay: "nonNegative", maximize: "bool" };

/**
 * Adamax (Kingma & Ba 2015, §7.1: Adam with the infinity norm), PyTorch-exact. State per
 * parameter: `step`, `expAvg`, `expInf`.
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new Adamax(model.parameters(), { lr: 2e-3, betas: [0.9, 0.999] });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class Adamax extends Optimizer<AdamaxOptions> {
  /**
   * @throws {RangeError} for negative (or infinite) `lr`, `eps` or `weightDecay`, or betas outside
   * [0, 1); {TypeError} for wrongly typed or unknown options.
   * @example
   * ```ts
   * const opt = new Adamax(params, { lr: 0.01, weightDecay: 1e-4 });
   * ```
   */
  constructor(params: ParamsInput<AdamaxOptions>, options: Partial<AdamaxOptions> & OptimizerConfig = {}) {
    super("Adamax", params, { ...ADAMAX_DEFAULTS, betas: [ADAMAX_DEFAULTS.betas[0], ADAMAX_DEFAULTS.betas[1]] }, options);
  }

  protected checkHyper(h: AdamaxOptions, where: string): void {
    checkHypers(`Adamax${where}`, h, ADAMAX_RULES);
  }

  protected stateSpec(): StateSpec {
    return { counters: ["step"], buffers: ["expAvg", "expInf"] };
  }

  protected updateGroup(group: ParamGroup<AdamaxOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, eps, weightDecay: wd, maximize } = group;
    const [b1, b2] = group.betas;
    const buckets = bucketLists(values.length, (k) => (states[k]!.step = (states[k]!.step as number) + 1), (k) => {
      const s = states[k]!, n = values[k]!.length;
      return [values[k]!, grads[k]!, this.bufferOf(s, "expAvg", n), this.bufferOf(s, "expInf", n)];
    });
    const kernel = adamaxRule(wd !== 0);
    for (const [t, lists] of buckets) foreachMap(kernel, lists, [lr / (1 - Math.pow(b1, t)), b1, 1 - b1, b2, eps, wd, maximize ? -1 : 1]);
  }
}
