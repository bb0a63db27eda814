/**
 * @file Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2; not
 * in torch), in the operation order of lucidrains/lion-pytorch and with the weight-decay
 * convention of the paper, lion-pytorch (`decoupled_weight_decay=False`) and
 * `optax.lion(weight_decay=...)`. Per element:
 *
 * ```text
 * g ← −g                                   if maximize
 * θ ← θ·(1 − lr·weightDecay)               (decoupled, multiplied by lr, from θ before the update)
 * c = β1·m + (1 − β1)·g
 * θ ← θ − lr·sign(c)                       (sign(±0) = 0, sign(NaN) = NaN)
 * m ← β2·m + (1 − β2)·g
 * ```
 *
 * Defaults: `lr 1e-4, betas [0.9, 0.99], weightDecay 0, maximize false`. The per-element rule is
 * written once, {@link lionRule}, as a map kernel every backend runs with the same bits.
 */
import { foreachMap, mapKernel, type MapKernel } from "@tapegrad/tensor";
import { checkHypers, checkRange, fmtValue, type HyperRules, checkFlag } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import { cachedKernel } from "./optimizer-util.js";
import type { ParamState, StateSpec } from "./state-dict.js";

const lionKernels = new Map<string, MapKernel>();

/**
 * The Lion rule of the file comment as a map kernel, over `p`, `g`, `m` (expAvg), with the
 * scalars `[lr, decay = 1 − lr·λ, β1, 1 − β1, β2, 1 − β2, sign]`; `decay` selects the weight
 * decay term.
 *
 * @throws {TypeError} when `decay` is not a boolean.
 * @example
 * ```ts
 * foreachMap(lionRule(false), [values, grads, expAvgs], [1e-4, 1, 0.9, 0.1, 0.99, 0.01, 1]);
 * ```
 */
export function lionRule(decay: boolean): MapKernel {
  checkFlag("lionRule", "decay", decay);
  const key = `${+decay}`;
  const spec = { arrays: ["p", "g", "m"], scalars: ["lr", "decay", "b1", "c1", "b2", "c2", "sign"] } as const;
  return cachedKernel(lionKernels, key, () => mapKernel(`lion${key}`, spec, ({ p: p0, g: grad, m }, h) => {
    const g = h.sign.mul(grad); // g ← −g to maximize (exact)
    const p = decay ? p0.mul(h.decay).f32() : p0; // θ ← θ(1 − lr·λ)
    const c = m.mul(h.b1).f32().add(h.c1.mul(g)).f32(); // c = β1·m + (1 − β1)·g
    const sgn = c.gt(0).select(1, c.lt(0).select(-1, c)); // sign(c): ±1, c itself for ±0 and NaN
    const m1 = m.mul(h.b2).f32().add(h.c2.mul(g)).f32(); // m ← β2·m + (1 − β2)·g
    return { p: p.sub(h.lr.mul(sgn)), m: m1 }; // θ ← θ − lr·sign(c)
  }));
}

/** Lion hyper-parameters (per parameter group). */
export interface LionOptions {
  /** Learning rate (default 1e-4; typically 3-10× smaller than AdamW's). */
  lr: number;
  /** Interpolation factor of the update direction and decay rate of the momentum, each in [0, 1] (default [0.9, 0.99]). */
  betas: readonly [number, number];
  /** Decoupled weight decay λ, applied as `θ ← θ(1 − lr·λ)` (default 0). */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * The Lion paper's defaults (as lion-pytorch and optax).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * LION_DEFAULTS.betas; // [0.9, 0.99]
 * ```
 */
export const LION_DEFAULTS: Readonly<LionOptions> = { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false };

/** Two factors, each in [0, 1] (lion-pytorch's check). */
function checkLionBetas(op: string, name: string, v: unknown): void {
  if (!Array.isArray(v) || v.length !== 2) throw new TypeError(`${op}: ${name} must be an array of two numbers (got ${fmtValue(v)})`);
  checkRange(op, `${name}[0]`, v[0], 0, 1);
  checkRange(op, `${name}[1]`, v[1], 0, 1);
}

/** How each Lion hyper-parameter is checked. */
const LION_RULES: HyperRules<LionOptions> = { lr: "nonNegative", betas: checkLionBetas, weightDecay: "nonNegative", maximize: "bool" };

/**
 * Lion (EvoLved Sign Momentum): the sign of an interpolated momentum as the update, with
 * decoupled weight decay. State per parameter: `expAvg` (no step counter, as lion-pytorch).
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new Lion(model.parameters(), { lr: 3e-4, weightDecay: 0.1, clip: clipGradNorm.transform(1) });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class Lion extends Optimizer<LionOptions> {
  /**
   * @throws {RangeError} for negative (or infinite) `lr` or `weightDecay`, or betas outside
   * [0, 1]; {TypeError} for wrongly typed or unknown options.
   * @example
   * ```ts
   * const opt = new Lion(params, { lr: 1e-4, betas: [0.95, 0.98], weightDecay: 1 });
   * ```
   */
  constructor(params: ParamsInput<LionOptions>, options: Partial<LionOptions> & OptimizerConfig = {}) {
    super("Lion", params, { ...LION_DEFAULTS, betas: [LION_DEFAULTS.betas[0], LION_DEFAULTS.betas[1]] }, options);
  }

  protected checkHyper(h: LionOptions, where: string): void {
    checkHypers(`Lion${where}`, h, LION_RULES);
  }

  protected stateSpec(): StateSpec {
    return { counters: [], buffers: ["expAvg"] };
  }

  protected updateGroup(group: ParamGroup<LionOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, weightDecay: wd, maximize } = group;
    const [b1, b2] = group.betas;
    const bufs = states.map((s, k) => this.bufferOf(s, "expAvg", values[k]!.length));
    foreachMap(lionRule(wd !== 0), [values, grads, bufs], [lr, 1 - lr * wd, b1, 1 - b1, b2, 1 - b2, maximize ? -1 : 1]);
  }
}
