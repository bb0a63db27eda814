/**
 * @file One training step of the Fashion-MNIST trainer's CNN (`pnpm train --model cnn`: per block
 * a 3×3 conv with padding 1, BatchNorm in training mode, ReLU and 2×2 max pooling, two blocks;
 * then flatten, a hidden Linear with ReLU and dropout, and 10 outputs) on a batch of 64, in ms per
 * step: forward, cross-entropy, backward, clip by global norm (1.0), Adam (lr 1e-3) — the
 * trainer's defaults.
 *
 * - tapegrad: the trainer's own `makeModel` (`examples/train/trainer.ts`) and optimizer setup.
 * - tfjs: the same architecture in tfjs's native NHWC layout (`tf.conv2d` with `'same'` padding,
 *   batch statistics from `tf.moments` into `tf.batchNorm`, `tf.maxPool`, `tf.dropout`),
 *   `tf.variableGrads` of `tf.losses.softmaxCrossEntropy`, the global-norm clip composed from ops,
 *   `tf.train.adam(1e-3)`, inside `tf.tidy` (the factory checks for leaks). Weights are seeded
 *   separately: the timing does not depend on their values.
 * - tfjs-wasm cannot run this step: @tensorflow/tfjs-backend-wasm 4.22.0 registers no
 *   `Conv2DBackpropFilter` kernel, so the factory fails with tfjs's own message (printed as an
 *   error line and recorded as missing); tfjs-cpu runs it.
 * - jax-js: not measured yet (it has `lax.convGeneralDilated`; a jit-compiled CNN step for it is
 *   not written).
 */
import { crossEntropy, constant } from "@tapegrad/autograd";
import { Adam, clipGradNorm } from "@tapegrad/optim";
import { Rng, Tensor, randn } from "@tapegrad/tensor";
import { CNN_DEFAULTS, DEFAULTS, makeModel } from "../examples/train/trainer.js";
import { tfClipByGlobalNorm } from "./tfjs.js";
import type { Case, TargetContext, Topic } from "./types.js";

const O = { ...DEFAULTS, ...CNN_DEFAULTS };
const BATCH = O.batchSize;
const NAME = `cnn-step conv${O.channels.join("-conv")}-${O.hidden.join("-")}-10 b${BATCH}`;
const SIZE = `${O.channels.join(",")}/${BATCH}`;

/** The seeded batch: images `[BATCH, 784]` and labels. */
function batch(): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(7);
  return { x: randn([BATCH, 784], rng).data, labels: Int32Array.from({ length: BATCH }, () => Math.floor(rng.random() * 10)) };
}

function tapegradCases(): Case[] {
  const model = makeModel(O, new Rng(0));
  const { x, labels } = batch();
  const input = constant(new Tensor(x, [BATCH, 784]));
  const opt = new Adam(model.parameters(), { lr: O.lr, clip: clipGradNorm.transform(O.clipThreshold) });
  const step = () => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(input), labels);
    loss.backward();
    opt.step();
    loss.value.item();
  };
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn: step }];
}

function tfjsCases(ctx: TargetContext): Case[] {
  const tf = ctx.tf!;
  type T = import("@tensorflow/tfjs-core").Tensor;
  const rng = new Rng(0);
  const vars: import("@tensorflow/tfjs-core").Variable[] = [];
  const param = (shape: number[], scale: number, name: string) => {
    const t = tf.tensor(randn(shape, rng).data.map((v) => v * scale), shape);
    const v = tf.variable(t, true, `cnn_${ctx.id}_${name}`);
    t.dispose();
    vars.push(v);
    return v;
  };
  const constVar = (t: T, name: string) => {
    const v = tf.variable(t, true, `cnn_${ctx.id}_${name}`);
    t.dispose();
    vars.push(v);
    return v;
  };
  const convs: { w: T; gamma: T; beta: T }[] = [];
  let c = 1, side = 28;
  O.channels.forEach((ch, i) => {
    convs.push({ w: param([3, 3, c, ch], Math.sqrt(2 / (9 * c)), `w${i}`), gamma: constVar(tf.ones([ch]), `g${i}`), beta: constVar(tf.zeros([ch]), `b${i}`) });
    c = ch;
    side = Math.floor(side / 2);
  });
  const dense: { w: T; b: T }[] = [];
  let width = c * side * side;
  for (const [i, h] of [...O.hidden, 10].entries()) {
    dense.push({ w: param([width, h], Math.sqrt(1 / width), `dw${i}`), b: constVar(tf.zeros([h]), `db${i}`) });
    width = h;
  }
  const { x, labels } = batch();
  const xs = tf.tensor4d(x, [BATCH, 28, 28, 1]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 10));
  const opt = tf.train.adam(O.lr);
  const lossFn = () => {
    let h: T = xs;
    for (const { w, gamma, beta } of convs) {
      h = tf.conv2d(h as import("@tensorflow/tfjs-core").Tensor4D, w as import("@tensorflow/tfjs-core").Tensor4D, 1, "same");
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.relu(tf.batchNorm(h, mean, variance, beta, gamma, 1e-5));
      h = tf.maxPool(h as import("@tensorflow/tfjs-core").Tensor4D, 2, 2, "valid");
    }
    h = tf.reshape(h, [BATCH, -1]);
    dense.forEach(({ w, b }, i) => {
      h = tf.add(tf.matMul(h, w), b);
      if (i + 1 < dense.length) h = tf.dropout(tf.relu(h), O.dropout);
    });
    return tf.losses.softmaxCrossEntropy(ys, h) as import("@tensorflow/tfjs-core").Scalar;
  };
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(lossFn, vars);
      const names = vars.map((v) => v.name);
      const clipped = tfClipByGlobalNorm(tf, names.map((n) => grads[n]!), O.clipThreshold);
      opt.applyGradients(names.map((name, i) => ({ name, tensor: clipped[i]! })));
      value.dataSync();
    });
  step(); // creates the optimizer's accumulators
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) step();
  if (tf.memory().numTensors !== before) throw new Error(`${NAME} (${ctx.id}): tfjs leaks ${tf.memory().numTensors - before} tensors in 2 steps`);
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn: step }];
}

/** The cnn-step topic (issue 15: ≥ 3× tfjs-wasm's speed). */
export const cnnTopic: Topic = {
  bench: "cnn-step",
  perBackend: true,
  caseNames: [NAME],
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases },
};
