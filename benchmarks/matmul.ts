/**
 * @file Square matmul throughput, `C = A·B` for `n` in {@link SIZES}: GFLOP/s counting `2n³`
 * floating-point operations per call, through the public `matmul` with a preallocated `out`.
 */
import { Rng, matmul, randn, zeros } from "@tapegrad/tensor";
import type { Case, Topic } from "./types.js";

/** Matrix sizes (`n×n` times `n×n`). */
export const SIZES = [64, 128, 256, 512, 1024] as const;

function tapegradCases(): Case[] {
  return SIZES.map((n) => {
    const rng = new Rng(n);
    const a = randn([n, n], rng);
    const b = randn([n, n], rng);
    const out = zeros([n, n]);
    return { name: `matmul ${n}x${n}`, size: n, unit: "GFLOP/s", work: 2 * n * n * n, fn: () => void matmul(a, b, out) };
  });
}

/** The matmul topic. */
export const matmulTopic: Topic = {
  bench: "matmul",
  perBackend: true,
  cases: { tapegrad: tapegradCases },
};
