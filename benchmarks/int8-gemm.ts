/**
 * @file Int8 GEMM against the float32 GEMM on the same shapes, in the same process (issue 14's
 * target: int8 throughput ≥ 1.5× float32's). A shape is `batch × in × out`, the product of a
 * quantized `nn.Linear`: `[batch, in]` activations times the transposed `[out, in]` weights. Both
 * are counted as `2·batch·in·out` operations per call, in GOP/s (1e9 multiply-or-add operations
 * per second; integer for int8, floating-point for float32).
 *
 * - `int8 gemm B×I×O`: `gemmU8I8(x, zp, B, packed, out)` with quint8 activations on the JS heap
 *   (copied into the kernel's memory in the timed call) and weights packed once by
 *   `packInt8Weights` (what quantized inference does).
 * - `f32 gemm B×I×O`: the active kernel set's float32 GEMM, `kernels().gemm`, on the same layout:
 *   activations on the JS heap, weights in the set's persistent storage (`kernels().alloc`, where
 *   an `nn.Linear` weight lives) read in place, a preallocated result.
 */
import { Rng, gemmU8I8, kernels, packInt8Weights } from "@tapegrad/tensor";
import { normalData } from "./inputs.js";
import type { Case, Topic } from "./types.js";

/** `[batch, in, out]`: the benchmark MLP's layers at batch 128, and square products. */
export const INT8_SHAPES = [[128, 784, 256], [128, 256, 256], [256, 256, 256], [512, 512, 512]] as const;

type Shape = (typeof INT8_SHAPES)[number];
const label = ([b, i, o]: Shape) => `${b}x${i}x${o}`;
/** The case names of a shape: int8 first, then its float32 partner. */
export const int8CaseName = (s: Shape): string => `int8 gemm ${label(s)}`;
export const f32CaseName = (s: Shape): string => `f32 gemm ${label(s)}`;

function bytes(count: number, seed: number, lo: number): Uint8Array {
  const rng = new Rng(seed), out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = lo + Math.floor(rng.random() * 256);
  return out;
}

function tapegradCases(): Case[] {
  const cases: Case[] = [];
  for (const s of INT8_SHAPES) {
    const [b, i, o] = s;
    const work = 2 * b * i * o;
    const x8 = bytes(b * i, 1, 0);
    const w8 = new Int8Array(bytes(o * i, 2, 0).buffer);
    const packed = packInt8Weights(w8, o, i);
    const acc = new Int32Array(b * o);
    const extra = { batch: b, inFeatures: i, outFeatures: o };
    cases.push({ name: int8CaseName(s), size: label(s), unit: "GOP/s", work, fn: () => void gemmU8I8(x8, 128, b, packed, acc), extra: { ...extra, dtype: "int8" } });

    const set = kernels();
    const x = normalData(b * i, 3);
    const w = set.alloc(o * i);
    w.set(normalData(o * i, 4));
    const c = new Float32Array(b * o);
    // C[b, o] = Σ_p x[b, p]·w[o, p]: B = wᵀ read through strides (row stride 1, column stride i)
    cases.push({ name: f32CaseName(s), size: label(s), unit: "GOP/s", work, fn: () => set.gemm(b, o, i, x, 0, i, 1, w, 0, 1, i, c, 0, o, false), extra: { ...extra, dtype: "float32" } });
  }
  return cases;
}

/** The int8 GEMM topic (tapegrad only: the peers have no int8 GEMM in this harness). */
export const int8GemmTopic: Topic = {
  bench: "int8-gemm",
  perBackend: true,
  caseNames: INT8_SHAPES.flatMap((s) => [int8CaseName(s), f32CaseName(s)]),
  cases: { tapegrad: tapegradCases },
};
