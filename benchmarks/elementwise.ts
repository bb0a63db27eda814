/**
 * @file Memory-bound elementwise throughput on 1M (`1024×1024`) float32 elements, in GB/s
 * counting every element of every input and of the output once (4 bytes each): contiguous,
 * broadcast (`[1024,1024] + [1024]`) and transposed (strided) `add`, `mul`, the unary `exp`,
 * `tanh`, `sigmoid` and `relu`, and a full `sum` reduction.
 *
 * - tapegrad writes into a preallocated output (`out`) except `sum`'s scalar. Its inputs and
 *   output live in the kernels' memory (`clone({ persistent: true })`, `zeros(..., { persistent:
 *   true })`), as every peer's tensors live in its backend's memory (tfjs and jax-js: their wasm
 *   heaps; torch: the C heap); the `…, JS heap` cases (tapegrad only) run the same ops on
 *   ordinary `Float32Array`s on the JS heap, which the wasm kernels must copy in and out.
 * - tfjs allocates every result (disposed inside the timed call) and has no strided views, so it
 *   has no `add 1M transposed` case.
 * - jax-js: each op a jitted function, awaited with `blockUntilReady()` (its arrays are lazy), the
 *   result disposed; the transposed operand is `y.transpose()` inside the jit (a strided read).
 * - torch: `out=` like tapegrad (`relu` as `clamp_min(a, 0, out=)`: `torch.relu` has no `out=`);
 *   the transposed operand is `.t()` of the stored matrix, a strided view like tapegrad's `.mT`.
 */
import { Tensor, add, exp, mul, relu, sigmoid, sum, tanh, zeros } from "@tapegrad/tensor";
import { normalData } from "./inputs.js";
import { checkNoLeak, jaxArray, jaxCall, type JaxArray } from "./jaxjs.js";
import { torchProbe, type TorchJob } from "./torch.js";
import type { Case, TargetContext, Topic } from "./types.js";

const ROWS = 1024;
const COLS = 1024;
const N = ROWS * COLS;
const SIZE = "1M";
const bytes = (elements: number) => 4 * elements;

/** Every case (in run order) and the bytes one call reads and writes. */
const CASES = [
  ["add 1M", bytes(3 * N)],
  ["add 1M broadcast", bytes(2 * N + COLS)],
  ["add 1M transposed", bytes(3 * N)],
  ["mul 1M", bytes(3 * N)],
  ["exp 1M", bytes(2 * N)],
  ["tanh 1M", bytes(2 * N)],
  ["sigmoid 1M", bytes(2 * N)],
  ["relu 1M", bytes(2 * N)],
  ["sum 1M", bytes(N + 1)],
  ["add 1M, JS heap", bytes(3 * N)],
  ["exp 1M, JS heap", bytes(2 * N)],
  ["relu 1M, JS heap", bytes(2 * N)],
  ["sum 1M, JS heap", bytes(N + 1)],
] as const;
/** Cases only tapegrad has: the same ops on JS-heap arrays. */
const TAPEGRAD_ONLY: ReadonlySet<string> = new Set(["add 1M, JS heap", "exp 1M, JS heap", "relu 1M, JS heap", "sum 1M, JS heap"]);
type CaseName = (typeof CASES)[number][0];

/**
 * The seeded inputs every library gets: `a` and `b` (`[1024,1024]`), `row` (`[1024]`, broadcast
 * over the rows) and `at`, a `[1024,1024]` matrix read through its transpose.
 */
const INPUTS = { a: { seed: 7, shape: [ROWS, COLS] }, b: { seed: 8, shape: [ROWS, COLS] }, row: { seed: 9, shape: [COLS] }, at: { seed: 10, shape: [COLS, ROWS] } } as const;
const inputData = (name: keyof typeof INPUTS) => normalData(INPUTS[name].shape.reduce((x: number, y: number) => x * y, 1), INPUTS[name].seed);

/** The cases a library has, in {@link CASES} order. */
function build(fns: Partial<Record<CaseName, () => void | Promise<void>>>, async = false): Case[] {
  return CASES.flatMap(([name, work]) => {
    const fn = fns[name];
    return fn ? [{ name, size: SIZE, unit: "GB/s" as const, work, fn, ...(async ? { async } : {}) }] : [];
  });
}

