/**
 * @file RAdam with PyTorch's exact update rule (`torch.optim.RAdam`, `foreach=False`, as in torch
 * 1.13). Per element, `t` the parameter's step count from 1:
 *
 * ```text
 * g ← −g                                   if maximize
 * θ ← θ·(1 − lr·weightDecay)               if decoupledWeightDecay (torch ≥ 2.1)
 * g ← g + weightDecay·θ                    otherwise (L2, coupled)
 * m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g²
 * ρ∞ = 2/(1 − β2) − 1 ;  ρ_t = ρ∞ − 2t·β2^t/(1 − β2^t)          (float64)
 * ρ_t > 5:  r = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
 *           θ ← θ − (m/(1 − β1^t))·lr·(√(1 − β2^t)/(√v + eps))·r     (rectified)
 * else:     θ ← θ − (m/(1 − β1^t))·lr                                (un-rectified: SGD with momentum)
 * ```
 *
 * Steps 1-5 are never rectified (`ρ_t < t`); with `β2 ≤ 0.6` (`ρ∞ ≤ 4`) no step is. Defaults:
 * `lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0, decoupledWeightDecay false, maximize
 * false`. The per-element rule is written once, {@link radamRule}, as a map kernel (one per
 * branch) every backend runs with the same bits.
 */
import { foreachMap, mapKernel, type MapKernel } from "@tapegrad/tensor";
import { checkHypers, type HyperRules, checkFlags } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import { cachedKernel } from "./optimizer-util.js";
import { bucketLists } from "./buckets.js";
import { checkBetas } from "./adam.js";
import type { ParamState, StateSpec } from "./state-dict.js";

/** Which terms of the RAdam rule a step uses (one compiled kernel each). */
export interface RadamConfig {
  /** Weight decay ≠ 0, coupled (L2): `g ← g + λθ`. */
  readonly l2: boolean;
  /** Weight decay ≠ 0, decoupled: `θ ← θ(1 − lr·λ)`. */
  readonly decoupled: boolean;
  /** The rectified branch (`ρ_t > 5`). */
  readonly rectified: boolean;
}

const radamKernels = new Map<string, MapKernel>();

/**
 * The RAdam rule of the file comment as a map kernel for one configuration, over `p`, `g`, `m`
 * (expAvg), `v` (expAvgSq), with the scalars `[lr, β1, 1 − β1, β2, 1 − β2, 1 − β1^t,
 * √(1 − β2^t), r, eps, λ, decay = 1 − lr·λ, sign]`.
 *
 * @throws {TypeError} for a config that is not an object of boolean flags.
 * @example
 * ```ts
 * const k = radamRule({ l2: false, decoupled: false, rectified: true });
 * ```
 */
export function radamRule(c: RadamConfig): MapKernel {
  checkFlags("radamRule", c, ["l2", "decoupled", "rectified"]);
  const key = `${+c.l2}${+c.decoupled}${+c.rectified}`;
  const spec = { arrays: ["p", "g", "m", "v"], scalars: ["lr", "b1", "c1", "b2", "c2", "bc1", "bc2Sqrt", "rect", "eps", "wd", "decay", "sign"] } as const;
  return cachedKernel(radamKernels, key, () => mapKernel(`radam${key}`, spec, ({ p: p0, g: grad, m, v }, h) => {
    const p = c.decoupled ? p0.mul(h.decay).f32() : p0; // θ ← θ(1 − lr·λ) (decoupled)
    let g = h.sign.mul(grad); // g ← −g to maximize (exact)
    if (c.l2) g = g.add(h.wd.mul(p)).f32(); // g ← g + λθ
    const m1 = m.mul(h.b1).f32().add(h.c1.mul(g)).f32(); // m ← β1·m + (1 − β1)·g
    const v1 = v.mul(h.b2).f32().add(h.c2.mul(g).mul(g)).f32(); // v ← β2·v + (1 − β2)·g²
    const step = m1.div(h.bc1).f32().mul(h.lr).f32(); // m/(1 − β1^t)·lr
    if (!c.rectified) return { p: p.sub(step), m: m1, v: v1 }; // θ ← θ − lr·m̂
    const adaptive = h.bc2Sqrt.div(v1.sqrt().f32().add(h.eps).f32()).f32(); // √(1 − β2^t)/(√v + eps)
    return { p: p.sub(step.mul(adaptive).f32().mul(h.rect).f32()), m: m1, v: v1 }; // θ ← θ − lr·m̂·adaptive·r
  }));
}

