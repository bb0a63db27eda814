/**
 * @file The `Optimizer` base class: parameter groups with per-group hyper-parameters, the step
 * pipeline with clipping as a first-class stage, hooks, telemetry and state dicts.
 *
 * `step()` runs, in this order:
 * 1. the closure, if one is given (it usually zeroes the gradients, computes the loss and calls
 *    `backward()`);
 * 2. the step pre-hooks, in registration order (they may edit gradients);
 * 3. the non-finite policy (`nonFinite`: `"propagate"` | `"error"` | `"zero"` | `"skip"`);
 * 4. the gradient transforms of the `clip` option, in order, on all gradients at once;
 * 5. the update of every parameter that has a gradient (skipped when step 3 or a transform asks);
 * 6. telemetry (`lastStats`, opt-in `history`), then the step post-hooks in registration order.
 *
 * Cost: the telemetry norms are summed per parameter inside the update pass, right before each
 * update reads that gradient, whenever nothing runs between them (the post-clip norm; and the
 * pre-clip norm too without transforms under `"propagate"`), so they add no pass over memory.
 * Otherwise the pre-clip Σg² is handed to the first transform (`GradBatch.sumSquares`), so a
 * global L2 clip does not sum it again.
 *
 * Clipping edits `grad.data` in place and updates write `value.data` in place: parameters are
 * autograd leaves whose value and gradient buffers they own (see `variable()`).
 * Resident parameters (`Module.toHeap()`): state lives in the wasm heap and norms, clipping and
 * (`updateResident`) updates run in wasm when every array is a heap array (see resident.ts).
 */
