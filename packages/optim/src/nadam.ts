/**
 * @file NAdam with PyTorch's exact update rule (`torch.optim.NAdam`: torch ≥ 2.0's formula, which
 * torch 1.13 computes with `foreach=True`; 1.13's single-tensor path had a bug in the last
 * denominator, fixed by pytorch/pytorch#92699). Per element, `t` the parameter's step count from 1:
 *
 * ```text
 * g ← −g                                   if maximize
 * θ ← θ·(1 − lr·weightDecay)               if decoupledWeightDecay (NAdamW, torch ≥ 2.1)
 * g ← g + weightDecay·θ                    otherwise (L2, coupled)
 * μ_t = β1·(1 − ½·0.96^(t·momentumDecay)),  μ_{t+1} likewise
 * Π ← Π·μ_t                                (muProduct, a float32 per parameter, starts at 1)
 * m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g²
 * denom = √v / √(1 − β2^t) + eps
 * θ ← θ − lr·(1 − μ_t)/(1 − Π) · g/denom − lr·μ_{t+1}/(1 − Π·μ_{t+1}) · m/denom
 * ```
 *
 * Defaults: `lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0, momentumDecay 4e-3,
 * decoupledWeightDecay false, maximize false`. The step sizes are computed in float64, as PyTorch
 * does in Python floats. The per-element rule is written once, {@link nadamRule}, as a map kernel
 * every backend runs with the same bits.
 */
import { foreachMap, mapKernel, type MapKernel } from "@tapegrad/tensor";
import { checkHypers, type HyperRules, checkFlags } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import { cachedKernel } from "./optimizer-util.js";
import { bucketLists } from "./buckets.js";
import { checkBetas } from "./adam.js";
import type { ParamState, StateSpec } from "./state-dict.js";

/** Which terms of the NAdam rule a group uses (one compiled kernel each). */
export interface NadamConfig {
  /** Weight decay ≠ 0, coupled (L2): `g ← g + λθ`. */
  readonly l2: boolean;
  /** Weight decay ≠ 0, decoupled: `θ ← θ(1 − lr·λ)`. */
  readonly decoupled: boolean;
}

const nadamKernels = new Map<string, MapKernel>();

/**
 * The NAdam rule of the file comment as a map kernel, over `p`, `g`, `m` (expAvg), `v`
 * (expAvgSq), with the scalars `[gradStep = lr(1 − μ_t)/(1 − Π), avgStep = lr·μ_{t+1}/(1 − Π·μ_{t+1}),
 * β1, 1 − β1, β2, 1 − β2, √(1 − β2^t), eps, λ, decay = 1 − lr·λ, sign]`.
 *
 * @throws {TypeError} for a config that is not an object of boolean flags.
 * @example
 * ```ts
 * const k = nadamRule({ l2: false, decoupled: false });
 * ```
 */
export function nadamRule(c: NadamConfig): MapKernel {
  checkFlags("nadamRule", c, ["l2", "decoupled"]);
  const key = `${+c.l2}${+c.decoupled}`;
  const spec = { arrays: ["p", "g", "m", "v"], scalars: ["gradStep", "avgStep", "b1", "c1", "b2", "c2", "bc2Sqrt", "eps", "wd", "decay", "sign"] } as const;
  return cachedKernel(nadamKernels, key, () => mapKernel(`nadam${key}`, spec, ({ p: p0, g: grad, m, v }, h) => {
    const p = c.decoupled ? p0.mul(h.decay).f32() : p0; // θ ← θ(1 − lr·λ) (decoupled)
    let g = h.sign.mul(grad); // g ← −g to maximize (exact)
    if (c.l2) g = g.add(h.wd.mul(p)).f32(); // g ← g + λθ
    const m1 = m.mul(h.b1).f32().add(h.c1.mul(g)).f32(); // m ← β1·m + (1 − β1)·g
    const v1 = v.mul(h.b2).f32().add(h.c2.mul(g).mul(g)).f32(); // v ← β2·v + (1 − β2)·g²
    const denom = v1.sqrt().f32().div(h.bc2Sqrt).f32().add(h.eps).f32(); // √v/√(1 − β2^t) + eps
    const p1 = p.sub(h.gradStep.mul(g.div(denom))).f32(); // θ − lr(1 − μ_t)/(1 − Π)·g/denom
    return { p: p1.sub(h.avgStep.mul(m1.div(denom))), m: m1, v: v1 }; // … − lr·μ_{t+1}/(1 − Π·μ_{t+1})·m/denom
  }));
}

