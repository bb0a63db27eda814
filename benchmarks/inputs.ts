/**
 * @file Seeded inputs shared by every library: the same float32 values (from tapegrad's `Rng`)
 * are handed to tapegrad as tensors and to tfjs as `tf.tensor(data, shape)`, so every library
 * computes on identical data. Built in the case factories, never inside timed code.
 */
import { Linear, ReLU, Sequential } from "@tapegrad/nn";
import { Rng, randn } from "@tapegrad/tensor";

/** `count` standard-normal float32 values from `Rng(seed)`. */
export function normalData(count: number, seed: number): Float32Array {
  return randn([count], new Rng(seed)).data;
}

/** Layer sizes of the benchmark MLP (784-256-256-10, ReLU between layers). */
export const MLP_SIZES = [784, 256, 256, 10] as const;
/** Batch size of the MLP step. */
export const MLP_BATCH = 128;

/** The seeded MLP (tapegrad `Sequential(Linear, ReLU, Linear, ReLU, Linear)`, PyTorch init). */
export function makeMlp(seed = 0): Sequential {
  const rng = new Rng(seed);
  const [i, h1, h2, o] = MLP_SIZES;
  return new Sequential(new Linear(i, h1, { rng }), new ReLU(), new Linear(h1, h2, { rng }), new ReLU(), new Linear(h2, o, { rng }));
}

/** The seeded batch: inputs `[MLP_BATCH, 784]` and class labels in `[0, 10)`. */
export function mlpBatch(seed = 1): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const x = randn([MLP_BATCH, MLP_SIZES[0]], rng).data;
  const labels = Int32Array.from({ length: MLP_BATCH }, () => Math.floor(rng.random() * MLP_SIZES[3]));
  return { x, labels };
}

/** Shapes of the clip-global-norm gradients: 10 tensors totalling exactly 10M floats. */
export const CLIP_SHAPES: readonly (readonly [number, number])[] = Array.from({ length: 10 }, () => [1000, 1000] as const);
/** The clip threshold: far below the gradients' global norm (≈ √10M ≈ 3162), so every call clips. */
export const CLIP_MAX_NORM = 1;
