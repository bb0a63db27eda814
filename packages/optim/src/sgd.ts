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
 * This rule is written once, {@link sgdRule}, as a map kernel that every backend runs (the
 * pure-TS interpreter, or compiled code where parameters live in the kernels' memory) with the
 * same bits.
 * Intermediate results that PyTorch stores as float32 tensors are rounded to float32 (`.f32()`),
 * so trajectories match PyTorch's to a few ulps.
 */
import { foreachMap, mapKernel, type MapKernel } from "@tapegrad/tensor";
import { checkHypers, type HyperRules, checkFlags } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import { cachedKernel } from "./optimizer-util.js";
import type { ParamState, StateSpec } from "./state-dict.js";

/** Which terms of the SGD rule a group uses (one compiled kernel each). */
export interface SgdConfig {
  /** Momentum ≠ 0 (a momentum buffer `b`). */
  readonly momentum: boolean;
  /** The first momentum step (`b ← g`). */
  readonly first: boolean;
  /** Nesterov momentum. */
  readonly nesterov: boolean;
  /** Weight decay ≠ 0. */
  readonly decay: boolean;
  /** Dampening ≠ 0. */
  readonly dampening: boolean;
  /** Maximize (the gradient's sign flipped). */
  readonly maximize: boolean;
}

const sgdKernels = new Map<string, MapKernel>();

/**
 * PyTorch's SGD rule as a map kernel for one configuration, over the arrays `p` (parameter),
 * `g` (gradient) and, with momentum, `b` (momentum buffer), with the scalars
 * `[lr, weightDecay, momentum, 1 − dampening]`.
 *
 * @throws {TypeError} for a config that is not an object of boolean flags.
 * @example
 * ```ts
 * const k = sgdRule({ momentum: true, first: false, nesterov: false, decay: false, dampening: false, maximize: false });
 * foreachMap(k, [values, grads, bufs], [0.1, 0, 0.9, 1]);
 * ```
 */
export function sgdRule(c: SgdConfig): MapKernel {
  checkFlags("sgdRule", c, ["momentum", "first", "nesterov", "decay", "dampening", "maximize"]);
  const key = `${+c.momentum}${+c.first}${+c.nesterov}${+c.decay}${+c.dampening}${+c.maximize}`;
  const arrays = c.momentum ? (["p", "g", "b"] as const) : (["p", "g"] as const);
  return cachedKernel(sgdKernels, key, () => mapKernel(`sgd${key}`, { arrays, scalars: ["lr", "wd", "mu", "keep"] }, ({ p, g: grad, b }, { lr, wd, mu, keep }) => {
    let g = c.maximize ? grad.neg() : grad; // g ← −g to maximize
    if (c.decay) g = g.add(wd.mul(p)).f32(); // g ← g + λθ
    if (!c.momentum) return { p: p.sub(lr.mul(g)) }; // θ ← θ − lr·g
    const b1 = c.first ? g : mu.mul(b!).f32().add(c.dampening ? keep.mul(g) : g).f32(); // b ← μb + (1 − τ)g; b ← g at first
    const d = c.nesterov ? g.add(mu.mul(b1)).f32() : b1; // g + μb with Nesterov, else b
    return { b: b1, p: p.sub(lr.mul(d)) }; // θ ← θ − lr·d
  }));
}

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

/** How each SGD hyper-parameter is checked (the Nesterov condition is checked after these). */
const SGD_RULES: HyperRules<SGDOptions> = {
  lr: "nonNegative", momentum: "nonNegative", dampening: "finite", weightDecay: "nonNegative", nesterov: "bool", maximize: "bool",
};

/**
 * Stochastic gradient descent (optionally with momentum, dampening, Nesterov, weight decay,
 * maximize), PyTorch-exact. State per parameter: `momentumBuffer` (when momentum ≠ 0).
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new SGD([w, b], { lr: 0.1, momentum: 0.9, nesterov: true, clip: clipGradNorm.transform(1) });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  /**
   * @throws {RangeError} for negative `lr`, `momentum` or `weightDecay`, or Nesterov without
   * momentum / with dampening; {TypeError} for wrongly typed or unknown options.
   * @example
   * ```ts
   * const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
   * ```
   */
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & OptimizerConfig = {}) {
    super("SGD", params, { ...SGD_DEFAULTS }, options);
  }

  protected checkHyper(h: SGDOptions, where: string): void {
    const op = `SGD${where}`;
    checkHypers(op, h, SGD_RULES);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new RangeError(`${op}: nesterov requires momentum > 0 and dampening = 0 (got momentum ${h.momentum}, dampening ${h.dampening})`);
    }
  }

  protected stateSpec(): StateSpec {
    return { counters: [], buffers: ["momentumBuffer"] };
  }

  protected updateGroup(group: ParamGroup<SGDOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    const scalars = [lr, weightDecay, momentum, 1 - dampening];
    const config = { momentum: momentum !== 0, nesterov, decay: weightDecay !== 0, dampening: dampening !== 0, maximize };
    if (momentum === 0) return foreachMap(sgdRule({ ...config, first: false }), [values, grads], scalars);
    // Parameters whose momentum buffer starts this step take PyTorch's first-step rule (b ← g).
    const later: Float32Array[][] = [[], [], []], first: Float32Array[][] = [[], [], []];
    states.forEach((s, k) => {
      const to = s.momentumBuffer === null ? first : later;
      to[0]!.push(values[k]!);
      to[1]!.push(grads[k]!);
      to[2]!.push(this.bufferOf(s, "momentumBuffer", values[k]!.length));
    });
    if (later[0]!.length > 0) foreachMap(sgdRule({ ...config, first: false }), later, scalars);
    if (first[0]!.length > 0) foreachMap(sgdRule({ ...config, first: true }), first, scalars);
  }
}
