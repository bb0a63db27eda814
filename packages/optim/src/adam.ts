/**
 * @file Adam and AdamW with PyTorch's exact update rules (`torch.optim.Adam` / `AdamW`,
 * `foreach=False`, as in torch 1.13). Per element, `t` the parameter's step count from 1:
 *
 * ```text
 * g ← −g                                   if maximize
 * θ ← θ·(1 − lr·weightDecay)               AdamW only (decoupled decay, before the step)
 * g ← g + weightDecay·θ                    Adam only (L2, coupled)
 * m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g²
 * v̂ ← amsgrad ? (vmax ← max(vmax, v)) : v
 * denom = √v̂ / √(1 − β2^t) + eps          (epsRoot > 0: √(v̂/(1 − β2^t) + epsRoot) + eps, Optax)
 * θ ← θ − (lr / (1 − β1^t)) · m / denom
 * ```
 *
 * Defaults: `lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0` (AdamW: 1e-2), `amsgrad`,
 * `maximize` false, `epsRoot 0`. Buffers are float32 like PyTorch's; the bias corrections are
 * computed in float64 as PyTorch computes them in Python floats. The per-element rule is written
 * once, {@link adamRule}, as a map kernel every backend runs with the same bits.
 */
import { foreachMap, mapKernel, type MapKernel } from "@tapegrad/tensor";
import { checkHypers, checkRange, fmtValue, type HyperRules, checkFlags } from "./errors.js";
import { Optimizer, type OptimizerConfig, type ParamGroup, type ParamsInput } from "./optimizer.js";
import { cachedKernel } from "./optimizer-util.js";
import type { ParamState, StateSpec } from "./state-dict.js";

/** Which terms of the Adam rule a group uses (one compiled kernel each). */
export interface AdamConfig {
  /** AdamW: decoupled decay `θ ← θ·(1 − lr·λ)`. */
  readonly decoupled: boolean;
  /** Adam with λ ≠ 0: coupled L2 `g ← g + λθ`. */
  readonly l2: boolean;
  /** AMSGrad (a `vmax` buffer). */
  readonly amsgrad: boolean;
  /** Optax's `epsRoot` ≠ 0. */
  readonly epsRoot: boolean;
}

const adamKernels = new Map<string, MapKernel>();

/**
 * The Adam/AdamW rule of the file comment as a map kernel for one configuration, over `p`, `g`,
 * `m`, `v` (and `vmax` with AMSGrad), with the scalars `[stepSize = lr/(1−β1^t), β1, β2, 1−β1,
 * 1−β2, eps, 1−β2^t, √(1−β2^t), decay = 1−lr·λ, λ, sign, epsRoot]`.
 *
 * @throws {TypeError} for a config that is not an object of boolean flags.
 * @example
 * ```ts
 * const k = adamRule({ decoupled: true, l2: false, amsgrad: false, epsRoot: false });
 * ```
 */
