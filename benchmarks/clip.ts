/**
 * @file Clip by global norm (L2) of 10 gradient tensors totalling 10M floats, in ms per call, with
 * a threshold below the norm so every call clips (reads everything for the norm, then reads and
 * writes everything to scale it).
 *
 * - tapegrad: `clipGradNorm(params, c)` from `@tapegrad/optim` on ordinary model parameters: Vars
 *   made by `variable()` whose gradients were produced by `backward()` (of `Σ p·d`, so the
 *   gradient of each parameter is the seeded data `d`), exactly where a training step leaves them.
 *   In-place clipping leaves the norm at the threshold, so later calls use slowly shrinking
 *   thresholds (`shrinkingThreshold`); every call checks that it clipped.
 * - tfjs: `clip_by_global_norm` composed from ops (`tfClipByGlobalNorm`), inside `tf.tidy`, the
 *   clipped tensors disposed: tfjs tensors are immutable, so each call allocates 10M new floats.
 * - jax-js: the same formula (`jaxClipByGlobalNorm`, optax's) as one jitted function of the 10
 *   arrays, awaited with `blockUntilReady()`, the clipped arrays disposed (immutable, like tfjs).
 * - torch: `torch.nn.utils.clip_grad_norm_(params, c)` on leaf parameters whose `.grad` came
 *   from `backward()`, in place, with the same shrinking thresholds as tapegrad.
 */
import { add, constant, mul, sum, variable, type Var } from "@tapegrad/autograd";
import { clipGradNorm } from "@tapegrad/optim";
import { Tensor, zeros } from "@tapegrad/tensor";
import { CLIP_MAX_NORM, CLIP_SHAPES, normalData } from "./inputs.js";
import { checkNoLeak, jaxArray, jaxCall, jaxClipByGlobalNorm, type JaxArray } from "./jaxjs.js";
import { tfClipByGlobalNorm } from "./tfjs.js";
import { torchProbe, type TorchJob } from "./torch.js";
import type { Case, TargetContext, Topic } from "./types.js";

const SIZE = "10M";
const NAME = "clip-global-norm 10M";

const gradData = () => CLIP_SHAPES.map(([r, c], i) => normalData(r * c, 100 + i));

/**
 * Thresholds that make every in-place call clip. Call 1 clips the gradients from a norm of ~3162
 * down to {@link CLIP_MAX_NORM}; each later threshold is 0.999× the previous one, i.e. just below
 * the norm the previous call left (a threshold equal to that norm would give a coefficient that
 * rounds to 1, and nothing would be scaled). In the rare call where the threshold would fall under
 * 1e-3 (after ~6,900 calls), the gradients are first scaled back up by 1e3: one extra pass, which
 * the median does not see.
 */
function shrinkingThreshold(params: readonly Var[]): () => number {
  let t = CLIP_MAX_NORM / 0.999;
  return () => {
    t *= 0.999;
    if (t < 1e-3) {
      for (const p of params) {
        const a = p.borrowGrad()!.data;
        for (let i = 0; i < a.length; i++) a[i]! *= 1e3;
      }
      t *= 1e3;
    }
    return t;
  };
}

/** Parameters whose gradients, computed by `backward()`, are the seeded data. */
function modelParams(): Var[] {
  const data = gradData();
  const params = CLIP_SHAPES.map(([r, c]) => variable(zeros([r, c])));
  let loss = sum(mul(params[0]!, constant(new Tensor(data[0]!, CLIP_SHAPES[0]!))));
  for (let i = 1; i < params.length; i++) loss = add(loss, sum(mul(params[i]!, constant(new Tensor(data[i]!, CLIP_SHAPES[i]!)))));
  loss.backward();
  return params;
}

function tapegradCases(): Case[] {
  const params = modelParams();
  const threshold = shrinkingThreshold(params);
  const fn = () => {
    const res = clipGradNorm(params, threshold());
    if (!res.clipped) throw new Error(`${NAME}: norm ${res.totalNorm} did not trigger clipping`);
  };
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn }];
}

function tfjsCases(ctx: TargetContext): Case[] {
  const tf = ctx.tf!;
  const grads = gradData().map((d, i) => tf.tensor2d(d, CLIP_SHAPES[i] as [number, number]));
  const fn = () => {
    const clipped = tf.tidy(() => tfClipByGlobalNorm(tf, grads, CLIP_MAX_NORM));
    for (const t of clipped) t.dispose();
  };
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn }];
}

async function jaxCases(ctx: TargetContext): Promise<Case[]> {
  const jax = ctx.jax!;
  const grads = gradData().map((d, i) => jaxArray(jax, d, CLIP_SHAPES[i]!));
  const clip = jax.jit((...gs: JaxArray[]) => jaxClipByGlobalNorm(jax, gs, CLIP_MAX_NORM));
  const fn = jaxCall(jax, clip, grads);
  await checkNoLeak(NAME, fn, () => grads, 3);
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn, async: true }];
}

function torchJob(): TorchJob {
  const inputs = Object.fromEntries(gradData().map((data, i) => [`g${i}`, { data, shape: CLIP_SHAPES[i]! }]));
  return { cases: [{ name: NAME, size: SIZE, unit: "ms", work: 0 }], inputs, params: { name: NAME, count: CLIP_SHAPES.length, maxNorm: CLIP_MAX_NORM } };
}

/** The clip-global-norm topic. */
export const clipTopic: Topic = {
  bench: "clip-global-norm",
  perBackend: true,
  caseNames: [NAME],
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases, "jax-js": jaxCases },
  probes: { torch: torchProbe("clip-global-norm", torchJob) },
};