/** RAdam hyper-parameters (per parameter group). */
export interface RAdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Weight decay λ: L2 penalty, or decoupled with `decoupledWeightDecay` (default 0). */
  weightDecay: number;
  /** Decoupled weight decay `θ ← θ(1 − lr·λ)` (torch ≥ 2.1; default false). */
  decoupledWeightDecay: boolean;
  /** Maximize the objective instead of minimizing it (torch ≥ 2.0; default false). */
  maximize: boolean;
}

/**
 * PyTorch's RAdam defaults.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * RADAM_DEFAULTS.lr; // 0.001
 * ```
 */
export const RADAM_DEFAULTS: Readonly<RAdamOptions> = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, maximize: false };

/** How each RAdam hyper-parameter is checked. */
const RADAM_RULES: HyperRules<RAdamOptions> = {
  lr: "nonNegative", betas: checkBetas, eps: "nonNegative", weightDecay: "nonNegative", decoupledWeightDecay: "bool", maximize: "bool",
};

/**
 * The rectification term of RAdam at step `t` for `β2`, or `null` when the step is un-rectified
 * (`ρ_t ≤ 5`), in float64 as PyTorch computes it.
 *
 * @throws {RangeError} for a `b2` outside [0, 1) or a step that is not a positive integer.
 * @example
 * ```ts
 * radamRectification(0.999, 5); // null (ρ_5 ≈ 4.996)
 * radamRectification(0.999, 6); // ≈ 0.0527 (ρ_6 ≈ 5.994)
 * ```
 */
export function radamRectification(b2: number, t: number): number | null {
  if (typeof b2 !== "number" || !(b2 >= 0 && b2 < 1)) throw new RangeError(`radamRectification: beta2 must be in [0, 1) (got ${String(b2)})`);
  if (!Number.isInteger(t) || t < 1) throw new RangeError(`radamRectification: step must be a positive integer (got ${String(t)})`);
  const bc2 = 1 - Math.pow(b2, t);
  const rhoInf = 2 / (1 - b2) - 1;
  const rhoT = rhoInf - (2 * t * Math.pow(b2, t)) / bc2;
  if (!(rhoT > 5)) return null;
  return Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
}

/**
 * RAdam (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond"),
 * PyTorch-exact. State per parameter: `step`, `expAvg`, `expAvgSq`.
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new RAdam(model.parameters(), { lr: 1e-3 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class RAdam extends Optimizer<RAdamOptions> {
  /**
   * @throws {RangeError} for negative (or infinite) `lr`, `eps` or `weightDecay`, or betas outside
   * [0, 1); {TypeError} for wrongly typed or unknown options.
   * @example
   * ```ts
   * const opt = new RAdam(params, { lr: 1e-3, weightDecay: 1e-2, decoupledWeightDecay: true });
   * ```
   */
  constructor(params: ParamsInput<RAdamOptions>, options: Partial<RAdamOptions> & OptimizerConfig = {}) {
    super("RAdam", params, { ...RADAM_DEFAULTS, betas: [RADAM_DEFAULTS.betas[0], RADAM_DEFAULTS.betas[1]] }, options);
  }

  protected checkHyper(h: RAdamOptions, where: string): void {
    checkHypers(`RAdam${where}`, h, RADAM_RULES);
  }

  protected stateSpec(): StateSpec {
    return { counters: ["step"], buffers: ["expAvg", "expAvgSq"] };
  }

  protected updateGroup(group: ParamGroup<RAdamOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, eps, weightDecay: wd, decoupledWeightDecay, maximize } = group;
    const [b1, b2] = group.betas;
    const buckets = bucketLists(values.length, (k) => (states[k]!.step = (states[k]!.step as number) + 1), (k) => {
      const s = states[k]!, n = values[k]!.length;
      return [values[k]!, grads[k]!, this.bufferOf(s, "expAvg", n), this.bufferOf(s, "expAvgSq", n)];
    });
    const config = { l2: wd !== 0 && !decoupledWeightDecay, decoupled: wd !== 0 && decoupledWeightDecay };
    for (const [t, lists] of buckets) {
      const rect = radamRectification(b2, t);
      const scalars = [lr, b1, 1 - b1, b2, 1 - b2, 1 - Math.pow(b1, t), Math.sqrt(1 - Math.pow(b2, t)), rect ?? 0, eps, wd, 1 - lr * wd, maximize ? -1 : 1];
      foreachMap(radamRule({ ...config, rectified: rect !== null }), lists, scalars);
    }
  }
}