export function adamRule(c: AdamConfig): MapKernel {
  checkFlags("adamRule", c, ["decoupled", "l2", "amsgrad", "epsRoot"]);
  const key = `${+c.decoupled}${+c.l2}${+c.amsgrad}${+c.epsRoot}`;
  const arrays = c.amsgrad ? (["p", "g", "m", "v", "vmax"] as const) : (["p", "g", "m", "v"] as const);
  const scalars = ["stepSize", "b1", "b2", "c1", "c2", "eps", "bc2", "bc2Sqrt", "decay", "l2", "sign", "epsRoot"] as const;
  return cachedKernel(adamKernels, key, () => mapKernel(`adam${key}`, { arrays, scalars }, ({ p: p0, g: grad, m, v, vmax }, s) => {
    const p = c.decoupled ? p0.mul(s.decay).f32() : p0; // θ ← θ(1 − lr·λ) (AdamW)
    let g = s.sign.mul(grad); // g ← −g to maximize (exact)
    if (c.l2) g = g.add(s.l2.mul(p)).f32(); // g ← g + λθ (Adam)
    const m1 = m.mul(s.b1).f32().add(s.c1.mul(g)).f32(); // m ← β1·m + (1 − β1)·g
    const v1 = v.mul(s.b2).f32().add(s.c2.mul(g).mul(g)).f32(); // v ← β2·v + (1 − β2)·g²
    const vh = c.amsgrad ? vmax!.max(v1) : v1; // AMSGrad: running max (NaN propagates)
    // √(v̂/(1−β2^t)) + eps, as PyTorch rounds it (or Optax's √(v̂/(1−β2^t) + epsRoot) + eps)
    const denom = c.epsRoot ? vh.div(s.bc2).add(s.epsRoot).sqrt().add(s.eps) : vh.sqrt().div(s.bc2Sqrt).f32().add(s.eps).f32();
    const out = { p: p.sub(s.stepSize.mul(m1.div(denom))), m: m1, v: v1 }; // θ ← θ − lr/(1−β1^t)·m/denom
    return c.amsgrad ? { ...out, vmax: vh } : out;
  }));
}

/** Adam/AdamW hyper-parameters (per parameter group). */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient; AdamW: decoupled decay rate (default 0 / 1e-2). */
  weightDecay: number;
  /** Use the running maximum of the second moment (AMSGrad). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
  /** Optax's `eps_root`, added inside the square root (default 0 = PyTorch). */
  epsRoot: number;
}

/**
 * PyTorch's Adam defaults.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * new Adam(params, { ...ADAM_DEFAULTS, lr: 0.01 });
 * ```
 */
export const ADAM_DEFAULTS: Readonly<AdamOptions> = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, epsRoot: 0 };
/**
 * PyTorch's AdamW defaults (`weightDecay` 1e-2).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * ADAMW_DEFAULTS.weightDecay; // 0.01
 * ```
 */
export const ADAMW_DEFAULTS: Readonly<AdamOptions> = { ...ADAM_DEFAULTS, weightDecay: 1e-2 };

/**
 * Checks two decay rates, each in [0, 1) (the `betas` of the Adam family).
 *
 * @throws {TypeError} unless an array of two numbers; {RangeError} for a rate outside [0, 1).
 * @example
 * ```ts
 * checkBetas("Adam", "betas", [0.9, 1]); // throws "Adam: betas[1] must be in [0, 1) (got 1)"
 * ```
 */
export function checkBetas(op: string, name: string, v: unknown): void {
  if (!Array.isArray(v) || v.length !== 2) throw new TypeError(`${op}: ${name} must be an array of two numbers (got ${fmtValue(v)})`);
  checkRange(op, `${name}[0]`, v[0], 0, 1, { hiOpen: true });
  checkRange(op, `${name}[1]`, v[1], 0, 1, { hiOpen: true });
}

/** How each Adam/AdamW hyper-parameter is checked. */
const ADAM_RULES: HyperRules<AdamOptions> = {
  lr: "nonNegative", betas: checkBetas, eps: "nonNegative", weightDecay: "nonNegative", amsgrad: "bool", maximize: "bool", epsRoot: "nonNegative",
};

/**
 * The shared Adam/AdamW implementation (exported for subclassing; use {@link Adam} or
 * {@link AdamW}).
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters (see {@link Adam}).
 * @example
 * ```ts
 * class MyAdam extends AdamCore { constructor(p: Var[]) { super("MyAdam", p, ADAM_DEFAULTS, {}); } }
 * ```
 */
export abstract class AdamCore extends Optimizer<AdamOptions> {
  /** True for AdamW: weight decay multiplies the parameter instead of adding to the gradient. */
  protected abstract get decoupled(): boolean;

  /** @throws as {@link Adam}. */
  protected constructor(name: string, params: ParamsInput<AdamOptions>, defaults: Readonly<AdamOptions>, options: Partial<AdamOptions> & OptimizerConfig) {
    super(name, params, { ...defaults, betas: [defaults.betas[0], defaults.betas[1]] }, options);
  }

