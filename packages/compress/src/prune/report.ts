/**
 * @file Sparsity report: per parameter and global, the number of elements, of zeros in the
 * effective weight, and of pruned (masked) entries — what the PyTorch pruning tutorial prints as
 * "Sparsity in fc1.weight: 80.00%" and "Global sparsity".
 */
import { Module } from "@tapegrad/nn";
import { getParametrization } from "@tapegrad/nn";
import { PRUNE_KIND } from "./prune.js";

/** Sparsity of one parameter (its effective value `orig * mask` when pruned). */
export interface ParameterSparsity {
  /** Dotted name as the user sees it (`"fc1.weight"`, not `weight_orig`). */
  name: string;
  /** Number of elements. */
  numel: number;
  /** Exact zeros in the effective value (pruned entries plus weights that are 0 anyway). */
  zeros: number;
  /** Entries whose mask is 0 (0 when not pruned). */
  masked: number;
  /** `zeros / numel` (0 for an empty parameter). */
  sparsity: number;
  /** True when the parameter carries a pruning mask. */
  pruned: boolean;
}

/** {@link sparsityReport}'s result. */
export interface SparsityReport {
  /** One entry per reported parameter, in `namedParameters()` order. */
  parameters: ParameterSparsity[];
  /** Totals over the reported parameters; `sparsity = zeros / numel`. */
  global: { numel: number; zeros: number; masked: number; sparsity: number };
}

/**
 * Per-parameter and global sparsity of `model`. With `only: "pruned"` just the pruned parameters
 * are reported (and counted in `global`), as in torch's tutorial; default: every parameter.
 *
 * @throws {TypeError} when `model` is not a Module.
 * @example
 * ```ts
 * const r = sparsityReport(model, { only: "pruned" });
 * r.parameters.map((p) => `${p.name}: ${(100 * p.sparsity).toFixed(2)}%`);
 * r.global.sparsity; // e.g. 0.8
 * ```
 */
export function sparsityReport(model: Module, opts: { only?: "pruned" | "all" } = {}): SparsityReport {
  if (!(model instanceof Module)) throw new TypeError(`sparsityReport: expected a Module (got ${model === null ? "null" : typeof model})`);
  if (opts.only !== undefined && opts.only !== "pruned" && opts.only !== "all") throw new TypeError(`sparsityReport: only must be "pruned" or "all" (got ${JSON.stringify(opts.only)})`);
  const onlyPruned = opts.only === "pruned";
  const parameters: ParameterSparsity[] = [];
  const seen = new Set<Module>();
  for (const [prefix, m] of [["", model] as [string, Module], ...model.namedModules().map(([n, c]) => [`${n}.`, c] as [string, Module])]) {
    if (seen.has(m)) continue;
    seen.add(m);
    for (const [n, v] of m.namedParameters("", false)) {
      const base = n.endsWith("_orig") ? n.slice(0, -5) : null;
      const p = base === null ? undefined : getParametrization(m, base);
      const isPrunedParam = p !== undefined && p.kind === PRUNE_KIND;
      if (onlyPruned && !isPrunedParam) continue;
      const w = v.value.toFloat32Array();
      const mask = isPrunedParam ? p.buffer("mask").toFloat32Array() : null;
      let zeros = 0, masked = 0;
      for (let i = 0; i < w.length; i++) {
        const mz = mask !== null && mask[i] === 0;
        if (mz) masked++;
        if (mz || w[i] === 0) zeros++;
      }
      const numel = w.length;
      parameters.push({ name: prefix + (isPrunedParam ? base! : n), numel, zeros, masked, sparsity: numel === 0 ? 0 : zeros / numel, pruned: isPrunedParam });
    }
  }
  let numel = 0, zeros = 0, masked = 0;
  for (const p of parameters) {
    numel += p.numel;
    zeros += p.zeros;
    masked += p.masked;
  }
  return { parameters, global: { numel, zeros, masked, sparsity: numel === 0 ? 0 : zeros / numel } };
}
