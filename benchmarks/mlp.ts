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
 * - jax-js: parameters as arrays (kernels `[in, out]`), the whole step one `jit`: the loss
 *   (`nn.logSoftmax` against one-hot labels, batch mean) and its gradients by `valueAndGrad`, the
 *   global-norm clip (optax's formula), SGD with momentum written out as `torch.optim.SGD` and
 *   `tf.train.momentum` do it (`m ← 0.9·m + g`, `p ← p − 0.01·m`); it consumes the old
 *   parameters and momenta and returns the new ones; each call awaits `blockUntilReady()` and
 *   reads the loss. The factory checks that no array leaks.
 * - torch: `nn.Sequential(Linear, ReLU, …)` with the same weights, `F.cross_entropy`,
 *   `clip_grad_norm_(…, 1.0)`, `torch.optim.SGD(lr=0.01, momentum=0.9)`, the loss read with
 *   `.item()` (in `torch_peer.py`).
 */
import { constant, crossEntropy } from "@tapegrad/autograd";
import { SGD, clipGradNorm } from "@tapegrad/optim";
import { Tensor } from "@tapegrad/tensor";
import { MLP_BATCH, MLP_SIZES, makeMlp, mlpBatch } from "./inputs.js";
import { checkNoLeak, jaxArray, jaxClipByGlobalNorm, type JaxArray } from "./jaxjs.js";
import { tfClipByGlobalNorm } from "./tfjs.js";
import { torchProbe, type TorchJob } from "./torch.js";
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

/** `[rows, cols]` row-major data transposed (tapegrad's `[out, in]` Linear weights → `[in, out]` kernels). */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = data[r * cols + c]!;
  return t;
}

async function jaxCases(ctx: TargetContext): Promise<Case[]> {
  const jax = ctx.jax!;
  const { jit, nn, numpy: np, tree, valueAndGrad } = jax;
  const { x, labels } = mlpBatch();
  let params = makeMlp().parameters().map((p) => {
    const v = p.value;
    return v.ndim === 2 ? jaxArray(jax, transposed(v.data, v.shape[0]!, v.shape[1]!), [v.shape[1]!, v.shape[0]!]) : jaxArray(jax, v.data, v.shape);
  });
  let momenta = params.map((p) => np.zeros(p.shape));
  const xs = jaxArray(jax, x, [MLP_BATCH, MLP_SIZES[0]]);
  const ys = nn.oneHot(np.array(labels as Int32Array<ArrayBuffer>, { dtype: np.int32 }), MLP_SIZES[3]);
  const lossFn = (ps: JaxArray[], input: JaxArray, onehot: JaxArray) => {
    let h = input;
    for (let l = 0; l < ps.length; l += 2) {
      h = np.matmul(h, ps[l]!).add(ps[l + 1]!);
      if (l + 2 < ps.length) h = nn.relu(h);
    }
    return nn.logSoftmax(h).mul(onehot).sum().mul(-1 / MLP_BATCH);
  };
  const train = jit((ps: JaxArray[], ms: JaxArray[], input: JaxArray, onehot: JaxArray) => {
    const [loss, grads] = valueAndGrad(lossFn)(tree.ref(ps), input, onehot);
    const clipped = jaxClipByGlobalNorm(jax, grads, MAX_NORM);
    const newMs = ms.map((m, i) => m.mul(MOMENTUM).add(clipped[i]!));
    const newPs = ps.map((p, i) => p.sub(newMs[i]!.ref.mul(LR)));
    return [newPs, newMs, loss] as [JaxArray[], JaxArray[], JaxArray];
  });
  const step = async () => {
    const [ps, ms, loss] = train(params, momenta, xs.ref, ys.ref);
    params = ps;
    momenta = ms;
    await jax.blockUntilReady([ps, ms, loss]);
    loss.item(); // reads (and disposes) the loss, as the tapegrad step does
  };
  await checkNoLeak(NAME, step, () => [...params, ...momenta, xs, ys], 20);
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn: step, async: true }];
}

function torchJob(): TorchJob {
  const { x, labels } = mlpBatch();
  const inputs = Object.fromEntries(makeMlp().parameters().map((p, i) => [`p${i}`, { data: p.value.data, shape: p.value.shape }]));
  return {
    cases: [{ name: NAME, size: SIZE, unit: "ms", work: 0 }],
    inputs: { ...inputs, x: { data: x, shape: [MLP_BATCH, MLP_SIZES[0]] }, labels: { data: labels, shape: [MLP_BATCH] } },
    params: { name: NAME, sizes: MLP_SIZES, lr: LR, momentum: MOMENTUM, maxNorm: MAX_NORM },
  };
}

/** The mlp-step topic. */
export const mlpTopic: Topic = {
  bench: "mlp-step",
  perBackend: true,
  caseNames: [NAME],
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases, "jax-js": jaxCases },
  probes: { torch: torchProbe("mlp-step", torchJob) },
};
