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
 * maximize false`. The momentum buffer starts at 0 (unlike SGD's).
 */
import { checkBool, checkNonNegative, checkRange } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import type { ParamState, StateSpec } from "./state-dict.js";
import { rmspropUpdate } from "./update-kernels.js";

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
   */
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> & OptimizerConfig = {}) {
    super("RMSprop", params, { ...RMSPROP_DEFAULTS }, options);
  }

  protected checkHyper(h: RMSpropOptions, where: string): void {
    const op = `RMSprop${where}`;
    checkNonNegative(op, "lr", h.lr);
    checkRange(op, "alpha", h.alpha, 0, 1);
    checkNonNegative(op, "eps", h.eps);
    checkNonNegative(op, "weightDecay", h.weightDecay);
    checkNonNegative(op, "momentum", h.momentum);
    checkBool(op, "centered", h.centered);
    checkBool(op, "maximize", h.maximize);
  }

  protected stateSpec(): StateSpec {
    return { counters: ["step"], buffers: ["squareAvg", "momentumBuffer", "gradAvg"] };
  }

  protected updateParam(group: ParamGroup<RMSpropOptions>, value: Float32Array, grad: Float32Array, state: ParamState): void {
    const { lr, alpha, eps, weightDecay: wd, momentum: mu, centered, maximize } = group;
    state.step = (state.step as number) + 1;
    const sq = (state.squareAvg as Float32Array | null) ?? (state.squareAvg = this.heapState.alloc(value));
    const ga = centered ? ((state.gradAvg as Float32Array | null) ?? (state.gradAvg = this.heapState.alloc(value))) : null;
    const buf = mu > 0 ? ((state.momentumBuffer as Float32Array | null) ?? (state.momentumBuffer = this.heapState.alloc(value))) : null;
    rmspropUpdate(value, grad, sq, ga, buf, lr, alpha, eps, wd, mu, maximize ? -1 : 1);
  }
}
