/**
 * @file `LRSchedulerBase`: PyTorch's `_LRScheduler` protocol for the PyTorch-named scheduler
 * classes (`LinearLR`, `OneCycleLR`, …). Each scheduler computes the next rate from the rate the
 * group has now (torch's recursive, "chainable" `get_lr`), so several schedulers can drive one
 * optimizer (`ChainedScheduler`). The group's lr before any scheduler is its `initial_lr`, kept
 * once per group (torch's `setdefault`), and every scheduler built on the group uses it as base.
 * Also: per-group argument lists and momentum / `betas[0]` access for the cycling schedulers.
 */
import { checkInt, fmtValue } from "./errors.js";

/** A parameter group as schedulers see it: an lr and, for momentum cycling, `momentum` or `betas`. */
export interface SchedulableGroup {
  lr: number;
  momentum?: number;
  betas?: readonly number[];
}

/** Anything with parameter groups (every tapegrad optimizer). */
export interface SchedulableOptimizer {
  readonly paramGroups: SchedulableGroup[];
}

/** A scheduler's state: `lastEpoch`, `baseLrs`, `lastLr` and the scheduler's own counters. */
export type SchedulerStateDict = Record<string, number | number[] | SchedulerStateDict[] | null>;

/** torch's `group['initial_lr']`, one per group object (set once, by the first scheduler). */
const initialLrs = new WeakMap<object, number>();

/**
 * The group's lr before any scheduler touched it (torch's `initial_lr`); set on first use.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * initialLrOf(opt.paramGroups[0]); // 0.1, even after a scheduler changed the lr
 * ```
 */
export function initialLrOf(group: SchedulableGroup): number {
  let v = initialLrs.get(group);
  if (v === undefined) initialLrs.set(group, (v = group.lr));
  return v;
}

/**
 * Overwrites a group's `initial_lr` (`OneCycleLR` sets it to `maxLr / divFactor`).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * setInitialLr(opt.paramGroups[0], 0.004);
 * ```
 */
export function setInitialLr(group: SchedulableGroup, lr: number): void {
  initialLrs.set(group, lr);
}

/**
 * Checks the optimizer and returns its groups.
 *
 * @throws {TypeError} when `optimizer` has no `paramGroups` with numeric `lr`.
 * @example
 * ```ts
 * const groups = checkOptimizer("LinearLR", opt);
 * ```
 */
export function checkOptimizer(op: string, optimizer: unknown): SchedulableGroup[] {
  const groups = (optimizer as SchedulableOptimizer | null)?.paramGroups;
  if (!Array.isArray(groups) || groups.length === 0 || groups.some((g) => g === null || typeof g !== "object" || typeof g.lr !== "number")) {
    throw new TypeError(`${op}: expected an optimizer with parameter groups that have an lr (got ${fmtValue(optimizer)})`);
  }
  return groups;
}

/**
 * A number per group from one number or a list of one per group (torch's `_format_param`), each
 * checked by `check`.
 *
 * @throws {RangeError} for a list whose length differs from the number of groups; whatever
 * `check` throws.
 * @example
 * ```ts
 * perGroup("OneCycleLR", "maxLr", [0.1, 0.02], 2, checkNonNegative); // [0.1, 0.02]
 * ```
 */
export function perGroup(op: string, name: string, v: unknown, n: number, check: (op: string, name: string, v: unknown) => number): number[] {
  if (Array.isArray(v)) {
    if (v.length !== n) throw new RangeError(`${op}: expected ${n} values for ${name}, one per parameter group (got ${v.length}: ${fmtValue(v)})`);
    return v.map((x, i) => check(op, `${name}[${i}]`, x));
  }
  const x = check(op, name, v);
  return Array.from({ length: n }, () => x);
}

/** Where a group keeps the momentum that `OneCycleLR` / `CyclicLR` cycle. */
export type MomentumSlot = "momentum" | "betas";

/**
 * `"betas"` when every group has `betas` (Adam-like: `betas[0]` is cycled, as torch's
 * `use_beta1`), else `"momentum"` when every group has a numeric `momentum` (SGD, RMSprop).
 *
 * @throws {TypeError} when the groups have neither.
 * @example
 * ```ts
 * momentumSlot("OneCycleLR", new Adam(params).paramGroups); // "betas"
 * ```
 */
