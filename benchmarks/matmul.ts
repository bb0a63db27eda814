/**
 * @file Square matmul throughput, `C = A·B` for `n` in {@link SIZES}: GFLOP/s counting `2n³`
 * floating-point operations per call. tapegrad: the public `matmul` with a preallocated `out`;
 * tfjs: `tf.matMul(a, b)` (tfjs always allocates the result; it is disposed in the timed call).
 */
import { Tensor, matmul, zeros } from "@tapegrad/tensor";
import { normalData } from "./inputs.js";
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

/** The matmul topic. */
export const matmulTopic: Topic = {
  bench: "matmul",
  perBackend: true,
  caseNames: SIZES.map(caseName),
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases },
};
