/**
 * @file Conditions in map kernels (`x.gt(y).select(a, b)`), float32 constants on the vector path,
 * and the ReLU rows the wasm kernel set runs as map kernels: the same values as the pure-TS row
 * kernels (NaN payloads aside) on long and short, placed and ordinary rows.
 */
import { describe, expect, it } from "vitest";
import { BINARY_KERNELS, BinOp, UNARY_KERNELS, UnOp, allocate, foreachMap, jsKernels, mapKernel, relu, tensor, useKernels, wasmKernels, type KernelSet } from "@tapegrad/tensor";

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-45, 3.5, -2, 1e38];
const sameValue = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

function data(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i % 4 === 0 ? SPECIAL[(i / 4 + seed) % SPECIAL.length]! : Math.sin(i * 1.7 + seed) * 3));
}

const wasm = wasmKernels();
const sets: [string, KernelSet][] = [["js", jsKernels], ...(wasm ? [["wasm", wasm] as [string, KernelSet]] : [])];

describe("select() in map kernels", () => {
  const kernels = {
    reluGrad: mapKernel("t-reluGrad", { arrays: ["o", "g", "x"], scalars: [] }, ({ g, x }) => ({ o: x.gt(0).select(g, 0) })),
    mixed: mapKernel("t-mixed", { arrays: ["o", "g", "x"], scalars: ["s"] }, ({ g, x }, { s }) => ({ o: x.mul(s).gt(g).select(g.mul(0.5), x.f32().add(1)).f32() })),
    uniformBranches: mapKernel("t-uniform", { arrays: ["o", "x"], scalars: ["a"] }, ({ x }, { a }) => ({ o: x.gt(a).select(a, -1.25) })),
  };
  const refs: Record<keyof typeof kernels, (g: number, x: number, s: number) => number> = {
    reluGrad: (g, x) => (x > 0 ? g : 0),
    mixed: (g, x, s) => Math.fround(x * s > g ? g * 0.5 : Math.fround(x) + 1),
    uniformBranches: (_g, x, a) => (x > a ? a : -1.25),
  };
  for (const [setName, set] of sets) {
    for (const persistent of [false, true]) {
      for (const n of [1, 3, 4, 7, 1003]) {
        it(`${setName}, ${persistent ? "placed" : "ordinary"} arrays, n = ${n}: the per-element reference`, () => {
          const prev = useKernels(set);
          try {
            const g = data(n, 1), x = data(n, 5);
            for (const [name, k] of Object.entries(kernels) as [keyof typeof kernels, (typeof kernels)[keyof typeof kernels]][]) {
              const place = (a: Float32Array) => {
                const b = allocate(a.length, { persistent });
                b.set(a);
                return b;
              };
              const o = place(new Float32Array(n)), gp = place(g), xp = place(x);
              const s = name === "mixed" ? 0.7 : name === "uniformBranches" ? 0.5 : 0;
              foreachMap(k, k.numArrays === 3 ? [[o], [gp], [xp]] : [[o], [xp]], k.numScalars ? [s] : []);
              for (let i = 0; i < n; i++) {
                const want = Math.fround(refs[name](g[i]!, x[i]!, s));
                if (!sameValue(o[i]!, want)) expect.fail(`${name} element ${i} (g ${g[i]}, x ${x[i]}): ${o[i]} vs ${want}`);
              }
            }
          } finally {
            useKernels(prev);
          }
        });
      }
    }
  }

  it("a comparison is only a condition, and select needs one", () => {
    expect(() => mapKernel("bad1", { arrays: ["o", "x"], scalars: [] }, ({ x }) => ({ o: x.gt(0) }))).toThrow(/a condition can only be used by select\(\)/);
    expect(() => mapKernel("bad2", { arrays: ["o", "x"], scalars: [] }, ({ x }) => ({ o: x.gt(0).add(1) }))).toThrow(/a condition can only be used by select\(\)/);
    expect(() => mapKernel("bad3", { arrays: ["o", "x"], scalars: [] }, ({ x }) => ({ o: x.select(1, 0) }))).toThrow(/select\(\) needs a condition/);
  });
});

describe.runIf(wasm !== undefined)("ReLU rows of the wasm kernel set (map kernels) match the pure-TS rows", () => {
  for (const n of [5, 2047, 2048, 4099, 70_000]) {
    for (const persistent of [false, true]) {
      it(`n = ${n}, ${persistent ? "placed" : "ordinary"} arrays, at an offset`, () => {
        const x = allocate(n + 3, { persistent }), g = allocate(n + 3, { persistent });
        x.set(data(n + 3, 2));
        g.set(data(n + 3, 9));
        const outs = [jsKernels, wasm!].map((set) => {
          const o = new Float32Array(n + 3), d = new Float32Array(n + 3);
          set.mapBlock(UNARY_KERNELS[UnOp.RELU], [o, x], [3, 3], [1, 1], [0, 0], n, 1, [0, 0]);
          set.mapBlock(BINARY_KERNELS[BinOp.RELU_GRAD], [d, g, x], [3, 3, 3], [1, 1, 1], [0, 0, 0], n, 1, [0, 0]);
          return [o, d] as const;
        });
        for (let i = 0; i < n + 3; i++) {
          if (!sameValue(outs[0]![0][i]!, outs[1]![0][i]!)) expect.fail(`relu element ${i} (x ${x[i]}): ${outs[0]![0][i]} vs ${outs[1]![0][i]}`);
          if (!sameValue(outs[0]![1][i]!, outs[1]![1][i]!)) expect.fail(`relu grad element ${i} (x ${x[i]}): ${outs[0]![1][i]} vs ${outs[1]![1][i]}`);
        }
        expect(outs[1]![0][0]).toBe(0); // nothing written before the offset
      });
    }
  }

  it("relu(-0) is +0 and NaN stays NaN through the op", () => {
    const prev = useKernels(wasm!);
    try {
      const x = new Float32Array(4096).fill(-0);
      x[7] = NaN;
      const y = relu(tensor(Array.from(x), [4096])).data;
      expect(Object.is(y[0], 0)).toBe(true);
      expect(y[7]).toBeNaN();
    } finally {
      useKernels(prev);
    }
  });
});
