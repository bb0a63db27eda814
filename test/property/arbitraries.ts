/**
 * @file Shared fast-check arbitraries and helpers for the property tests under `test/property/`:
 * shapes (incl. size-1 and empty dims), shapes that broadcast to a common target, data seeds, and
 * tensors of a given logical shape in a contiguous or strided (permuted / sliced / reversed)
 * layout. Values come from the engine's seeded `Rng` so a counterexample (shape, seed, layout) is
 * short and reproducible; fast-check shrinks the shapes and seeds.
 */
import fc from "fast-check";
import { Rng, type Tensor } from "@tapegrad/tensor";
import { randomLayout, randomTensor } from "../helpers/layouts.js";

/** float32 machine epsilon (2^-23). */
export const EPS32 = 2 ** -23;

/** Runs of every property: the fixed seed makes CI deterministic; failures print the counterexample. */
export function runs(seed: number, numRuns: number): { seed: number; numRuns: number } {
  return { seed, numRuns };
}

/** A shape of rank `minRank..maxRank` with sizes `minDim..maxDim`. */
export function shapeArb(minRank: number, maxRank: number, maxDim: number, minDim = 1): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/**
 * A target shape and `count` shapes that broadcast to it: each drops some leading dims of the
 * target and replaces some of the remaining dims by 1 (so their broadcast is at most the target,
 * and exactly the target when one operand keeps every dim).
 */
export function broadcastFamilyArb(count: number, maxRank = 4, maxDim = 4, minDim = 1): fc.Arbitrary<{ target: number[]; shapes: number[][] }> {
  return shapeArb(0, maxRank, maxDim, minDim).chain((target) =>
    fc
      .array(
        fc.record({
          drop: fc.integer({ min: 0, max: target.length }),
          ones: fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }),
        }),
        { minLength: count, maxLength: count },
      )
      .map((ops) => ({ target, shapes: ops.map(({ drop, ones }) => target.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))) })),
  );
}

/** A seed for the engine's `Rng` (values are drawn from it, not from fast-check). */
export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** A tensor of logical shape `shape` with values in [-2, 2): contiguous, or a random strided layout. */
export function makeInput(shape: readonly number[], seed: number, strided: boolean): Tensor {
  const rng = new Rng(seed);
  return strided ? randomLayout(rng, shape) : randomTensor(rng, shape);
}
