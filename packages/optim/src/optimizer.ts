/**
 * @file The `Optimizer` base class: parameter groups with per-group hyper-parameters, the step
 * pipeline with clipping as a first-class stage, hooks, telemetry and state dicts.
 *
 * `step()` runs, in this order:
 * 1. the closure, if one is given (it usually zeroes the gradients, computes the loss and calls
 *    `backward()`);
 * 2. the step pre-hooks, in registration order (they may edit gradients);
 * 3-4. the clipping stage (`clip-stage.ts`): the non-finite policy (`nonFinite`: `"propagate"` |
 *    `"error"` | `"zero"` | `"skip"`), then the transforms of the `clip` option in order, on all
 *    gradients at once;
 * 5. the update of every parameter that has a gradient (skipped when step 3 or a transform asks);
 * 6. telemetry (`lastStats`, opt-in `history`), then the step post-hooks in registration order.
 *
 * Each optimizer's update rule is one map kernel (`@tapegrad/tensor`'s `mapKernel`) run over all
 * parameters of a group at once.
 *
 * Clipping edits gradients in place and updates write `value.data` in place: parameters are
 * autograd leaves whose value and gradient storage they own (see `variable()`); gradients are
 * borrowed (`Var.borrowGrad`), so their storage is reused from step to step. Optimizer state is
 * long-lived storage (`allocate(n, { persistent: true })`), released by {@link Optimizer.dispose}
 * or when the optimizer is garbage-collected.
 */
import { Tensor, allocate, dispose } from "@tapegrad/tensor";
import type { Var, RemovableHandle } from "@tapegrad/autograd";
import { NonFiniteGradientError, checkChoice, checkInt, checkKeys, fmtValue } from "./errors.js";
import { gradView, type GradBatch } from "./params.js";
import { checkGroupParams, cloneHyper, stripParams, toGroups, type ParamGroup, type ParamGroupInput, type ParamsInput } from "./groups.js";
import { addHook, firstBad, gatherParams, toLoss } from "./optimizer-util.js";
import { checkTransform, type GradTransform } from "./transform.js";
import { runClipStage } from "./clip-stage.js";
import { NON_FINITE_POLICIES, type NonFinitePolicy } from "./clip-norm.js";
import { historyLimit, pushHistory, type StepStats } from "./telemetry.js";
import { loadOptimizerState, saveOptimizerState, type OptimizerStateDict, type ParamState, type StateSpec } from "./state-dict.js";

export type { ParamGroup, ParamGroupInput, ParamsInput } from "./groups.js";

/** Optimizer-wide settings (not per parameter group). */
export interface OptimizerConfig {
  /** Gradient transforms applied in order before every update (clipping as an optimizer option). */
  clip?: GradTransform | readonly GradTransform[];
  /** What to do with NaN/±Infinity gradients (default `"propagate"`, PyTorch's behaviour). */
  nonFinite?: NonFinitePolicy;
  /** With skipping, how many consecutive skipped steps are tolerated before `step()` throws (default 10). */
  maxConsecutiveSkips?: number;
  /** Keep `StepStats` of past steps in `history`: `true` (all) or the number to keep (default off). */
  history?: boolean | number;
  /** Compute the gradient norms for `lastStats` every step (default true). */
  telemetry?: boolean;
}

const CONFIG_KEYS = ["clip", "nonFinite", "maxConsecutiveSkips", "history", "telemetry"] as const;

/** Runs before each step (may edit gradients); receives the optimizer it is registered on. */
export type StepPreHook<O = Optimizer> = (optimizer: O) => void;
/** Runs after each step with its telemetry; receives the optimizer it is registered on. */
export type StepPostHook<O = Optimizer> = (optimizer: O, stats: StepStats) => void;

/**
 * Base class of all optimizers. Subclasses provide the defaults, the hyper-parameter checks, the
 * state layout and `updateGroup`, which updates a parameter group's values from their gradients
 * (Float32Arrays) in place.
 *
 * @throws {TypeError} / {RangeError} from the constructor for bad parameters, options or hyper-parameters; {NonFiniteGradientError} from `step()` (see there).
 * @example
 * ```ts
 * const opt = new SGD([{ params: [w] }, { params: [b], lr: 0.01 }], { lr: 0.1, clip: clipGradNorm.transform(1) });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * opt.lastStats; // { preClipNorm, postClipNorm, coef, clipped, ... }
 * ```
 */