/** NAdam hyper-parameters (per parameter group). */
export interface NAdamOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** Decay rates of the first and second moment, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Weight decay λ: L2 penalty, or decoupled with `decoupledWeightDecay` (default 0). */
  weightDecay: number;
  /** ψ of the momentum schedule `μ_t = β1(1 − ½·0.96^(tψ))` (default 4e-3). */
  momentumDecay: number;
  /** Decoupled weight decay `θ ← θ(1 − lr·λ)` (NAdamW, torch ≥ 2.1; default false). */
  decoupledWeightDecay: boolean;
  /** Maximize the objective instead of minimizing it (torch ≥ 2.0; default false). */
  maximize: boolean;
}

/**
 * PyTorch's NAdam defaults.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * NADAM_DEFAULTS.momentumDecay; // 0.004
 * ```
 */
export const NADAM_DEFAULTS: Readonly<NAdamOptions> = {
  lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false, maximize: false,
};

/** How each NAdam hyper-parameter is checked. */
const NADAM_RULES: HyperRules<NAdamOptions> = {
  lr: "nonNegative", betas: checkBetas, eps: "nonNegative", weightDecay: "nonNegative", momentumDecay: "nonNegative", decoupledWeightDecay: "bool", maximize: "bool",
};

/** `μ_t = β1·(1 − ½·0.96^(t·ψ))`, in float64 as PyTorch computes it. */
function muAt(b1: number, t: number, momentumDecay: number): number {
  return b1 * (1 - 0.5 * Math.pow(0.96, t * momentumDecay));
}

/**
 * NAdam (Dozat 2016: Adam with Nesterov momentum and a momentum schedule), PyTorch-exact. State
 * per parameter: `step`, `muProduct` (a number, the float32 product of the `μ_t`), `expAvg`,
 * `expAvgSq`.
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new NAdam(model.parameters(), { lr: 2e-3, momentumDecay: 4e-3 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class NAdam extends Optimizer<NAdamOptions> {
  /**
   * @throws {RangeError} for negative (or infinite) `lr`, `eps`, `weightDecay` or
   * `momentumDecay`, or betas outside [0, 1); {TypeError} for wrongly typed or unknown options.
   * @example
   * ```ts
   * const opt = new NAdam(params, { lr: 1e-3, weightDecay: 1e-2, decoupledWeightDecay: true });
   * ```
   */
  constructor(params: ParamsInput<NAdamOptions>, options: Partial<NAdamOptions> & OptimizerConfig = {}) {
    super("NAdam", params, { ...NADAM_DEFAULTS, betas: [NADAM_DEFAULTS.betas[0], NADAM_DEFAULTS.betas[1]] }, options);
  }

  protected checkHyper(h: NAdamOptions, where: string): void {
    checkHypers(`NAdam${where}`, h, NADAM_RULES);
  }

  protected stateSpec(): StateSpec {
    return { counters: ["step"], buffers: ["expAvg", "expAvgSq"], scalars: { muProduct: 1 } };
  }

  protected updateGroup(group: ParamGroup<NAdamOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, eps, weightDecay: wd, momentumDecay: psi, decoupledWeightDecay, maximize } = group;
    const [b1, b2] = group.betas;
    // Step sizes depend on the parameter's step count and μ-product: one call per distinct pair.
    const buckets = bucketLists(values.length, (k) => {
      const s = states[k]!, t = (s.step as number) + 1;
      s.step = t;
      s.muProduct = Math.fround((s.muProduct as number) * muAt(b1, t, psi)); // Π ← Π·μ_t, kept in float32 like torch
      return `${t}:${s.muProduct}`;
    }, (k) => {
      const s = states[k]!, n = values[k]!.length;
      return [values[k]!, grads[k]!, this.bufferOf(s, "expAvg", n), this.bufferOf(s, "expAvgSq", n)];
    });
    const kernel = nadamRule({ l2: wd !== 0 && !decoupledWeightDecay, decoupled: wd !== 0 && decoupledWeightDecay });
    for (const [key, lists] of buckets) {
      const [t, prod] = key.split(":").map(Number) as [number, number];
      const mu = muAt(b1, t, psi), muNext = muAt(b1, t + 1, psi);
      const gradStep = (lr * (1 - mu)) / (1 - prod), avgStep = (lr * muNext) / (1 - prod * muNext);
      foreachMap(kernel, lists, [gradStep, avgStep, b1, 1 - b1, b2, 1 - b2, Math.sqrt(1 - Math.pow(b2, t)), eps, wd, 1 - lr * wd, maximize ? -1 : 1]);
    }
  }
}
