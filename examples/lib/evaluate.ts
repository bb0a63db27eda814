/**
 * @file Evaluating a classifier on a split: anything that maps a batch of images to logits, its
 * accuracy in batches, and the predictor of a float module (eval mode, no tape).
 */
import { Tensor, argmax, indexSelect } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import type { Split } from "../train/data.js";

/** Anything that maps a batch `[B, 784]` to logits `[B, 10]` (a float module or an int8 model). */
export type Predict = (x: Tensor) => Tensor;

/** The predictor of a float module (eval mode, no tape). */
export function predictor(model: { eval(): unknown; train(): unknown; forward(x: A.VarLike): A.Var }): Predict {
  return (x) => {
    model.eval();
    const out = A.noGrad(() => model.forward(x)).value;
    model.train();
    return out;
  };
}

/** Test accuracy of `predict` on `split`, in batches of 1000. */
export function accuracyOf(predict: Predict, split: Split, batch = 1000): number {
  let correct = 0;
  const n = split.y.length;
  for (let s = 0; s < n; s += batch) {
    const idx = Int32Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
    const pred = argmax(predict(indexSelect(split.x, 0, idx)), 1).data;
    for (let i = 0; i < idx.length; i++) if (pred[i] === split.y[s + i]) correct++;
  }
  return correct / n;
}

