/**
 * @file RMSprop with PyTorch's exact update rule (`torch.optim.RMSprop`, `foreach=False`, as in
 * torch 1.13). Per element:
 *
 * ```text
 * g ← −g                         if maximize
 * g ← g + weightDecay·θ
 * s ← α·s + (1 − α)·g²
 * centered: a ← α·a + (1 − α)·g ;  avg = √(s − a²) + eps      else avg = √s + eps
 * momentum > 0: b ← momentum·b + g/avg ;  θ ← θ − lr·b          else θ ← θ − lr·g/avg
 * ```
 *
 * Defaults: `lr 1e-2, alpha 0.99, eps 1e-8, weightDecay 0, momentum 0, centered false,
 * maximize false`. The momentum buffer starts at 0 (unlike SGD's). The per-element rule is written
 * once, {@link rmspropRule}, as a map kernel every backend runs with the same bits.
 */
import { foreachMap, mapKernel, type MapKernel } from "@tapegrad/tensor";
import { checkHypers, type HyperRules, checkFlags } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import { cachedKernel } from "./optimizer-util.js";
import type { ParamState, StateSpec } from "./state-dict.js";

/** Which terms of the RMSprop rule a group uses (one compiled kernel each). */
export interface RmspropConfig {
  /** Weight decay ≠ 0. */
  readonly decay: boolean;
  /** Centered (a gradient-average buffer `a`). */
  readonly centered: boolean;
  /** Momentum > 0 (a buffer `b`). */
  readonly momentum: boolean;
}

const rmspropKernels = new Map<string, MapKernel>();

/**
 * The RMSprop rule of the file comment as a map kernel for one configuration, over `p`, `g`, `s`
 * (and `a` when centered, `b` with momentum), with the scalars `[lr, α, 1 − α, eps, weightDecay,
 * momentum, sign]`.
 *
 * @throws {TypeError} for a config that is not an object of boolean flags.
 * @example
 * ```ts
 * const k = rmspropRule({ decay: false, centered: true, momentum: false });
 * ```
 */
export function rmspropRule(c: RmspropConfig): MapKernel {
  checkFlags("rmspropRule", c, ["decay", "centered", "momentum"]);
  const key = `${+c.decay}${+c.centered}${+c.momentum}`;
  const arrays = ["p", "g", "s", ...(c.centered ? ["a"] : []), ...(c.momentum ? ["b"] : [])] as ("p" | "g" | "s" | "a" | "b")[];
  return cachedKernel(rmspropKernels, key, () => mapKernel(`rmsprop${key}`, { arrays, scalars: ["lr", "alpha", "c", "eps", "wd", "mu", "sign"] }, ({ p, g: grad, s, a, b }, h) => {
    let g = h.sign.mul(grad); // g ← −g to maximize (exact)
    if (c.decay) g = g.add(h.wd.mul(p)).f32(); // g ← g + λθ
    const s1 = h.alpha.mul(s).f32().add(h.c.mul(g).mul(g)).f32(); // s ← α·s + (1 − α)·g²
    const a1 = c.centered ? h.alpha.mul(a!).f32().add(h.c.mul(g)).f32() : null; // a ← α·a + (1 − α)·g
    const avg = (a1 ? s1.sub(a1.mul(a1)).f32() : s1).sqrt().f32().add(h.eps).f32(); // √(s − a²) + eps or √s + eps
    const b1 = c.momentum ? h.mu.mul(b!).f32().add(g.div(avg)).f32() : null; // b ← μ·b + g/avg
    const out: Partial<Record<"p" | "s" | "a" | "b", typeof g>> = { p: p.sub(h.lr.mul(b1 ?? g.div(avg))), s: s1 }; // θ ← θ − lr·(b or g/avg)
    if (a1) out.a = a1;
    if (b1) out.b = b1;
    return out;
  }));
}

/** RMSprop hyper-parameters (per parameter group). */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average, in [0, 1] (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalize by the estimated variance instead of the second moment. */
  centered: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * PyTorch's RMSprop defaults.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * RMSPROP_DEFAULTS.alpha; // 0.99
 * ```
 */
export const RMSPROP_DEFAULTS: Readonly<RMSpropOptions> = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };

/** How each RMSprop hyper-parameter is checked. */
const RMSPROP_RULES: HyperRules<RMSpropOptions> = {
  lr: "nonNegative", alpha: [0, 1], eps: "nonNegative", weightDecay: "nonNegative", momentum: "nonNegative", centered: "bool", maximize: "bool",
};

/**
 * RMSprop (Hinton's lecture 6e; centered variant of Graves 2013), PyTorch-exact. State per
 * parameter: `step`, `squareAvg` (+ `momentumBuffer`, `gradAvg` when used).
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new RMSprop(params, { lr: 1e-2, momentum: 0.9, centered: true });
 * ```
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  /**
   * @throws {RangeError} for negative `lr`/`eps`/`momentum`/`weightDecay` or `alpha` outside
   * [0, 1]; {TypeError} for wrongly typed or unknown options.
   * @example
   * ```ts
   * const opt = new RMSprop(model.parameters(), { lr: 1e-3, alpha: 0.9 });
   * ```
   */
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> & OptimizerConfig = {}) {
    super("RMSprop", params, { ...RMSPROP_DEFAULTS }, options);
  }

  protected checkHyper(h: RMSpropOptions, where: string): void {
    checkHypers(`RMSprop${where}`, h, RMSPROP_RULES);
  }

  protected stateSpec(): StateSpec {
    return { counters: ["step"], buffers: ["squareAvg", "momentumBuffer", "gradAvg"] };
  }

  protected updateGroup(group: ParamGroup<RMSpropOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, alpha, eps, weightDecay: wd, momentum: mu, centered, maximize } = group;
    const lists: Float32Array[][] = [values, grads, []];
    if (centered) lists.push([]);
    if (mu > 0) lists.push([]);
    states.forEach((s, k) => {
      const n = values[k]!.length;
      s.step = (s.step as number) + 1;
      lists[2]!.push(this.bufferOf(s, "squareAvg", n));
      if (centered) lists[3]!.push(this.bufferOf(s, "gradAvg", n));
      if (mu > 0) lists[lists.length - 1]!.push(this.bufferOf(s, "momentumBuffer", n));
    });
    foreachMap(rmspropRule({ decay: wd !== 0, centered, momentum: mu > 0 }), lists, [lr, alpha, 1 - alpha, eps, wd, mu, maximize ? -1 : 1]);
  }
}