import { Tensor } from "@tapegrad/tensor";
import type { Var, RemovableHandle } from "@tapegrad/autograd";
import { NonFiniteGradientError, checkChoice, checkInt, checkKeys, fmtValue } from "./errors.js";
import { countNonFinite, sumSquares, sumSquaresOf, zeroNonFiniteInPlace } from "./norms.js";
import { gradView, type GradBatch } from "./params.js";
import { HeapState, allResident, residentGroups } from "./resident.js";
import { checkGroupParams, cloneHyper, stripParams, toGroups, type ParamGroup, type ParamGroupInput, type ParamsInput } from "./groups.js";
import { addHook, firstBad, gatherParams, toLoss } from "./optimizer-util.js";
import { checkTransform, type GradTransform, type TransformReport } from "./transform.js";
import { NON_FINITE_POLICIES, type NonFinitePolicy } from "./clip-norm.js";
import { historyLimit, pushHistory, type SkipReason, type StepStats } from "./telemetry.js";
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
 * state layout and a per-parameter `updateParam` over Float32Arrays.
 *
 * @throws {TypeError} / {RangeError} from the constructor for bad parameters, options or hyper-parameters; {NonFiniteGradientError} from `step()` (see there).
 * @example
 * ```ts
 * const opt = new SGD([{ params: [w] }, { params: [b], lr: 0.01 }], { lr: 0.1, clip: clipByGlobalNorm(1) });
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
  /** Updates one parameter in place from its (already clipped) gradient. */
  protected abstract updateParam(group: ParamGroup<H>, value: Float32Array, grad: Float32Array, state: ParamState): void;
  /** Optional: `updateParam` for a whole group whose values and gradients are heap arrays (wasm `foreach*` kernels). */
  protected updateResident?(group: ParamGroup<H>, values: Float32Array[], grads: Float32Array[], states: ParamState[]): void;
  /** State buffers allocated in the wasm heap (for resident parameters); see {@link Optimizer.freeHeap}. */
  protected readonly heapState = new HeapState();

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
    const loss = closure === undefined ? undefined : toLoss(op, closure());
    for (const h of this.preHooks.slice()) h(this);
    this.paramGroups.forEach((g, i) => this.checkHyper(g, ` (parameter group ${i})`));
    const step = this.stepCount + 1;
    const { batch, groupOf } = gatherParams(op, this.paramGroups, step);
    // With nothing between the norm and the update that could edit or skip (no transforms, the
    // "propagate" policy), the telemetry norm is summed inside the update pass (`fused`).
    const fused = this.transforms.length === 0 && this.nonFinite === "propagate";
    const sq = !fused && (this.telemetry || this.nonFinite !== "propagate") ? sumSquares(batch.grads) : 0;
    let pre = this.telemetry ? Math.sqrt(sq) : NaN;
    let nonFiniteCount = Number.isFinite(sq) ? 0 : countNonFinite(batch.grads);
    let known = !fused && (this.telemetry || this.nonFinite !== "propagate") ? sq : undefined;
    let skipReason: SkipReason | null = null;
    if (nonFiniteCount > 0) {
      if (this.nonFinite === "error") {
        throw new NonFiniteGradientError(`${op}: ${nonFiniteCount} non-finite gradient element${nonFiniteCount === 1 ? "" : "s"} (${firstBad(batch)}) with nonFinite: "error"`, Math.sqrt(sq), nonFiniteCount);
      }
      if (this.nonFinite === "zero") {
        zeroNonFiniteInPlace(batch.grads);
        known = this.telemetry ? sumSquares(batch.grads) : undefined;
        if (known !== undefined) pre = Math.sqrt(known);
      } else if (this.nonFinite === "skip") skipReason = "nonFinite";
    }
    const reports: TransformReport[] = [];
    if (skipReason === null) {
      for (let i = 0; i < this.transforms.length; i++) {
        // The first transform sees the gradients exactly as summed above: it may reuse Σg².
        const r = this.transforms[i]!.apply(i === 0 && known !== undefined ? { ...batch, sumSquares: known } : batch);
        reports.push(r);
        if (r.skip) {
          skipReason = "transform";
          break;
        }
      }
    }
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
    const clipped = reports.some((r) => r.clipped);
    let post = pre;
    if (skipReason === null) {
      this.consecutiveSkips = 0;
      const norm = this.telemetry && (fused || clipped);
      const [sqUsed, bad] = this.updateAll(batch, groupOf, norm);
      if (norm) post = Math.sqrt(sqUsed);
      if (fused && this.telemetry) {
        pre = post;
        nonFiniteCount = bad;
      }
    } else if (clipped && this.telemetry) post = Math.sqrt(sumSquares(batch.grads));
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
    this.heapState.release(this.state.values());
    this.state.clear();
    for (const [p, s] of loaded.state) this.state.set(p, { ...this.newState(), ...s });
    this.stepCount = loaded.stepCount;
    this.consecutiveSkips = loaded.consecutiveSkips;
  }

  /**
   * Frees the wasm-heap memory of the state of resident parameters (momentum, ...), replacing the
   * buffers by ordinary copies (the optimizer keeps working). Returns the number of arrays freed.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * opt.freeHeap(); model.freeHeap();
   * ```
   */
  freeHeap(): number {
    return this.heapState.release(this.state.values());
  }

  /** A fresh per-parameter state: counters 0, buffers null (created on first use). */
  protected newState(): ParamState {
    const spec = this.stateSpec();
    const s: ParamState = {};
    for (const k of spec.counters) s[k] = 0;
    for (const k of spec.buffers) s[k] = null;
    return s;
  }

  /** The state of `p`, created on first use. */
  private stateOf(p: Var): ParamState {
    let s = this.state.get(p);
    if (!s) this.state.set(p, (s = this.newState()));
    return s;
  }

  /**
   * Updates every parameter of the batch. With `norm`, each gradient's Σg² is summed right before
   * its update (while it is in cache), and its NaN/±Infinity elements counted when that sum is not
   * finite; returns `[Σg², non-finite count]` (zeros without `norm`).
   */
  private updateAll(batch: GradBatch, groupOf: readonly number[], norm: boolean): [number, number] {
    let sq = 0;
    let bad = 0;
    if (this.updateResident && allResident(batch.values) && allResident(batch.grads)) {
      const total = norm ? sumSquares(batch.grads) : 0; // the wasm kernel (all resident)
      residentGroups(batch, groupOf, this.paramGroups.length, (p) => this.stateOf(p)).forEach((l, gi) => {
        if (l.values.length > 0) this.updateResident!(this.paramGroups[gi]!, l.values, l.grads, l.states);
      });
      return [total, Number.isFinite(total) ? 0 : countNonFinite(batch.grads)];
    }
    for (let k = 0; k < batch.grads.length; k++) {
      const s = this.stateOf(batch.owners[k] as Var);
      const g = batch.grads[k]!;
      if (norm) {
        const q = sumSquaresOf(g);
        sq += q;
        if (!Number.isFinite(q)) bad += countNonFinite([g]);
      }
      this.updateParam(this.paramGroups[groupOf[k]!]!, batch.values[k]!, g, s);
    }
    return [sq, bad];
  }
}
