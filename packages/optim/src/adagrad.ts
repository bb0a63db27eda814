/**
 * @file Adagrad with PyTorch's exact update rule (`torch.optim.Adagrad`, `foreach=False`, as in
 * torch 1.13). Per element, `t` the parameter's step count from 1:
 *
 * ```text
 * g ← −g                                  if maximize
 * g ← g + weightDecay·θ                   (L2, coupled)
 * clr = lr / (1 + (t − 1)·lrDecay)
 * s ← s + g²                              (s starts at initialAccumulatorValue)
 * θ ← θ − clr · g / (√s + eps)
 * ```
 *
 * Defaults: `lr 1e-2, lrDecay 0, weightDecay 0, initialAccumulatorValue 0, eps 1e-10,
 * maximize false`. The per-element rule is written once, {@link adagradRule}, as a map kernel
 * every backend runs with the same bits.
 */
import { foreachMap, mapKernel, type MapKernel } from "@tapegrad/tensor";
import { checkHypers, type HyperRules, checkFlag } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import { cachedKernel } from "./optimizer-util.js";
import { bucketLists } from "./buckets.js";
import type { ParamState, StateSpec } from "./state-dict.js";

const adagradKernels = new Map<string, MapKernel>();

/**
 * The Adagrad rule of the file comment as a map kernel, over `p`, `g`, `s` (the running sum of
 * squares), with the scalars `[clr, weightDecay, sign, eps]`; `decay` selects the L2 term.
 *
 * @throws {TypeError} when `decay` is not a boolean.
 * @example
 * ```ts
 * foreachMap(adagradRule(false), [values, grads, sums], [0.01, 0, 1, 1e-10]);
 * ```
 */
export function adagradRule(decay: boolean): MapKernel {
  checkFlag("adagradRule", "decay", decay);
  const key = `${+decay}`;
  return cachedKernel(adagradKernels, key, () => mapKernel(`adagrad${key}`, { arrays: ["p", "g", "s"], scalars: ["clr", "wd", "sign", "eps"] }, ({ p, g: grad, s }, h) => {
    let g = h.sign.mul(grad); // g ← −g to maximize (exact)
    if (decay) g = g.add(h.wd.mul(p)).f32(); // g ← g + λθ
    const s1 = s.add(g.mul(g)).f32(); // s ← s + g²
    const std = s1.sqrt().f32().add(h.eps).f32(); // √s + eps
    return { p: p.sub(h.clr.mul(g.div(std))), s: s1 }; // θ ← θ − clr·g/(√s + eps)
  }));
}

/** Adagrad hyper-parameters (per parameter group). */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Learning-rate decay: step `t` uses `lr / (1 + (t − 1)·lrDecay)` (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Initial value of the sum of squared gradients (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator (default 1e-10). */
  eps: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * PyTorch's Adagrad defaults.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * ADAGRAD_DEFAULTS.eps; // 1e-10
 * ```
 */
export const ADAGRAD_DEFAULTS: Readonly<AdagradOptions> = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };

/** How each Adagrad hyper-parameter is checked. */
const ADAGRAD_RULES: HyperRules<AdagradOptions> = {
  lr: "nonNegative", lrDecay: "nonNegative", weightDecay: "nonNegative", initialAccumulatorValue: "nonNegative", eps: "nonNegative", maximize: "bool",
};

/**
 * Adagrad (Duchi et al. 2011), PyTorch-exact. State per parameter: `step`, `sum` (created at the
 * parameter's first step, filled with its group's `initialAccumulatorValue`).
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new Adagrad(model.parameters(), { lr: 0.1, lrDecay: 1e-3, clip: clipGradNorm.transform(1) });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  /**
   * @throws {RangeError} for negative (or infinite) `lr`, `lrDecay`, `weightDecay`,
   * `initialAccumulatorValue` or `eps`; {TypeError} for wrongly typed or unknown options.
   * @example
   * ```ts
   * const opt = new Adagrad(params, { lr: 0.1, initialAccumulatorValue: 0.1 });
   * ```
   */
  constructor(params: ParamsInput<AdagradOptions>, options: Partial<AdagradOptions> & OptimizerConfig = {}) {
    super("Adagrad", params, { ...ADAGRAD_DEFAULTS }, options);
  }

  protected checkHyper(h: AdagradOptions, where: string): void {
    checkHypers(`Adagrad${where}`, h, ADAGRAD_RULES);
  }

  protected stateSpec(): StateSpec {
    return { counters: ["step"], buffers: ["sum"] };
  }

  protected updateGroup(group: ParamGroup<AdagradOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, lrDecay, weightDecay: wd, initialAccumulatorValue: init, eps, maximize } = group;
    const buckets = bucketLists(values.length, (k) => (states[k]!.step = (states[k]!.step as number) + 1), (k) => {
      const s = states[k]!;
      if (s.sum === null) s.sum = this.stateBuffer(values[k]!.length).fill(init);
      return [values[k]!, grads[k]!, s.sum as Float32Array];
    });
    const kernel = adagradRule(wd !== 0);
    for (const [t, lists] of buckets) foreachMap(kernel, lists, [lr / (1 + (t - 1) * lrDecay), wd, maximize ? -1 : 1, eps]);
  }
}
