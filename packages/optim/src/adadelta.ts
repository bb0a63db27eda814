/**
 * @file Adadelta with PyTorch's exact update rule (`torch.optim.Adadelta`, `foreach=False`, as in
 * torch 1.13). Per element:
 *
 * ```text
 * g ← −g                                  if maximize
 * g ← g + weightDecay·θ                   (L2, coupled)
 * v ← ρ·v + (1 − ρ)·g²                    (squareAvg)
 * δ = √(u + eps) / √(v + eps) · g         (eps inside both roots)
 * u ← ρ·u + (1 − ρ)·δ²                    (accDelta, from the un-scaled δ)
 * θ ← θ − lr·δ
 * ```
 *
 * Defaults: `lr 1.0, rho 0.9, eps 1e-6, weightDecay 0, maximize false`. The per-element rule is
 * written once, {@link adadeltaRule}, as a map kernel every backend runs with the same bits.
 */
import { foreachMap, mapKernel, type MapKernel } from "@tapegrad/tensor";
import { checkHypers, type HyperRules, checkFlag } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import { cachedKernel } from "./optimizer-util.js";
import type { ParamState, StateSpec } from "./state-dict.js";

const adadeltaKernels = new Map<string, MapKernel>();

/**
 * The Adadelta rule of the file comment as a map kernel, over `p`, `g`, `v` (squareAvg), `u`
 * (accDelta), with the scalars `[lr, ρ, 1 − ρ, eps, weightDecay, sign]`; `decay` selects the L2
 * term.
 *
 * @throws {TypeError} when `decay` is not a boolean.
 * @example
 * ```ts
 * foreachMap(adadeltaRule(false), [values, grads, squareAvgs, accDeltas], [1, 0.9, 0.1, 1e-6, 0, 1]);
 * ```
 */
export function adadeltaRule(decay: boolean): MapKernel {
  checkFlag("adadeltaRule", "decay", decay);
  const key = `${+decay}`;
  const spec = { arrays: ["p", "g", "v", "u"], scalars: ["lr", "rho", "c", "eps", "wd", "sign"] } as const;
  return cachedKernel(adadeltaKernels, key, () => mapKernel(`adadelta${key}`, spec, ({ p, g: grad, v, u }, h) => {
    let g = h.sign.mul(grad); // g ← −g to maximize (exact)
    if (decay) g = g.add(h.wd.mul(p)).f32(); // g ← g + λθ
    const v1 = v.mul(h.rho).f32().add(h.c.mul(g).mul(g)).f32(); // v ← ρv + (1 − ρ)g²
    const std = v1.add(h.eps).f32().sqrt().f32(); // √(v + eps)
    const delta = u.add(h.eps).f32().sqrt().f32().div(std).f32().mul(g).f32(); // δ = √(u + eps)/√(v + eps)·g
    const u1 = u.mul(h.rho).f32().add(h.c.mul(delta).mul(delta)).f32(); // u ← ρu + (1 − ρ)δ²
    return { p: p.sub(h.lr.mul(delta)), v: v1, u: u1 }; // θ ← θ − lr·δ
  }));
}

/** Adadelta hyper-parameters (per parameter group). */
export interface AdadeltaOptions {
  /** Scale of the step δ (default 1.0, PyTorch's). */
  lr: number;
  /** Decay rate of both running averages, in [0, 1] (default 0.9). */
  rho: number;
  /** Added inside both square roots (default 1e-6). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * PyTorch's Adadelta defaults.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * ADADELTA_DEFAULTS.lr; // 1
 * ```
 */
export const ADADELTA_DEFAULTS: Readonly<AdadeltaOptions> = { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false };

/** How each Adadelta hyper-parameter is checked. */
const ADADELTA_RULES: HyperRules<AdadeltaOptions> = { lr: "nonNegative", rho: [0, 1], eps: "nonNegative", weightDecay: "nonNegative", maximize: "bool" };

/**
 * Adadelta (Zeiler 2012), PyTorch-exact. State per parameter: `step`, `squareAvg`, `accDelta`.
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new Adadelta(model.parameters(), { rho: 0.95, clip: clipGradValue.transform(1) });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class Adadelta extends Optimizer<AdadeltaOptions> {
  /**
   * @throws {RangeError} for negative (or infinite) `lr`, `eps` or `weightDecay`, or `rho`
   * outside [0, 1]; {TypeError} for wrongly typed or unknown options.
   * @example
   * ```ts
   * const opt = new Adadelta(params, { lr: 0.5, rho: 0.9 });
   * ```
   */
  constructor(params: ParamsInput<AdadeltaOptions>, options: Partial<AdadeltaOptions> & OptimizerConfig = {}) {
    super("Adadelta", params, { ...ADADELTA_DEFAULTS }, options);
  }

  protected checkHyper(h: AdadeltaOptions, where: string): void {
    checkHypers(`Adadelta${where}`, h, ADADELTA_RULES);
  }

  protected stateSpec(): StateSpec {
    return { counters: ["step"], buffers: ["squareAvg", "accDelta"] };
  }

  protected updateGroup(group: ParamGroup<AdadeltaOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, rho, eps, weightDecay: wd, maximize } = group;
    const lists: Float32Array[][] = [values, grads, [], []];
    states.forEach((s, k) => {
      const n = values[k]!.length;
      s.step = (s.step as number) + 1;
      lists[2]!.push(this.bufferOf(s, "squareAvg", n));
      lists[3]!.push(this.bufferOf(s, "accDelta", n));
    });
    foreachMap(adadeltaRule(wd !== 0), lists, [lr, rho, 1 - rho, eps, wd, maximize ? -1 : 1]);
  }
}