export function momentumSlot(op: string, groups: readonly SchedulableGroup[]): MomentumSlot {
  if (groups.every((g) => Array.isArray(g.betas) && g.betas.length >= 1)) return "betas";
  if (groups.every((g) => typeof g.momentum === "number")) return "momentum";
  throw new TypeError(`${op}: cycleMomentum needs an optimizer whose groups have momentum or betas (SGD, RMSprop, Adam, ...); pass cycleMomentum: false`);
}

/**
 * Writes a group's momentum (`momentum`, or `betas[0]` keeping the other betas).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * setMomentum(group, "betas", 0.95); // group.betas = [0.95, 0.999]
 * ```
 */
export function setMomentum(group: SchedulableGroup, slot: MomentumSlot, m: number): void {
  if (slot === "betas") group.betas = [m, ...group.betas!.slice(1)];
  else group.momentum = m;
}

/**
 * Base class of the PyTorch-named schedulers (torch's `_LRScheduler`). A subclass implements
 * {@link LRSchedulerBase.getLr} (the next rates, from the groups' current ones for chainable
 * schedulers) and calls `this.initialStep()` at the end of its constructor, which applies step 0.
 * Call `step()` once per epoch or iteration, after `optimizer.step()`.
 *
 * @throws {TypeError} from the constructor for an optimizer without parameter groups.
 * @example
 * ```ts
 * const sched = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 }); // a subclass
 * for (let epoch = 0; epoch < 20; epoch++) { train(opt); sched.step(); }
 * sched.getLastLr();
 * ```
 */
export abstract class LRSchedulerBase {
  /** The optimizer whose groups are scheduled. */
  readonly optimizer: SchedulableOptimizer;
  /** Each group's base lr (its `initial_lr` unless the scheduler defines another base). */
  baseLrs: number[];
  /** Number of `step()` calls so far (0 after construction; torch's `last_epoch`). */
  lastEpoch = -1;
  /** The lr of each group as this scheduler last set it. */
  protected lastLr: number[] = [];
  /** Name used in error messages. */
  protected readonly op: string;

  /**
   * @param registerInitialLrs record each group's current lr as its initial lr (when it has none yet) and use them as `baseLrs` (default true).
   * @throws {TypeError} for an optimizer without parameter groups.
   * @example
   * ```ts
   * class Halve extends LRSchedulerBase { constructor(o: SchedulableOptimizer) { super("Halve", o); this.initialStep(); } protected getLr() { return this.optimizer.paramGroups.map((g) => g.lr / 2); } }
   * ```
   */
  constructor(op: string, optimizer: SchedulableOptimizer, registerInitialLrs = true) {
    this.op = op;
    this.optimizer = optimizer;
    const groups = checkOptimizer(op, optimizer);
    // `CyclicLR` first overwrites the lrs, then registers them (torch's order)
    this.baseLrs = registerInitialLrs ? groups.map(initialLrOf) : [];
  }

  /**
   * The rates for step `lastEpoch` (already incremented), torch's `get_lr`.
   *
   * @throws Whatever the subclass throws for a step it cannot take.
   * @example
   * ```ts
   * protected getLr() { return this.optimizer.paramGroups.map((g) => g.lr * 0.9); }
   * ```
   */
  protected abstract getLr(): number[];

  /**
   * The rates at step `lastEpoch` from the base rates alone (torch's `_get_closed_form_lr`);
   * `null` when the scheduler has none (then {@link LRSchedulerBase.getLr} is used).
   *
   * @throws Never throws.
   * @example
   * ```ts
   * protected closedFormLr() { return this.baseLrs.map((b) => b * 0.9 ** this.lastEpoch); }
   * ```
   */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /**
   * Applies step 0 (call it at the end of a subclass constructor).
   *
   * @throws Whatever {@link LRSchedulerBase.getLr} throws.
   * @example
   * ```ts
   * this.initialStep();
   * ```
   */
  protected initialStep(): void {
    this.step();
  }

