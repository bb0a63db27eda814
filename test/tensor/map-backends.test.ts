/**
 * @file One definition, the same bits everywhere: every elementwise op's kernel (forward ops, the
 * fused backward rules, `where`) run by the interpreter, the compiled JavaScript loop and the
 * WebAssembly code (in place in wasm memory and staged from the JS heap), on contiguous,
 * broadcast (row and column), strided and transposed layouts with special values and loop tails.
 */
import { describe, expect, it } from "vitest";
import { BINARY_KERNELS, UNARY_KERNELS, allocate, wasmKernels, type MapKernel } from "@tapegrad/tensor";
import { interpretBlock } from "../../packages/tensor/src/map/interpret.js";
import { jitBlock } from "../../packages/tensor/src/map/jit.js";
import { WHERE_KERNEL } from "../../packages/tensor/src/map/elementwise-defs.js";

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-45, 3.5, -2, 1e38, -1e38, 0.5, -0.5, 1, -1, 88.7, -103, 20.5, 1.5, 2.5];
const wasm = wasmKernels();

function data(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? SPECIAL[(i / 3 + seed) % SPECIAL.length]! : Math.sin(i * 1.7 + seed) * (1 + (i % 7))));
}

const sameBits = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

interface Layout {
  readonly name: string;
  readonly n: number;
  readonly m: number;
  /** Per input: element stride, row stride, offset (the output is dense rows). */
  readonly inputs: (k: number) => { s: number; r: number; o: number; len: number }[];
}

const LAYOUTS: Layout[] = [
  { name: "contiguous 1x37", n: 37, m: 1, inputs: (k) => Array.from({ length: k }, () => ({ s: 1, r: 0, o: 2, len: 40 })) },
  { name: "contiguous 1x4099", n: 4099, m: 1, inputs: (k) => Array.from({ length: k }, () => ({ s: 1, r: 0, o: 0, len: 4099 })) },
  { name: "rows 5x13, row broadcast", n: 13, m: 5, inputs: (k) => Array.from({ length: k }, (_, j) => (j === k - 1 ? { s: 1, r: 0, o: 1, len: 14 } : { s: 1, r: 13, o: 0, len: 65 })) },
  { name: "rows 6x9, column broadcast", n: 9, m: 6, inputs: (k) => Array.from({ length: k }, (_, j) => (j === k - 1 ? { s: 0, r: 1, o: 0, len: 6 } : { s: 1, r: 9, o: 0, len: 54 })) },
  { name: "transposed 7x11", n: 11, m: 7, inputs: (k) => Array.from({ length: k }, (_, j) => (j === 0 ? { s: 7, r: 1, o: 0, len: 77 } : { s: 1, r: 11, o: 0, len: 77 })) },
  { name: "negative strides 3x10", n: 10, m: 3, inputs: (k) => Array.from({ length: k }, () => ({ s: -2, r: -20, o: 59, len: 60 })) },
  { name: "single elements 9x1", n: 1, m: 9, inputs: (k) => Array.from({ length: k }, () => ({ s: 0, r: 3, o: 0, len: 27 })) },
];

const KERNELS: [string, MapKernel, number[]][] = [
  ...Object.values(UNARY_KERNELS).map((k) => [k.name, k, k.name === "clamp" || k.name === "clampGrad" ? [-1.5, 2] : k.name === "softplus" ? [1.5, 20] : [0.25, 3]] as [string, MapKernel, number[]]),
  ...Object.values(BINARY_KERNELS).map((k) => [k.name, k, k.name === "clampGrad" ? [-1.5, 2] : k.name === "softplusGrad" ? [2, 20] : k.name === "powGrad" ? [3, 0] : [0.25, 3]] as [string, MapKernel, number[]]),
  ["where", WHERE_KERNEL, []],
];

type Runner = (k: MapKernel, arrays: Float32Array[], offsets: number[], strides: number[], rowStrides: number[], n: number, m: number, s: number[]) => void;

const RUNNERS: [string, Runner, boolean][] = [
  ["interpreter", interpretBlock, false],
  ["js loop", (k, a, o, s, r, n, m, sc) => expect(jitBlock(k, a, o, s, r, n, m, sc)).toBe(true), false],
  ...(wasm ? ([["wasm, JS-heap operands", wasm.mapBlock, false], ["wasm, operands in wasm memory", wasm.mapBlock, true]] as [string, Runner, boolean][]) : []),
];

function run(runner: Runner, placed: boolean, k: MapKernel, layout: Layout, scalars: number[]): Float32Array {
  const inputs = layout.inputs(k.numArrays - 1);
  const place = (src: Float32Array) => {
    if (!placed) return src.slice();
    const a = allocate(src.length, { persistent: true });
    a.set(src);
    return a;
  };
  const out = place(new Float32Array(layout.n * layout.m));
  const arrays = [out, ...inputs.map((l, j) => place(data(l.len, 3 * j + 1)))];
  runner(k, arrays, [0, ...inputs.map((l) => l.o)], [1, ...inputs.map((l) => l.s)], [layout.n, ...inputs.map((l) => l.r)], layout.n, layout.m, scalars);
  return out.slice();
}

describe("every elementwise kernel gives the same bits on every backend and layout", () => {
  for (const [name, k, scalars] of KERNELS) {
    it(name, () => {
      for (const layout of LAYOUTS) {
        const results = RUNNERS.map(([label, runner, placed]) => [label, run(runner, placed, k, layout, scalars)] as const);
        const [refLabel, ref] = results[0]!;
        for (const [label, got] of results.slice(1)) {
          for (let i = 0; i < ref.length; i++) {
            if (!sameBits(got[i]!, ref[i]!)) expect.fail(`${name}, ${layout.name}: ${label} element ${i} is ${got[i]}, ${refLabel} gives ${ref[i]}`);
          }
        }
      }
    });
  }
});
