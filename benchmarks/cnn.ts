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
 * - tfjs-wasm: @tensorflow/tfjs-backend-wasm 4.22.0 registers no `Conv2DBackpropFilter` kernel,
 *   so `tf.conv2d`'s own gradient fails there ("Kernel 'Conv2DBackpropFilter' not registered");
 *   the case supplies the conv's gradient with `tf.customGrad` from kernels it has (see
 *   `convSame3x3`; checked against tfjs-cpu's gradients). tfjs-cpu uses `tf.conv2d` as is.
 * - jax-js (wasm device, 1 thread; see jaxjs.ts): the same architecture in NCHW, the only layout
 *   jax-js's conv takes (`lax.convGeneralDilated(x, w, [1, 1], [[1, 1], [1, 1]])`, kernels
 *   `[C_out, C_in, 3, 3]`, no bias), BatchNorm written out (batch mean and biased variance over
 *   N, H, W; learnable gamma/beta; like the tfjs case, no running averages), ReLU, max pooling by
 *   `lax.reduceWindow(h, (w) => w.max(), [2, 2], [2, 2])` (reshape + `max` measured the same), the
 *   Linear kernels `[in, out]`, dropout from `random.bernoulli` (inverted, keep 1 − p, a fresh key
 *   split off a key carried from step to step), loss `nn.logSoftmax` against one-hot labels. The
 *   whole step is one `jit`: `valueAndGrad`, the global-norm clip (optax's formula), Adam written
 *   out as `torch.optim.Adam` does it (m, v, bias corrections 1 − βᵗ from a step count kept as
 *   a device array, so the step is traced once); it consumes and returns parameters, m, v, step
 *   count and key, awaits `blockUntilReady()` and reads the loss. Weights are seeded as in the tfjs
 *   case. The factory checks that no array leaks. Every op and gradient it needs exists in
 *   @jax-js/jax 0.1.25, but its wasm conv is slow: measured on its own, block 2's conv
 *   (64×16×14×14 → 32 channels) takes ≈ 400 ms forward and ≈ 345 ms for the kernel gradient, most
 *   of a ≈ 1.4 s step (tapegrad wasm: ≈ 47 ms, 1 thread).
 */
import { crossEntropy, constant } from "@tapegrad/autograd";
import { Adam, clipGradNorm } from "@tapegrad/optim";
import { Rng, Tensor, randn } from "@tapegrad/tensor";
import { CNN_DEFAULTS, DEFAULTS, makeModel } from "../examples/train/trainer.js";
import { checkNoLeak, jaxArray, jaxClipByGlobalNorm, type JaxArray } from "./jaxjs.js";
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

type TF = NonNullable<TargetContext["tf"]>;
type T4 = import("@tensorflow/tfjs-core").Tensor4D;

/**
 * A 3×3 "same" convolution (NHWC) for tfjs. Where the backend has no `Conv2DBackpropFilter`
 * kernel (tfjs-backend-wasm 4.22.0), its gradient is supplied with `tf.customGrad` from kernels
 * the backend does have: `dx = conv2dTranspose(dy, w)` and the filter gradient as a forward
 * convolution with batch and channels swapped, `dw[a,b,c,o] = Σₙₕᵥ xpad[n,h+a,v+b,c]·dy[n,h,v,o]`
 * = `conv2d(xᵀ [C,H,W,N], dyᵀ [H,W,N,O], padding 1)` → `[C,3,3,O]` → `[3,3,C,O]`.
 */
export function convSame3x3(tf: TF): (x: T4, w: T4) => T4 {
  if (tf.getKernel("Conv2DBackpropFilter", tf.getBackend()) !== undefined) return (x, w) => tf.conv2d(x, w, 1, "same");
  const f = tf.customGrad(((x: T4, w: T4, save: (ts: T4[]) => void) => {
    save([x, w]);
    return {
      value: tf.conv2d(x, w, 1, "same"),
      gradFunc: (dy: T4, saved: T4[]) => {
        const [xs, ws] = saved;
        const dx = tf.conv2dTranspose(dy, ws!, xs!.shape, 1, "same");
        const xt = tf.transpose(xs!, [3, 1, 2, 0]) as T4;
        const dyt = tf.transpose(dy, [1, 2, 0, 3]) as T4;
        const dw = tf.transpose(tf.conv2d(xt, dyt, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), [1, 2, 0, 3]);
        return [dx, dw];
      },
    };
  }) as never) as unknown as (x: T4, w: T4) => T4;
  return f;
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
  const conv = convSame3x3(tf);
  const lossFn = () => {
    let h: T = xs;
    for (const { w, gamma, beta } of convs) {
      h = conv(h as import("@tensorflow/tfjs-core").Tensor4D, w as import("@tensorflow/tfjs-core").Tensor4D);
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

const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPS = 1e-8;
const BN_EPS = 1e-5;

async function jaxCases(ctx: TargetContext): Promise<Case[]> {
  const jax = ctx.jax!;
  const { jit, lax, nn, numpy: np, random, tree, valueAndGrad } = jax;
  const rng = new Rng(0);
  const param = (shape: number[], scale: number) => jaxArray(jax, randn(shape, rng).data.map((v) => v * scale), shape);
  // per conv block: kernel [C_out, C_in, 3, 3] (NCHW, jax-js's conv layout), gamma, beta; then per Linear: kernel [in, out], bias
  let params: JaxArray[] = [];
  let c = 1, side = 28;
  for (const ch of O.channels) {
    params.push(param([ch, c, 3, 3], Math.sqrt(2 / (9 * c))), np.ones([ch]), np.zeros([ch]));
    c = ch;
    side = Math.floor(side / 2);
  }
  const nConv = O.channels.length;
  let width = c * side * side;
  for (const h of [...O.hidden, 10]) {
    params.push(param([width, h], Math.sqrt(1 / width)), np.zeros([h]));
    width = h;
  }
  let ms = params.map((p) => np.zeros(p.shape));
  let vs = params.map((p) => np.zeros(p.shape));
  let t = np.zeros([]); // Adam's step count, kept on the device so the jitted step is traced once
  let key = random.key(0); // dropout's PRNG key, split on every step
  const { x, labels } = batch();
  const xs = jaxArray(jax, x, [BATCH, 1, 28, 28]);
  const ys = nn.oneHot(np.array(labels as Int32Array<ArrayBuffer>, { dtype: np.int32 }), 10);
  const keep = 1 - O.dropout;

  const lossFn = (ps: JaxArray[], input: JaxArray, onehot: JaxArray, dropKey: JaxArray) => {
    let h = input;
    for (let i = 0; i < nConv; i++) {
      const [w, gamma, beta] = [ps[3 * i]!, ps[3 * i + 1]!, ps[3 * i + 2]!];
      const ch = w.shape[0]!;
      h = lax.convGeneralDilated(h, w, [1, 1], [[1, 1], [1, 1]]);
      // BatchNorm in training mode: batch statistics over N, H, W (biased variance, as torch normalises)
      const mean = h.ref.mean([0, 2, 3], { keepdims: true });
      const d = h.sub(mean);
      const variance = np.square(d.ref).mean([0, 2, 3], { keepdims: true });
      h = d.div(np.sqrt(variance.add(BN_EPS))).mul(gamma.reshape([1, ch, 1, 1])).add(beta.reshape([1, ch, 1, 1]));
      h = nn.relu(h);
      h = lax.reduceWindow(h, (win) => win.max(), [2, 2], [2, 2]);
    }
    h = h.reshape([BATCH, -1]);
    const dense = ps.slice(3 * nConv);
    const keys = random.split(dropKey, dense.length / 2 - 1);
    for (let l = 0; l < dense.length; l += 2) {
      h = np.matmul(h, dense[l]!).add(dense[l + 1]!);
      if (l + 2 < dense.length) {
        // inverted dropout, as torch's nn.Dropout and tf.dropout: keep with probability 1 − p, scale by 1/(1 − p)
        const mask = random.bernoulli(keys.ref.slice(l / 2), keep, h.shape);
        h = nn.relu(h).mul(mask.astype(np.float32)).mul(1 / keep);
      }
    }
    keys.dispose();
    return nn.logSoftmax(h).mul(onehot).sum().mul(-1 / BATCH);
  };
  const train = jit((ps: JaxArray[], m: JaxArray[], v: JaxArray[], step: JaxArray, k: JaxArray, input: JaxArray, onehot: JaxArray) => {
    const ks = random.split(k, 2);
    const [loss, grads] = valueAndGrad(lossFn)(tree.ref(ps), input, onehot, ks.ref.slice(1));
    const clipped = jaxClipByGlobalNorm(jax, grads, O.clipThreshold);
    // Adam as torch.optim.Adam writes it: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·m̂/(√v̂ + ε)
    const n = step.add(1);
    const c1 = np.subtract(1, np.power(BETA1, n.ref));
    const c2 = np.subtract(1, np.power(BETA2, n.ref));
    const newM = m.map((mi, i) => mi.mul(BETA1).add(clipped[i]!.ref.mul(1 - BETA1)));
    const newV = v.map((vi, i) => vi.mul(BETA2).add(np.square(clipped[i]!).mul(1 - BETA2)));
    const newP = ps.map((p, i) => p.sub(newM[i]!.ref.div(c1.ref).mul(O.lr).div(np.sqrt(newV[i]!.ref.div(c2.ref)).add(ADAM_EPS))));
    c1.dispose();
    c2.dispose();
    return [newP, newM, newV, n, ks.slice(0), loss] as [JaxArray[], JaxArray[], JaxArray[], JaxArray, JaxArray, JaxArray];
  });
  const step = async () => {
    const [p, m, v, n, k, loss] = train(params, ms, vs, t, key, xs.ref, ys.ref);
    [params, ms, vs, t, key] = [p, m, v, n, k];
    await jax.blockUntilReady([p, m, v, n, k, loss]);
    loss.item(); // reads (and disposes) the loss, as the tapegrad step does
  };
  await checkNoLeak(NAME, step, () => [...params, ...ms, ...vs, t, key, xs, ys], 20);
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn: step, async: true }];
}

/** The cnn-step topic (issue 15: ≥ 3× tfjs-wasm's speed). */
export const cnnTopic: Topic = {
  bench: "cnn-step",
  perBackend: true,
  caseNames: [NAME],
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases, "jax-js": jaxCases },
};
