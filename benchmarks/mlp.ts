/**
 * @file One training step of an MLP 784-256-256-10 (ReLU) on a batch of 128, in ms per step:
 * forward, cross-entropy loss, backward, clip by global norm (1.0), SGD (lr 0.01, momentum 0.9).
 * Both libraries start from the same seeded weights and batch (see inputs.ts).
 *
 * - tapegrad: `@tapegrad/nn` `Sequential(Linear, ReLU, Linear, ReLU, Linear)`, `@tapegrad/autograd`
 *   `crossEntropy`, `@tapegrad/optim` `SGD` with `clip: clipGradNorm.transform(1)`: the code a
 *   user writes, nothing opt-in (parameters, gradients and momentum land in the kernels' memory
 *   by themselves).
 * - tfjs: weights as `tf.variable`s (kernels `[in, out]` as `tf.layers.dense` stores them),
 *   `tf.variableGrads` of `tf.losses.softmaxCrossEntropy`, the global-norm clip composed from ops
 *   (tfjs has none), `tf.train.momentum(0.01, 0.9)`; the whole step inside `tf.tidy`, and the
 *   factory checks that the tensor count stays constant across steps (no leak).
 */
import { constant, crossEntropy } from "@tapegrad/autograd";
import { SGD, clipGradNorm } from "@tapegrad/optim";
import { Tensor } from "@tapegrad/tensor";
import { MLP_BATCH, MLP_SIZES, makeMlp, mlpBatch } from "./inputs.js";
import { tfClipByGlobalNorm } from "./tfjs.js";
import type { Case, TargetContext, Topic } from "./types.js";

const NAME = "mlp-step 784-256-256-10 b128";
const SIZE = "784-256-256-10/128";
const LR = 0.01;
const MOMENTUM = 0.9;
const MAX_NORM = 1;

/** A tapegrad training step on the seeded model and batch (also used by the memory topic). */
export function tapegradStep(): () => number {
  const model = makeMlp();
  const { x, labels } = mlpBatch();
  const input = constant(new Tensor(x, [MLP_BATCH, MLP_SIZES[0]]));
  const opt = new SGD(model.parameters(), { lr: LR, momentum: MOMENTUM, clip: clipGradNorm.transform(MAX_NORM) });
  return () => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(input), labels);
    loss.backward();
    opt.step();
    return loss.value.item();
  };
}

function tapegradCases(): Case[] {
  const step = tapegradStep();
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn: () => void step() }];
}

function tfjsCases(ctx: TargetContext): Case[] {
  const tf = ctx.tf!;
  const model = makeMlp();
  const { x, labels } = mlpBatch();
  // tapegrad's Linear weights are [out, in]; store them transposed ([in, out]) like tf.layers.dense.
  const vars = model.parameters().map((p, i) => {
    const v = p.value;
    const t = v.ndim === 2 ? tf.tidy(() => tf.transpose(tf.tensor2d(v.data, [v.shape[0]!, v.shape[1]!]))) : tf.tensor1d(v.data);
    const variable = tf.variable(t, true, `mlp_${ctx.id}_${i}`);
    t.dispose();
    return variable;
  });
  const xs = tf.tensor2d(x, [MLP_BATCH, MLP_SIZES[0]]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), MLP_SIZES[3]));
  const opt = tf.train.momentum(LR, MOMENTUM);
  const lossFn = () => {
    let h: import("@tensorflow/tfjs-core").Tensor = xs;
    for (let l = 0; l < vars.length; l += 2) {
      h = tf.add(tf.matMul(h, vars[l]!), vars[l + 1]!);
      if (l + 2 < vars.length) h = tf.relu(h);
    }
    return tf.losses.softmaxCrossEntropy(ys, h) as import("@tensorflow/tfjs-core").Scalar;
  };
  const step = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(lossFn, vars);
      const names = vars.map((v) => v.name);
      const clipped = tfClipByGlobalNorm(tf, names.map((n) => grads[n]!), MAX_NORM);
      opt.applyGradients(names.map((name, i) => ({ name, tensor: clipped[i]! })));
    });
  step(); // creates the optimizer's accumulators
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  if (tf.memory().numTensors !== before) throw new Error(`${NAME} (${ctx.id}): tfjs leaks ${tf.memory().numTensors - before} tensors in 3 steps`);
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn: step }];
}

/** The mlp-step topic. */
export const mlpTopic: Topic = {
  bench: "mlp-step",
  perBackend: true,
  caseNames: [NAME],
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases },
};
