/**
 * @file Seeded random shapes and random memory layouts for kernel-vs-reference tests.
 *
 * {@link randomLayout} builds a tensor with a given logical shape whose storage is *not* row-major:
 * a larger random buffer, permuted, then sliced on every axis with a random start and a random
 * step in {±1, ±2, ±3}. {@link broadcastPair} draws two shapes that broadcast NumPy-style.
 */
import { Rng, Tensor, type Shape } from "@tapegrad/tensor";
import { sizeOf } from "./reference.js";

/** A random shape of rank `lo..hi` with sizes in `0..maxDim` (0 only when `allowZero`). */
export function randomShape(rng: Rng, lo: number, hi: number, maxDim: number, allowZero = false): number[] {
  const nd = rng.int(lo, hi + 1);
  return Array.from({ length: nd }, () => rng.int(allowZero ? 0 : 1, maxDim + 1));
}

/** Fills a fresh buffer with values uniform in `[-2, 2)` (exact float32 values). */
function randomData(rng: Rng, n: number): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.random() * 4 - 2;
  return d;
}

/** A contiguous tensor of random values in `[-2, 2)`. */
export function randomTensor(rng: Rng, shape: Shape): Tensor {
  return new Tensor(randomData(rng, sizeOf(shape)), shape);
}

/**
 * A tensor of logical shape `shape` with random values and a random non-contiguous layout
 * (permuted storage order, random offsets, steps of ±1..±3 including negative ones). For a shape
 * with at least one dimension of size > 1 the result is never contiguous.
 */
export function randomLayout(rng: Rng, shape: Shape): Tensor {
  const nd = shape.length;
  if (nd === 0) return new Tensor(randomData(rng, 3), [], [], 1 + rng.int(0, 2));
  const steps = shape.map(() => (rng.int(1, 4)) * (rng.random() < 0.4 ? -1 : 1));
  const pads = shape.map(() => rng.int(0, 3));
  const perm = rng.permutation(nd);
  // Storage axis j holds logical axis perm[j].
  const baseShape = Array.from(perm, (ax) => Math.abs(steps[ax]!) * Math.max(shape[ax]!, 1) + pads[ax]!);
  let t = new Tensor(randomData(rng, sizeOf(baseShape)), baseShape);
  const inv = new Array<number>(nd);
  for (let j = 0; j < nd; j++) inv[perm[j]!] = j;
  t = t.permute(inv);
  for (let ax = 0; ax < nd; ax++) {
    const n = shape[ax]!;
    const size = t.shape[ax]!;
    const step = steps[ax]!;
    const shift = rng.int(0, pads[ax]! + 1);
    if (step > 0) t = t.slice(ax, shift, shift + step * n, step);
    else {
      const start = size - 1 - shift;
      const end = start + step * n; // may be -1 (meaning "before 0"): pass null then
      t = t.slice(ax, start, end < 0 ? null : end, step);
    }
  }
  if (!t.shape.every((d, i) => d === shape[i])) throw new Error(`randomLayout: built ${JSON.stringify(t.shape)} for ${JSON.stringify(shape)}`);
  if (shape.some((d) => d > 1) && sizeOf(shape) > 0 && t.isContiguous) {
    // An identity permutation with unit steps and no padding: reverse one axis (the values are
    // random anyway), which gives a negative stride.
    return t.slice(shape.findIndex((d) => d > 1), null, null, -1);
  }
  return t;
}

/** Either a contiguous tensor or a random non-contiguous layout, with probability 1/2 each. */
export function randomInput(rng: Rng, shape: Shape): Tensor {
  return rng.random() < 0.5 ? randomTensor(rng, shape) : randomLayout(rng, shape);
}

/**
 * Two shapes that broadcast: a random output shape of rank 0..4 (sizes 1..5), from which each
 * operand drops some leading dims and sets some dims to 1.
 */
export function broadcastPair(rng: Rng, maxDim = 5): [number[], number[]] {
  const out = randomShape(rng, 0, 4, maxDim);
  const make = (): number[] => {
    const drop = rng.int(0, out.length + 1);
    return out.slice(drop).map((d) => (rng.random() < 0.3 ? 1 : d));
  };
  return [make(), make()];
}

/** A random non-empty subset of `0..ndim-1`, some of it given as negative axes. */
export function randomAxes(rng: Rng, ndim: number): number[] {
  const axes: number[] = [];
  for (let i = 0; i < ndim; i++) if (rng.random() < 0.5) axes.push(rng.random() < 0.5 ? i - ndim : i);
  if (axes.length === 0 && ndim > 0) axes.push(rng.int(0, ndim));
  return axes;
}