/** A tapegrad input: the one place tapegrad's inputs are built (in the kernels' memory, or on the JS heap). */
const tapegradInput = (name: keyof typeof INPUTS, persistent = true) => new Tensor(inputData(name), [...INPUTS[name].shape]).clone({ persistent });

function tapegradCases(): Case[] {
  const a = tapegradInput("a");
  const b = tapegradInput("b");
  const row = tapegradInput("row");
  const at = tapegradInput("at").mT; // a [1024,1024] view with strides [1, 1024]
  const out = zeros([ROWS, COLS], { persistent: true });
  const ha = tapegradInput("a", false), hb = tapegradInput("b", false), hout = zeros([ROWS, COLS]);
  return build({
    "add 1M": () => void add(a, b, out),
    "add 1M broadcast": () => void add(a, row, out),
    "add 1M transposed": () => void add(a, at, out),
    "mul 1M": () => void mul(a, b, out),
    "exp 1M": () => void exp(a, out),
    "tanh 1M": () => void tanh(a, out),
    "sigmoid 1M": () => void sigmoid(a, out),
    "relu 1M": () => void relu(a, out),
    "sum 1M": () => void sum(a),
    "add 1M, JS heap": () => void add(ha, hb, hout),
    "exp 1M, JS heap": () => void exp(ha, hout),
    "relu 1M, JS heap": () => void relu(ha, hout),
    "sum 1M, JS heap": () => void sum(ha),
  });
}

function tfjsCases(ctx: TargetContext): Case[] {
  const tf = ctx.tf!;
  const a = tf.tensor2d(inputData("a"), [ROWS, COLS]);
  const b = tf.tensor2d(inputData("b"), [ROWS, COLS]);
  const row = tf.tensor1d(inputData("row"));
  return build({
    "add 1M": () => tf.add(a, b).dispose(),
    "add 1M broadcast": () => tf.add(a, row).dispose(),
    "mul 1M": () => tf.mul(a, b).dispose(),
    "exp 1M": () => tf.exp(a).dispose(),
    "tanh 1M": () => tf.tanh(a).dispose(),
    "sigmoid 1M": () => tf.sigmoid(a).dispose(),
    "relu 1M": () => tf.relu(a).dispose(),
    "sum 1M": () => tf.sum(a).dispose(),
  });
}

async function jaxCases(ctx: TargetContext): Promise<Case[]> {
  const jax = ctx.jax!;
  const { jit, nn, numpy: np } = jax;
  const [a, b, row, at] = (["a", "b", "row", "at"] as const).map((n) => jaxArray(jax, inputData(n), INPUTS[n].shape));
  const unary = (f: (x: JaxArray) => JaxArray) => jaxCall(jax, jit((x: JaxArray) => f(x)), [a!]);
  const fns = {
    "add 1M": jaxCall(jax, jit((x, y) => np.add(x, y)), [a!, b!]),
    "add 1M broadcast": jaxCall(jax, jit((x, y) => np.add(x, y)), [a!, row!]),
    "add 1M transposed": jaxCall(jax, jit((x, y) => np.add(x, y.transpose())), [a!, at!]),
    "mul 1M": jaxCall(jax, jit((x, y) => np.multiply(x, y)), [a!, b!]),
    "exp 1M": unary((x) => np.exp(x)),
    "tanh 1M": unary((x) => np.tanh(x)),
    "sigmoid 1M": unary((x) => nn.sigmoid(x)),
    "relu 1M": unary((x) => nn.relu(x)),
    "sum 1M": unary((x) => np.sum(x)),
  };
  for (const [name, fn] of Object.entries(fns)) await checkNoLeak(name, fn, () => [a!, b!, row!, at!]);
  return build(fns, true);
}

function torchJob(): TorchJob {
  const inputs = Object.fromEntries((["a", "b", "row", "at"] as const).map((n) => [n, { data: inputData(n), shape: INPUTS[n].shape }]));
  return { cases: CASES.filter(([name]) => !TAPEGRAD_ONLY.has(name)).map(([name, work]) => ({ name, size: SIZE, unit: "GB/s", work })), inputs };
}

/** The elementwise topic (on every tapegrad kernel set: wasm, pure TS, wasm with 2 threads). */
export const elementwiseTopic: Topic = {
  bench: "elementwise",
  perBackend: true,
  caseNames: CASES.map(([name]) => name),
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases, "jax-js": jaxCases },
  probes: { torch: torchProbe("elementwise", torchJob) },
};
