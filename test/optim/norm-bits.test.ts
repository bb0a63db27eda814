/**
 * @file One summation order for every norm: the global norm, the clip coefficient and the clipped
 * gradients have the same bits with the pure-TS kernels, the wasm kernels on one thread and on two
 * threads, for gradients in long-lived (kernel) storage and in ordinary arrays. The lists are
 * large enough (1.5M floats) that the two-thread run splits the sum between threads.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Rng, Tensor, allocate, jsKernels, numThreads, randn, setNumThreads, threadsReady, useKernels, wasmKernels, type KernelSet } from "@tapegrad/tensor";
import { variable } from "@tapegrad/autograd";
import { clipGradNorm, getTotalNorm } from "@tapegrad/optim";

const SIZES = [700_001, 500_000, 299_999, 3, 17];
const data = SIZES.map((n, i) => {
  const d = randn([n], new Rng(40 + i)).data;
  d[0] = 1e20; // float32 squares would overflow: the float64 sum must not
  return d;
});

interface Outcome {
  norm: number;
  totalNorm: number;
  coef: number;
  grads: Float32Array[];
}

function run(set: KernelSet, persistent: boolean): Outcome {
  const prev = useKernels(set);
  try {
    const params = data.map((d) => {
      const p = variable(new Tensor(new Float32Array(d.length), [d.length]));
      const g = allocate(d.length, { persistent });
      g.set(d);
      p.grad = new Tensor(g, [d.length]);
      return p;
    });
    const norm = getTotalNorm(params);
    const r = clipGradNorm(params, 1e19);
    return { norm, totalNorm: r.totalNorm, coef: r.coef!, grads: params.map((p) => p.grad!.toFloat32Array()) };
  } finally {
    useKernels(prev);
  }
}

function expectSame(a: Outcome, b: Outcome): void {
  expect(Object.is(a.norm, b.norm)).toBe(true);
  expect(Object.is(a.totalNorm, b.totalNorm)).toBe(true);
  expect(Object.is(a.coef, b.coef)).toBe(true);
  const bytes = (g: Float32Array) => new Uint8Array(g.buffer, g.byteOffset, g.byteLength); // bitwise, NaN payloads included
  a.grads.forEach((g, i) => expect(bytes(g)).toEqual(bytes(b.grads[i]!)));
}

describe("norms and clip coefficients are bit-identical across backends and thread counts", () => {
  const threadsBefore = numThreads();
  afterAll(() => setNumThreads(threadsBefore));
  const reference = run(jsKernels, false);

  it("the reference is the float64 norm, finite despite 1e20 elements, and clipping happened", () => {
    let s = 0;
    for (const d of data) for (const x of d) s += x * x;
    expect(reference.norm / Math.sqrt(s)).toBeCloseTo(1, 12);
    expect(Number.isFinite(reference.norm)).toBe(true);
    expect(reference.coef).toBeLessThan(1);
  });

  it("pure-TS kernels: ordinary and long-lived storage", () => {
    expectSame(run(jsKernels, true), reference);
  });

  const wasm = wasmKernels();
  it.runIf(wasm !== undefined)("wasm kernels on 1 thread: long-lived (in wasm memory) and ordinary arrays", () => {
    setNumThreads(1);
    expectSame(run(wasm!, true), reference);
    expectSame(run(wasm!, false), reference);
  });

  it.runIf(wasm !== undefined)("wasm kernels on 2 threads: long-lived (in wasm memory) and ordinary arrays", async () => {
    setNumThreads(2);
    await threadsReady();
    expectSame(run(wasm!, true), reference);
    expectSame(run(wasm!, false), reference);
  });
});