  protected checkHyper(h: AdamOptions, where: string): void {
    checkHypers(`${this.name}${where}`, h, ADAM_RULES);
  }

  protected stateSpec(): StateSpec {
    return { counters: ["step"], buffers: ["expAvg", "expAvgSq", "maxExpAvgSq"] };
  }

  protected updateGroup(group: ParamGroup<AdamOptions>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void {
    const { lr, eps, weightDecay: wd, amsgrad, maximize, epsRoot } = group;
    const [b1, b2] = group.betas;
    const kernel = adamRule({ decoupled: this.decoupled, l2: !this.decoupled && wd !== 0, amsgrad, epsRoot: epsRoot !== 0 });
    // Bias corrections depend on each parameter's own step count: one call per distinct count.
    const byStep = new Map<number, Float32Array[][]>();
    states.forEach((s, k) => {
      const t = (s.step as number) + 1;
      s.step = t;
      const n = values[k]!.length;
      let lists = byStep.get(t);
      if (!lists) byStep.set(t, (lists = amsgrad ? [[], [], [], [], []] : [[], [], [], []]));
      lists[0]!.push(values[k]!);
      lists[1]!.push(grads[k]!);
      lists[2]!.push(this.bufferOf(s, "expAvg", n));
      lists[3]!.push(this.bufferOf(s, "expAvgSq", n));
      if (amsgrad) lists[4]!.push(this.bufferOf(s, "maxExpAvgSq", n));
    });
    for (const [t, lists] of byStep) {
      const bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
      const decay = this.decoupled ? 1 - lr * wd : 1;
      foreachMap(kernel, lists, [lr / bc1, b1, b2, 1 - b1, 1 - b2, eps, bc2, Math.sqrt(bc2), decay, this.decoupled ? 0 : wd, maximize ? -1 : 1, epsRoot]);
    }
  }
}

/**
 * Adam (Kingma & Ba 2015) with coupled L2 weight decay, PyTorch-exact. State per parameter:
 * `step`, `expAvg`, `expAvgSq` (+ `maxExpAvgSq` with amsgrad).
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid parameters or hyper-parameters; {NonFiniteGradientError} from `step()` under the `"error"`/`"skip"` policies.
 * @example
 * ```ts
 * const opt = new Adam(model.parameters(), { lr: 1e-3, betas: [0.9, 0.999], clip: clipGradNorm.transform(1) });
 * ```
 */
export class Adam extends AdamCore {
  protected get decoupled(): boolean {
    return false;
  }

  /**
   * @throws {RangeError} for negative `lr`/`eps`/`weightDecay`/`epsRoot` or betas outside
   * [0, 1); {TypeError} for wrongly typed or unknown options.
   * @example
   * ```ts
   * const opt = new Adam(model.parameters(), { lr: 1e-3, amsgrad: true });
   * ```
   */
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> & OptimizerConfig = {}) {
    super("Adam", params, ADAM_DEFAULTS, options);
  }
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay `θ ← θ(1 − lr·λ)` applied
 * before the Adam step, PyTorch-exact (default `weightDecay` 1e-2).
 *
 * @throws as {@link Adam}.
 * @example
 * ```ts
 * const opt = new AdamW(params, { lr: 3e-4, weightDecay: 0.1, clip: new ZClip() });
 * ```
 */
export class AdamW extends AdamCore {
  protected get decoupled(): boolean {
    return true;
  }

  /**
   * @throws as {@link Adam}.
   * @example
   * ```ts
   * const opt = new AdamW(model.parameters(), { lr: 3e-4 }); // weightDecay 1e-2 by default
   * ```
   */
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> & OptimizerConfig = {}) {
    super("AdamW", params, ADAMW_DEFAULTS, options);
  }
}