  /**
   * Advances by one step and writes the new learning rates into the groups.
   *
   * @throws {RangeError} from schedulers with a fixed length stepped past it (`OneCycleLR`).
   * @example
   * ```ts
   * opt.step(); sched.step();
   * ```
   */
  step(): void {
    this.lastEpoch++;
    this.apply(this.getLr());
  }

  /**
   * Jumps to step `epoch` using the closed form when there is one (torch's deprecated
   * `step(epoch)`; `SequentialLR` restarts a scheduler with `stepTo(0)`).
   *
   * @throws {TypeError} / {RangeError} for an `epoch` that is not an integer >= 0.
   * @example
   * ```ts
   * sched.stepTo(0); // restart: lr = the closed form at step 0
   * ```
   */
  stepTo(epoch: number): void {
    this.lastEpoch = checkInt(`${this.op}.stepTo`, "epoch", epoch, 0);
    this.apply(this.closedFormLr() ?? this.getLr());
  }

  /**
   * The learning rate of each group as this scheduler last set it.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * sched.getLastLr(); // [0.05]
   * ```
   */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /**
   * The scheduler's state (`lastEpoch`, `baseLrs`, `lastLr` and its own counters), for
   * checkpoints. Like torch's, it holds no group values: save the optimizer's state dict as well.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * const saved = sched.stateDict();
   * ```
   */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = { lastEpoch: this.lastEpoch, baseLrs: this.baseLrs.slice(), lastLr: this.lastLr.slice() };
    for (const k of this.stateKeys()) {
      const v = (this as unknown as Record<string, number | number[]>)[k]!;
      out[k] = Array.isArray(v) ? v.slice() : v;
    }
    return out;
  }

  /**
   * Restores a {@link LRSchedulerBase.stateDict} (the groups' lrs are not touched, as in torch:
   * load the optimizer's state dict for those).
   *
   * @throws {TypeError} for a non-object, missing or unexpected keys, or values of the wrong
   * kind or length.
   * @example
   * ```ts
   * sched.loadStateDict(saved);
   * ```
   */
  loadStateDict(state: SchedulerStateDict): void {
    const op = `${this.op}.loadStateDict`;
    const keys = ["lastEpoch", "baseLrs", "lastLr", ...this.stateKeys()];
    const self = this as unknown as Record<string, unknown>;
    checkStateKeys(op, state, keys);
    for (const k of keys) {
      const cur = self[k], v = state[k];
      const ok = Array.isArray(cur)
        ? Array.isArray(v) && v.length === cur.length && v.every((x) => typeof x === "number" && !Number.isNaN(x))
        : typeof v === "number" && !Number.isNaN(v);
      if (!ok) throw new TypeError(`${op}: ${k} must be ${Array.isArray(cur) ? `${cur.length} numbers` : "a number"} (got ${fmtValue(v)})`);
    }
    for (const k of keys) {
      const v = state[k] as number | number[];
      self[k] = Array.isArray(v) ? v.slice() : v;
    }
  }

  /** Names of the subclass's mutable fields saved by {@link LRSchedulerBase.stateDict} (numbers or number arrays). */
  protected stateKeys(): readonly string[] {
    return [];
  }

  /** Writes `lrs` into the groups and remembers them. */
  protected apply(lrs: readonly number[]): void {
    const groups = this.optimizer.paramGroups;
    for (let i = 0; i < groups.length; i++) groups[i]!.lr = lrs[i]!;
    this.lastLr = groups.map((g) => g.lr);
  }
}

/**
 * Checks that a state dict has exactly `keys` (missing and unexpected keys are both named).
 *
 * @throws {TypeError} for a non-object or a key mismatch.
 * @example
 * ```ts
 * checkStateKeys("LinearLR.loadStateDict", saved, ["lastEpoch", "baseLrs", "lastLr"]);
 * ```
 */
export function checkStateKeys(op: string, state: unknown, keys: readonly string[]): void {
  if (state === null || typeof state !== "object" || Array.isArray(state)) throw new TypeError(`${op}: expected a state object (got ${fmtValue(state)})`);
  const missing = keys.filter((k) => !(k in state));
  const unexpected = Object.keys(state).filter((k) => !keys.includes(k));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new TypeError(`${op}: missing keys [${missing.join(", ")}], unexpected keys [${unexpected.join(", ")}]`);
  }
}
