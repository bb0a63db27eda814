/**
 * @file Memory-bound elementwise throughput on 1M (`1024×1024`) float32 elements, in GB/s
 * counting every element of every input and of the output once (4 bytes each):
 * contiguous, broadcast (`[1024,1024] + [1024]`) and transposed (strided) `add`, `exp`, `relu`,
 * and a full `sum` reduction. Outputs are preallocated (`out`) except `sum`'s scalar.
 */
import { Rng, add, exp, randn, relu, sum, zeros } from "@tapegrad/tensor";
import type { Case, Topic } from "./types.js";

const ROWS = 1024;
const COLS = 1024;
const N = ROWS * COLS;
const SIZE = "1M";

function tapegradCases(): Case[] {
  const rng = new Rng(7);
  const a = randn([ROWS, COLS], rng);
  const b = randn([ROWS, COLS], rng);
  const row = randn([COLS], rng);
  const at = randn([COLS, ROWS], rng).mT; // a [1024,1024] view with strides [1, 1024]
  const out = zeros([ROWS, COLS]);
  const bytes = (elements: number) => 4 * elements;
  const gbs = (name: string, work: number, fn: () => void): Case => ({ name, size: SIZE, unit: "GB/s", work, fn });
  return [
    gbs("add 1M", bytes(3 * N), () => void add(a, b, out)),
    gbs("add 1M broadcast", bytes(2 * N + COLS), () => void add(a, row, out)),
    gbs("add 1M transposed", bytes(3 * N), () => void add(a, at, out)),
    gbs("exp 1M", bytes(2 * N), () => void exp(a, out)),
    gbs("relu 1M", bytes(2 * N), () => void relu(a, out)),
    gbs("sum 1M", bytes(N + 1), () => void sum(a)),
  ];
}

/** The elementwise topic (kernels here do not depend on the tapegrad kernel set). */
export const elementwiseTopic: Topic = {
  bench: "elementwise",
  perBackend: false,
  cases: { tapegrad: tapegradCases },
};
