/**
 * @file Small helpers of `Optimizer.step`, its hooks and the optimizers' update rules (internal).
 */
import { Tensor, type MapKernel } from "@tapegrad/tensor";
import { Var, type RemovableHandle } from "@tapegrad/autograd";
import { fmtValue } from "./errors.js";
import { describeParam, gradView, valueView, type GradBatch } from "./params.js";
import type { ParamGroup } from "./groups.js";

/**
 * Appends `hook` to `list` and returns a handle that removes it.
 *
 * @throws {TypeError} for a non-function.
 * @example
 * ```ts
 * const h = addHook("SGD", hooks, () => {}); h.remove();
 * ```
 */
export function addHook<T>(op: string, list: T[], hook: T): RemovableHandle {
  if (typeof hook !== "function") throw new TypeError(`${op}: a hook must be a function (got ${fmtValue(hook)})`);
  list.push(hook);
  return {
    remove() {
      const i = list.indexOf(hook);
      if (i >= 0) list.splice(i, 1);
    },
  };
}

/**
 * The closure's return value as a number (`undefined` when it returned nothing).
 *
 * @throws {TypeError} for other values; {ShapeError} for multi-element Vars/Tensors.
 * @example
 * ```ts
 * toLoss("SGD.step", 0.5); // 0.5
 * ```
 */
export function toLoss(op: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "number") return v;
  if (v instanceof Var || v instanceof Tensor) return v.item();
  throw new TypeError(`${op}: the closure must return a number, a one-element Var/Tensor or nothing (got ${fmtValue(v)})`);
}

/**
 * Describes the first non-finite gradient element, for messages.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * firstBad(batch); // 'first in parameter "w" [2,2] at element 3: NaN'
 * ```
 */
export function firstBad(batch: GradBatch): string {
  for (let k = 0; k < batch.grads.length; k++) {
    const g = batch.grads[k]!;
    for (let i = 0; i < g.length; i++) {
      if (!Number.isFinite(g[i]!)) return `first in ${describeParam(batch.owners[k]!, batch.indices[k]!)} at element ${i}: ${g[i]}`;
    }
  }
  return "none left";
}

/**
 * The gradients and values of every parameter that has a gradient, in group order, as the
 * `GradBatch` a step works on, plus each entry's group index.
 *
 * @throws {TypeError} / {RangeError} from `gradView` / `valueView` for unusable parameters.
 * @example
 * ```ts
 * const { batch, groupOf } = gatherParams("SGD.step", opt.paramGroups, 1);
 * ```
 */
export function gatherParams(op: string, groups: readonly ParamGroup<{ lr: number }>[], step: number): { batch: GradBatch; groupOf: number[] } {
  const owners: Var[] = [];
  const indices: number[] = [];
  const grads: Float32Array[] = [];
  const values: Float32Array[] = [];
  const shapes: (readonly number[])[] = [];
  const groupOf: number[] = [];
  let index = 0;
  groups.forEach((g, gi) => {
    for (const p of g.params) {
      const gv = gradView(op, p, index);
      if (gv !== null) {
        owners.push(p);
        indices.push(index);
        grads.push(gv);
        values.push(valueView(op, p, index));
        shapes.push(p.shape);
        groupOf.push(gi);
      }
      index++;
    }
  });
  return { batch: { owners, indices, grads, values, shapes, step }, groupOf };
}

/**
 * The map kernel of one rule configuration from `cache`, built by `build` (and stored under `key`)
 * on first use, so each configuration of an update rule is compiled once.
 *
 * @throws whatever `build` throws.
 * @example
 * ```ts
 * const kernels = new Map<string, MapKernel>();
 * const k = cachedKernel(kernels, "10", () => mapKernel("sgd10", { arrays: ["p", "g"], scalars: ["lr"] }, ({ p, g }, { lr }) => ({ p: p.sub(lr.mul(g)) })));
 * ```
 */
export function cachedKernel(cache: Map<string, MapKernel>, key: string, build: () => MapKernel): MapKernel {
  let k = cache.get(key);
  if (!k) cache.set(key, (k = build()));
  return k;
}
