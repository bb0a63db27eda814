/**
 * @file Stochastic gradient descent with PyTorch's exact update rule (`torch.optim.SGD`,
 * `foreach=False`, as in torch 1.13): per element, with `g` the (clipped) gradient,
 *
 * ```text
 * g ← −g                          if maximize
 * g ← g + weightDecay·θ           (L2, coupled)
 * b ← g                           at the first momentum step (no dampening on it)
 * b ← momentum·b + (1 − dampening)·g   later
 * g ← nesterov ? g + momentum·b : b    (when momentum ≠ 0)
 * θ ← θ − lr·g
 * ```
 *
 * Intermediate results that PyTorch stores as float32 tensors are rounded to float32
 * (`Math.fround`), so trajectories match PyTorch's to a few ulps. The loops live in
 * update-kernels.ts, one per configuration.
 */
import { checkBool, checkFinite, checkNonNegative } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import type { ParamState, StateSpec } from "./state-dict.js";
import { sgdMomentum, sgdMomentumFirst, sgdPlain } from "./update-kernels.js";
import { foreachSgdStep } from "@tapegrad/tensor";

/** SGD hyper-parameters (per parameter group). */
export interface SGDOptions {
  /** Learning rate (default 1e-3, PyTorch ≥ 2.2). */
  lr: number;
  /** Momentum factor μ (default 0). */
  momentum: number;
  /** Dampening τ of the momentum (default 0). */
  dampening: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * PyTorch's SGD defaults.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * SGD_DEFAULTS.lr; // 0.001
 * ```
 */
export const SGD_DEFAULTS: Readonly<SGDOptions> = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

/**
 * Stochastic gradient descent (optionally with momentum, dampening, Nesterov, weight decay,
 * maximize), PyTorch-exact. State per parameter: `momentumBuffer` (when momentum ≠ 0).
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new SGD([w, b], { lr: 0.1, momentum: 0.9, nesterov: true, clip: clipByGlobalNorm(1) });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  /**
   * @throws {RangeError} for negative `lr`, `momentum` or `weightDecay`, or Nesterov without
   * momentum / with dampening; {TypeError} for wrongly typed or unknown options.
   */
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & OptimizerConfig = {}) {
    super("SGD", params, { ...SGD_DEFAULTS }, options);
  }

  protected checkHyper(h: SGDOptions, where: string): void {
    const op = `SGD${where}`;
    checkNonNegative(op, "lr", h.lr);
    checkNonNegative(op, "momentum", h.momentum);
    checkFinite(op, "dampening", h.dampening);
    checkNonNegative(op, "weightDecay", h.weightDecay);
    checkBool(op, "nesterov", h.nesterov);
    checkBool(op, "maximize", h.maximize);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new RangeError(`${op}: nesterov requires momentum > 0 and dampening = 0 (got momentum ${h.momentum}, dampening ${h.dampening})`);
    }
  }

  protected stateSpec(): StateSpec {
    return { counters: [], buffers: ["momentumBuffer"] };
  }

  protected updateParam(group: ParamGroup<SGDOptions>, value: Float32Array, grad: Float32Array, state: ParamState): void {
    const { lr, momentum: mu, dampening, weightDecay: wd, nesterov, maximize } = group;
    const sign = maximize ? -1 : 1;
    if (mu === 0) return sgdPlain(value, grad, lr, sign, wd);
    const buf = state.momentumBuffer as Float32Array | null;
    if (buf === null) sgdMomentumFirst(value, grad, (state.momentumBuffer = this.heapState.alloc(value)), lr, mu, sign, wd, nesterov);
    else sgdMomentum(value, grad, buf, lr, mu, 1 - dampening, sign, wd, nesterov);
  }

  /**
   * The same update for a group of resident parameters, by `foreachSgdStep` (wasm, in place, the
   * same float32 roundings as the loops above): one call for the parameters whose momentum
   * buffer exists and one for first steps.
   */
  protected override updateResident(group: ParamGroup<SGDOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    const hyper = { lr, momentum, dampening, weightDecay, nesterov, maximize };
    if (momentum === 0) return foreachSgdStep(values, grads, null, hyper);
    const later: [Float32Array[], Float32Array[], Float32Array[]] = [[], [], []];
    const first: [Float32Array[], Float32Array[], Float32Array[]] = [[], [], []];
    for (let k = 0; k < values.length; k++) {
      const s = states[k]!, v = values[k]!;
      const buf = s.momentumBuffer as Float32Array | null;
      const to = buf === null ? first : later;
      to[0].push(v);
      to[1].push(grads[k]!);
      to[2].push((s.momentumBuffer = buf === null ? this.heapState.alloc(v) : this.heapState.resident(buf, v)));
    }
    if (later[0].length > 0) foreachSgdStep(later[0], later[1], later[2], hyper);
    if (first[0].length > 0) foreachSgdStep(first[0], first[1], first[2], { ...hyper, firstStep: true });
  }
}
