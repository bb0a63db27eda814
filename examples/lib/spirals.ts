/**
 * @file A synthetic classification set with no download: `k` interleaved noisy spirals in 2-D.
 */
import { Rng, Tensor } from "@tapegrad/tensor";
import { Linear, ReLU, Sequential } from "@tapegrad/nn";

/** `n` points per class of `classes` spirals; returns features `[n·classes, 2]` and labels. */
export function spirals(n: number, classes: number, noise: number, rng: Rng): { x: Tensor; y: Int32Array } {
  const x = new Float32Array(n * classes * 2);
  const y = new Int32Array(n * classes);
  let k = 0;
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < n; i++, k++) {
      const r = i / n;
      const theta = (c * 2 * Math.PI) / classes + r * 4 + noise * rng.normal();
      x[2 * k] = r * Math.sin(theta);
      x[2 * k + 1] = r * Math.cos(theta);
      y[k] = c;
    }
  }
  return { x: new Tensor(x, [n * classes, 2]), y };
}

/** The spirals classifier: an MLP `2 → hidden → hidden → classes` with ReLUs, initialised from `rng`. */
export function spiralsModel(classes: number, rng: Rng, hidden = 64): Sequential {
  return new Sequential(new Linear(2, hidden, { rng }), new ReLU(), new Linear(hidden, hidden, { rng }), new ReLU(), new Linear(hidden, classes, { rng }));
}
