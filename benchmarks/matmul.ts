/**
 * @file Square matmul throughput, `C = A·B` for `n` in {@link SIZES}: GFLOP/s counting `2n³`
 * floating-point operations per call. tapegrad: the public `matmul` with a preallocated `out`;
 * tfjs: `tf.matMul(a, b)` (tfjs always allocates the result; it is disposed in the timed call);
 * jax-js: a jitted `np.matmul`, awaited with `blockUntilReady()`, the result disposed; torch:
 * `torch.matmul(a, b, out=)`.
 */
import { Tensor, matmul, zeros } from "@tapegrad/tensor";
import { normalData } from "./inputs.js";
import { checkNoLeak, jaxArray, jaxCall, type JaxArray } from "./jaxjs.js";
import { torchProbe, type TorchJob } from "./torch.js";
import type { Case, TargetContext, Topic } from "./types.js";

/** Matrix sizes (`n×n` times `n×n`). */
export const SIZES = [64, 128, 256, 512, 1024] as const;

const caseName = (n: number) => `matmul ${n}x${n}`;
const operands = (n: number) => [normalData(n * n, n), normalData(n * n, n + 1)] as const;

function tapegradCases(): Case[] {
  return SIZES.map((n) => {
    const [a, b] = operands(n).map((d) => new Tensor(d, [n, n]));
    const out = zeros([n, n]);
    return { name: caseName(n), size: n, unit: "GFLOP/s", work: 2 * n ** 3, fn: () => void matmul(a!, b!, out) };
  });
}

function tfjsCases(ctx: TargetContext): Case[] {
  const tf = ctx.tf!;
  return SIZES.map((n) => {
    const [a, b] = operands(n).map((d) => tf.tensor2d(d, [n, n]));
    return { name: caseName(n), size: n, unit: "GFLOP/s", work: 2 * n ** 3, fn: () => tf.matMul(a!, b!).dispose() };
  });
}

async function jaxCases(ctx: TargetContext): Promise<Case[]> {
  const jax = ctx.jax!;
  const matmul = jax.jit((x: JaxArray, y: JaxArray) => jax.numpy.matmul(x, y));
  const cases: Case[] = [];
  for (const n of SIZES) {
    const [a, b] = operands(n).map((d) => jaxArray(jax, d, [n, n]));
    const fn = jaxCall(jax, matmul, [a!, b!]);
    await checkNoLeak(caseName(n), fn, () => [a!, b!], n >= 512 ? 4 : 8);
    cases.push({ name: caseName(n), size: n, unit: "GFLOP/s", work: 2 * n ** 3, fn, async: true });
  }
  return cases;
}

function torchJob(): TorchJob {
  const inputs = Object.fromEntries(SIZES.flatMap((n) => operands(n).map((data, i) => [`${i === 0 ? "a" : "b"}${n}`, { data, shape: [n, n] }])));
  return { cases: SIZES.map((n) => ({ name: caseName(n), size: n, unit: "GFLOP/s", work: 2 * n ** 3 })), inputs, params: { sizes: SIZES } };
}

/** The matmul topic. */
export const matmulTopic: Topic = {
  bench: "matmul",
  perBackend: true,
  caseNames: SIZES.map(caseName),
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases, "jax-js": jaxCases },
  probes: { torch: torchProbe("matmul", torchJob) },
};
