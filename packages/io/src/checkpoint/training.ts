/**
 * @file Training checkpoints: everything a run needs to continue bit-identically — the model's
 * state dict, the optimizer's (its buffers, step counts and its clip chain's state, e.g. AutoClip's
 * norm history or ZClip's running statistics), the scheduler's, the generators' states, the data
 * loaders' positions, a step counter and any JSON extra — in one checksummed file
 * ({@link encodeCheckpoint}). The objects are duck-typed (`stateDict`/`loadStateDict`,
 * `getState`/`setState`), so this package needs nothing from nn or optim.
 */
import type { Tensor } from "@tapegrad/tensor";
import type { Tree } from "./tree.js";
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from "./checkpoint.js";

/** Anything with a state dict: a `Module`, an `Optimizer`, a scheduler, a `DataLoader`. */
export interface Stateful<S = unknown> {
  stateDict(): S;
  loadStateDict(state: S): unknown;
}

/** A generator with a state: an `Rng`. */
export interface Seeded<S = unknown> {
  getState(): S;
  setState(state: S): void;
}

/** The parts of a run a checkpoint holds (each optional). */
export interface TrainingParts {
  model?: Stateful<Record<string, Tensor>>;
  optimizer?: Stateful;
  scheduler?: Stateful;
  /** Generators by name (model init, dropout, noise, …). */
  rngs?: Readonly<Record<string, Seeded>>;
  /** Data loaders by name (their shuffling generator and position in the epoch). */
  loaders?: Readonly<Record<string, Stateful>>;
}

/** What {@link loadTrainingState} returns besides restoring the parts. */
export interface TrainingInfo {
  step: number;
  extra: Tree;
}

const KIND = "tapegrad.training";

/**
 * Saves a run's state as checkpoint bytes.
 *
 * @throws {RangeError} for a step that is not a non-negative integer.
 * @throws {TypeError} when a state dict holds something a checkpoint cannot (named by its path).
 * @example
 * ```ts
 * const bytes = saveTrainingState({ model, optimizer: opt, scheduler: sched, rngs: { dropout: rng }, loaders: { train: loader } }, { step: 50 });
 * ```
 */
export function saveTrainingState(parts: TrainingParts, opts: { step: number; extra?: Tree }): Uint8Array {
  const step = opts.step;
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`saveTrainingState: step must be a non-negative integer (got ${String(step)})`);
  const map = <T, R>(o: Readonly<Record<string, T>> | undefined, f: (x: T) => R) => (o === undefined ? undefined : Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)])));
  return encodeCheckpoint({
    kind: KIND,
    step,
    extra: opts.extra ?? null,
    model: parts.model?.stateDict() as Tree | undefined,
    optimizer: parts.optimizer?.stateDict() as Tree | undefined,
    scheduler: parts.scheduler?.stateDict() as Tree | undefined,
    rngs: map(parts.rngs, (r) => r.getState() as Tree),
    loaders: map(parts.loaders, (l) => l.stateDict() as Tree),
  });
}

/**
 * Verifies checkpoint bytes and restores every part given (the model strictly, as PyTorch's
 * `load_state_dict`), returning the step and the extra. A part given but absent from the
 * checkpoint (or a named generator or loader it lacks) is an error, and so is a checkpoint part
 * nobody receives: a resumed run must not silently start part of its state afresh. All parts are
 * checked before any is restored; a part's own `loadStateDict` validates its content.
 *
 * @throws {CheckpointError} for bytes that are not a valid checkpoint (see `decodeCheckpoint`) or
 * not a training checkpoint, or (reason `parts`) naming a part missing on either side;
 * whatever a part's `loadStateDict`/`setState` throws for bad content.
 * @example
 * ```ts
 * const { step } = loadTrainingState(bytes, { model, optimizer: opt, scheduler: sched, rngs: { dropout: rng }, loaders: { train: loader } });
 * ```
 */
export function loadTrainingState(bytes: Uint8Array, parts: TrainingParts): TrainingInfo {
  const tree = decodeCheckpoint(bytes) as Record<string, Tree>;
  if (tree === null || typeof tree !== "object" || tree.kind !== KIND) throw new CheckpointError("not_a_checkpoint", `not a training checkpoint (kind ${JSON.stringify((tree as Record<string, unknown>)?.kind ?? null)})`, "loadTrainingState");
  const problems: string[] = [];
  for (const key of ["model", "optimizer", "scheduler"] as const) {
    if ((parts[key] !== undefined) !== (tree[key] !== undefined)) problems.push(parts[key] ? `the checkpoint has no ${key}` : `the checkpoint has a ${key} state but no ${key} was given to restore it`);
  }
  for (const key of ["rngs", "loaders"] as const) {
    const given = Object.keys(parts[key] ?? {}), saved = Object.keys((tree[key] ?? {}) as object);
    for (const k of given) if (!saved.includes(k)) problems.push(`the checkpoint has no ${key}.${k}`);
    for (const k of saved) if (!given.includes(k)) problems.push(`the checkpoint's ${key}.${k} was not given to restore it`);
  }
  if (problems.length > 0) throw new CheckpointError("parts", problems.join("; "), "loadTrainingState");
  if (parts.model) parts.model.loadStateDict(tree.model as Record<string, Tensor>);
  if (parts.optimizer) parts.optimizer.loadStateDict(tree.optimizer);
  if (parts.scheduler) parts.scheduler.loadStateDict(tree.scheduler);
  for (const [k, r] of Object.entries(parts.rngs ?? {})) r.setState((tree.rngs as Record<string, unknown>)[k]);
  for (const [k, l] of Object.entries(parts.loaders ?? {})) l.loadStateDict((tree.loaders as Record<string, unknown>)[k]);
  return { step: tree.step as number, extra: tree.extra ?? null };
}