export abstract class Optimizer<H extends { lr: number } = { lr: number }> {
  /** Class name, used in messages and state dicts. */
  readonly name: string;
  /** Hyper-parameter defaults of new parameter groups. */
  readonly defaults: Readonly<H>;
  /** The parameter groups; change `lr` (or any hyper-parameter) here between steps. */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state (buffers are Float32Arrays of the parameter's size). */
  readonly state = new Map<Var, ParamState>();
  /** The clip chain: transforms applied in order before each update. */
  readonly transforms: GradTransform[];
  /** Non-finite policy. */
  nonFinite: NonFinitePolicy;
  /** Consecutive skipped steps tolerated before `step()` gives up with an error. */
  maxConsecutiveSkips: number;
  /** Whether gradient norms are computed for telemetry. */
  telemetry: boolean;
  /** Stats of the last step (null before the first). */
  lastStats: StepStats | null = null;
  /** Stats of past steps, oldest first (only with the `history` option). */
  readonly history: StepStats[] = [];
  /** Number of entries `history` keeps (0 = off). */
  historyLimit: number;
  /** Number of completed `step()` calls, skipped ones included. */
  stepCount = 0;
  /** Number of skipped steps in a row. */
  consecutiveSkips = 0;
  // Stored loosely typed: a `this`-typed field would make subclasses unassignable to Optimizer.
  private readonly preHooks: StepPreHook<any>[] = [];
  private readonly postHooks: StepPostHook<any>[] = [];

  /** @throws {TypeError} / {RangeError} for bad parameters, options or hyper-parameters. */
  protected constructor(name: string, params: ParamsInput<H>, defaults: H, options: Partial<H> & OptimizerConfig) {
    this.name = name;
    if (options === null || typeof options !== "object") throw new TypeError(`${name}: options must be an object (got ${fmtValue(options)})`);
    const hyperKeys = Object.keys(defaults);
    checkKeys(name, options, [...hyperKeys, ...CONFIG_KEYS]);
    const merged = { ...defaults } as Record<string, unknown>;
    for (const k of hyperKeys) if ((options as Record<string, unknown>)[k] !== undefined) merged[k] = (options as Record<string, unknown>)[k];
    this.checkHyper(merged as H, "");
    this.defaults = merged as H;
    const clip = options.clip === undefined ? [] : Array.isArray(options.clip) ? options.clip : [options.clip];
    this.transforms = (clip as unknown[]).map((t) => checkTransform(name, t));
    this.nonFinite = checkChoice(name, "nonFinite", options.nonFinite ?? "propagate", NON_FINITE_POLICIES);
    this.maxConsecutiveSkips = checkInt(name, "maxConsecutiveSkips", options.maxConsecutiveSkips ?? 10, 0);
    this.historyLimit = historyLimit(name, options.history);
    if (options.telemetry !== undefined && typeof options.telemetry !== "boolean") throw new TypeError(`${name}: telemetry must be a boolean (got ${fmtValue(options.telemetry)})`);
    this.telemetry = options.telemetry ?? true;
    for (const g of toGroups(name, params)) this.addParamGroup(g);
    if (this.paramGroups.every((g) => g.params.length === 0)) throw new RangeError(`${name}: got an empty parameter list`);
  }

  /** Checks hyper-parameters; `where` is appended to messages (e.g. " (parameter group 1)"). */
  protected abstract checkHyper(h: H, where: string): void;
  /** Names of the per-parameter state fields (counters and Float32Array buffers). */
  protected abstract stateSpec(): StateSpec;
  /**
   * Updates the parameters of one group in place from their (already clipped) gradients:
   * `values[k]`, `grads[k]` and `states[k]` belong to the same parameter.
   */
  protected abstract updateGroup(group: ParamGroup<H>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void;
  /** Set by {@link Optimizer.dispose}. */
  private disposed = false;

  /**
   * Adds a parameter group (e.g. layers unfrozen while fine-tuning); unset hyper-parameters take
   * the optimizer's defaults.
   *
   * @throws {TypeError} for non-Var or non-leaf parameters, unknown keys or optimizer-wide keys;
   * {RangeError} for duplicates or invalid hyper-parameters.
   * @example
   * ```ts
   * opt.addParamGroup({ params: [head.weight], lr: 1e-4 });
   * ```
   */
  addParamGroup(group: ParamGroupInput<H>): void {
    const gi = this.paramGroups.length;
    const params = checkGroupParams(this.name, group, gi, [...CONFIG_KEYS], Object.keys(this.defaults), this.paramGroups);
    const merged = { ...cloneHyper(this.defaults), ...stripParams(group) } as unknown as H;
    this.checkHyper(merged, ` (parameter group ${gi})`);
    this.paramGroups.push({ ...merged, params } as ParamGroup<H>);
  }

  /**
   * Every parameter, in group order (the indices used by state dicts and transforms).
   *
   * @throws Never throws.
   * @example
   * ```ts
   * opt.flatParams().length; // number of parameters
   * ```
   */
  flatParams(): Var[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * Clears the gradients: `null` (default, as PyTorch's `set_to_none=True`) or zeros in place.
   *
   * @throws {RangeError} (with `setToNone = false`) for a gradient whose size differs from its parameter.
   * @example
   * ```ts
   * opt.zeroGrad(); loss.backward(); opt.step();
   * ```
   */
  zeroGrad(setToNone = true): void {
    this.flatParams().forEach((p, i) => {
      if (setToNone) p.grad = null;
      else gradView(`${this.name}.zeroGrad`, p, i)?.fill(0);
    });
  }

  /**
   * Registers `hook(optimizer)`, run at the start of every `step()` (after the closure), in
   * registration order; it may edit gradients in place (e.g. unscale or clip them).
   *
   * @throws {TypeError} for a non-function.
   * @example
   * ```ts
   * const h = opt.registerStepPreHook((o) => clipGradNorm(o.flatParams(), 1));
   * h.remove();
   * ```
   */
  registerStepPreHook(hook: StepPreHook<this>): RemovableHandle {
    return addHook(this.name, this.preHooks, hook);
  }

  /**
   * Registers `hook(optimizer, stats)`, run at the end of every `step()` (also skipped ones), in
   * registration order.
   *
   * @throws {TypeError} for a non-function.
   * @example
   * ```ts
   * opt.registerStepPostHook((o, s) => log(s.step, s.preClipNorm, s.clipped));
   * ```
   */
  registerStepPostHook(hook: StepPostHook<this>): RemovableHandle {
    return addHook(this.name, this.postHooks, hook);
  }

  /**
   * Performs one optimization step over every parameter that has a gradient (see the file
   * comment for the order of the stages). Returns the closure's loss, if any.
   *
   * @throws {NonFiniteGradientError} with `nonFinite: "error"` and NaN/±Infinity gradients, or
   * when more than `maxConsecutiveSkips` steps in a row were skipped (nothing is updated then);
   * {RangeError} for hyper-parameters made invalid since construction; whatever hooks and
   * transforms throw.
   * @example
   * ```ts
   * opt.zeroGrad(); loss.backward(); opt.step();
   * const loss = opt.step(() => { opt.zeroGrad(); const l = lossFn(); l.backward(); return l; });
   * ```
   */
  step(closure?: () => number | Var | Tensor | void): number | undefined {
    const op = `${this.name}.step`;
    if (this.disposed) throw new Error(`${op}: the optimizer was disposed`);
    if (closure !== undefined && typeof closure !== "function") throw new TypeError(`${op}: closure must be a function returning the loss (got ${fmtValue(closure)})`);
    const loss = closure === undefined ? undefined : toLoss(op, closure());
    for (const h of this.preHooks.slice()) h(this);
    this.paramGroups.forEach((g, i) => this.checkHyper(g, ` (parameter group ${i})`));
    const step = this.stepCount + 1;
    const { batch, groupOf } = gatherParams(op, this.paramGroups, step);
    const { pre, post, nonFiniteCount, reports, clipped, skipReason } = runClipStage(op, batch, this.transforms, this.nonFinite, this.telemetry);
    if (skipReason !== null) {
      if (this.consecutiveSkips + 1 > this.maxConsecutiveSkips) {
        throw new NonFiniteGradientError(
          `${op}: giving up after ${this.consecutiveSkips + 1} consecutive skipped steps (maxConsecutiveSkips ${this.maxConsecutiveSkips}); ` +
            `the gradients are still non-finite (${nonFiniteCount > 0 ? firstBad(batch) : "a transform asked to skip"}). Lower the learning rate or check the loss for NaN`,
          pre,
          nonFiniteCount,
        );
      }
      this.consecutiveSkips++;
    }
    if (skipReason === null) {
      this.consecutiveSkips = 0;
      this.updateAll(batch, groupOf);
    }
    const coef = !clipped ? 1 : pre > 0 && Number.isFinite(pre) ? post / pre : NaN;
    const stats: StepStats = {
      step, preClipNorm: pre, postClipNorm: post, coef, clipped, nonFiniteCount,
      skipped: skipReason !== null, skipReason, numGrads: batch.grads.length,
      lrs: this.paramGroups.map((g) => g.lr), transforms: reports,
    };
    if (loss !== undefined) stats.loss = loss;
    this.stepCount = step;
    this.lastStats = stats;
    pushHistory(this.history, stats, this.historyLimit);
    for (const h of this.postHooks.slice()) h(this, stats);
    return loss;
  }

  /**
   * Empties `history`.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * opt.clearHistory();
   * ```
   */
  clearHistory(): void {
    this.history.length = 0;
  }

  /**
   * A snapshot of the optimizer: per-parameter state (copied buffers, keyed by flat parameter
   * index), parameter groups (hyper-parameters, `params` as indices), counters, and the states of
   * stateful transforms. Buffers are Float32Arrays; for JSON convert them with `Array.from`
   * (`loadStateDict` accepts number arrays).
   *
   * @throws Never throws. (stateful transforms may throw from their own `stateDict`.)
   * @example
   * ```ts
   * const saved = opt.stateDict();
   * opt2.loadStateDict(saved); // same trajectory from here on
   * ```
   */
  stateDict(): OptimizerStateDict {
    return saveOptimizerState(this.name, this.paramGroups, this.state, this.stateSpec(), this.stepCount, this.consecutiveSkips, this.transforms);
  }

  /**
   * Restores a snapshot from {@link stateDict}. Everything is validated before anything changes.
   *
   * @throws {TypeError} for a malformed dict, another optimizer's dict, unknown keys or
   * hyper-parameters; {RangeError} for mismatched group/parameter counts or buffer sizes.
   * @example
   * ```ts
   * opt.loadStateDict(JSON.parse(json));
   * ```
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const loaded = loadOptimizerState(`${this.name}.loadStateDict`, this.name, sd, this.paramGroups, this.stateSpec(), this.transforms, (h, where) => this.checkHyper(h as H, where));
    loaded.groups.forEach((h, i) => Object.assign(this.paramGroups[i]!, h));
    this.state.clear();
    for (const [p, s] of loaded.state) this.state.set(p, { ...this.newState(), ...persistentCopy(s) });
    this.stepCount = loaded.stepCount;
    this.consecutiveSkips = loaded.consecutiveSkips;
  }

  /**
   * Releases the long-lived storage of the optimizer state (momentum, moments, ...) now, instead of
   * when the garbage collector finds the optimizer. The optimizer cannot step afterwards.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * opt.dispose(); model.dispose();
   * ```
   */
  dispose(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof Float32Array) dispose(v);
    this.state.clear();
    this.disposed = true;
  }

  /**
   * A zero-filled state buffer for a parameter of `length` elements, in long-lived storage (where
   * the update kernels use it in place).
   *
   * @throws Never throws.
   * @example
   * ```ts
   * state.momentumBuffer ??= this.stateBuffer(value.length);
   * ```
   */
  protected stateBuffer(length: number): Float32Array {
    return allocate(length, { persistent: true });
  }

  /**
   * The buffer `name` of a parameter's state `s`, made by {@link Optimizer.stateBuffer} for
   * `length` elements on first use.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * const m = this.bufferOf(state, "expAvg", value.length);
   * ```
   */
  protected bufferOf(s: ParamState, name: string, length: number): Float32Array {
    return (s[name] as Float32Array | null) ?? (s[name] = this.stateBuffer(length));
  }

  /** A fresh per-parameter state: counters 0, buffers null (created on first use). */
  protected newState(): ParamState {
    const spec = this.stateSpec();
    const s: ParamState = {};
    for (const k of spec.counters) s[k] = 0;
    for (const k of spec.buffers) s[k] = null;
    for (const [k, v] of Object.entries(spec.scalars ?? {})) s[k] = v;
    return s;
  }

  /** The state of `p`, created on first use. */
  private stateOf(p: Var): ParamState {
    let s = this.state.get(p);
    if (!s) this.state.set(p, (s = this.newState()));
    return s;
  }

  /** Updates every parameter of the batch: one `updateGroup` call per parameter group. */
  private updateAll(batch: GradBatch, groupOf: readonly number[]): void {
    const lists = this.paramGroups.map(() => ({ values: [] as Float32Array[], grads: [] as Float32Array[], states: [] as ParamState[] }));
    for (let k = 0; k < batch.grads.length; k++) {
      const l = lists[groupOf[k]!]!;
      l.values.push(batch.values[k]!);
      l.grads.push(batch.grads[k]!);
      l.states.push(this.stateOf(batch.owners[k] as Var));
    }
    lists.forEach((l, gi) => {
      if (l.values.length > 0) this.updateGroup(this.paramGroups[gi]!, l.values, l.grads, l.states);
    });
  }
}

/** A loaded state with its buffers copied into long-lived storage (where the update kernels use them in place). */
function persistentCopy(s: ParamState): ParamState {
  const out: ParamState = {};
  for (const [k, v] of Object.entries(s)) {
    if (v instanceof Float32Array) {
      const b = allocate(v.length, { persistent: true });
      b.set(v);
      out[k] = b;
    } else out[k] = v;
  }
  return out;
}
