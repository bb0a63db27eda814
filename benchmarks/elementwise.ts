/**
 * @file Memory-bound elementwise throughput on 1M (`1024×1024`) float32 elements, in GB/s
 * counting every element of every input and of the output once (4 bytes each):
 * contiguous, broadcast (`[1024,1024] + [1024]`) and transposed (strided) `add`, `exp`, `relu`,
 * and a full `sum` reduction. tapegrad writes into preallocated outputs (`out`) except `sum`'s
 * scalar; tfjs allocates every result (disposed inside the timed call) and has no strided views,
 * so it has no `add 1M transposed` case.
 */
import { Tensor, add, exp, relu, sum, zeros } from "@tapegrad/tensor";
import { normalData } from "./inputs.js";
import type { Case, TargetContext, Topic } from "./types.js";

const ROWS = 1024;
const COLS = 1024;
const N = ROWS * COLS;
const SIZE = "1M";
const bytes = (elements: number) => 4 * elements;
const gbs = (name: string, work: number, fn: () => void): Case => ({ name, size: SIZE, unit: "GB/s", work, fn });

function tapegradCases(): Case[] {
  const a = new Tensor(normalData(N, 7), [ROWS, COLS]);
  const b = new Tensor(normalData(N, 8), [ROWS, COLS]);
  const row = new Tensor(normalData(COLS, 9), [COLS]);
  const at = new Tensor(normalData(N, 10), [COLS, ROWS]).mT; // a [1024,1024] view with strides [1, 1024]
  const out = zeros([ROWS, COLS]);
  return [
    gbs("add 1M", bytes(3 * N), () => void add(a, b, out)),
    gbs("add 1M broadcast", bytes(2 * N + COLS), () => void add(a, row, out)),
    gbs("add 1M transposed", bytes(3 * N), () => void add(a, at, out)),
    gbs("exp 1M", bytes(2 * N), () => void exp(a, out)),
    gbs("relu 1M", bytes(2 * N), () => void relu(a, out)),
    gbs("sum 1M", bytes(N + 1), () => void sum(a)),
  ];
}

function tfjsCases(ctx: TargetContext): Case[] {
  const tf = ctx.tf!;
  const a = tf.tensor2d(normalData(N, 7), [ROWS, COLS]);
  const b = tf.tensor2d(normalData(N, 8), [ROWS, COLS]);
  const row = tf.tensor1d(normalData(COLS, 9));
  return [
    gbs("add 1M", bytes(3 * N), () => tf.add(a, b).dispose()),
    gbs("add 1M broadcast", bytes(2 * N + COLS), () => tf.add(a, row).dispose()),
    gbs("exp 1M", bytes(2 * N), () => tf.exp(a).dispose()),
    gbs("relu 1M", bytes(2 * N), () => tf.relu(a).dispose()),
    gbs("sum 1M", bytes(N + 1), () => tf.sum(a).dispose()),
  ];
}

/** The elementwise topic (kernels here do not depend on the tapegrad kernel set). */
export const elementwiseTopic: Topic = {
  bench: "elementwise",
  perBackend: false,
  caseNames: ["add 1M", "add 1M broadcast", "add 1M transposed", "exp 1M", "relu 1M", "sum 1M"],
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases },
};
