/**
 * @file The reduction row kernel gives the same bits on every backend: the wasm set's SIMD folds
 * (in place in wasm memory, or staged in pieces from the JS heap) against the pure-TS kernel, for
 * every kind, row lengths with and without a tail, rows longer than a staging piece, and special
 * values (NaN wins max/min; ±Infinity; signed zeros).
 */
import { describe, expect, it } from "vitest";
import { ReduceKind, allocate, jsKernels, wasmKernels } from "@tapegrad/tensor";

const wasm = wasmKernels();
const sameBits = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

function row(n: number, seed: number, special: boolean): Float32Array {
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 3 + 0.25);
  if (special && n > 10) {
    x[n - 2] = -0;
    x[3] = seed % 2 ? Infinity : -Infinity;
    if (seed % 3 === 0) x[n >> 1] = NaN;
  }
  return x;
}

describe.runIf(wasm !== undefined)("reduceRow: wasm folds match the pure-TS kernel bit for bit", () => {
  for (const [kindName, kind] of Object.entries(ReduceKind)) {
    it(kindName, () => {
      for (const n of [64, 65, 66, 67, 1000, 16384, 16387, 40_001]) {
        for (const [seed, special] of [[1, false], [2, true], [3, true]] as const) {
          for (const placed of [false, true]) {
            const src = row(n + 5, seed, special);
            const x = allocate(src.length, { persistent: placed });
            x.set(src);
            const center = Float64Array.of(0.125);
            const init = kind === ReduceKind.PROD ? 1 : 0.5;
            const a = Float64Array.of(init), b = Float64Array.of(init);
            jsKernels.reduceRow(kind, x, 5, 1, a, 0, 0, n, center);
            wasm!.reduceRow(kind, x, 5, 1, b, 0, 0, n, center);
            if (!sameBits(a[0]!, b[0]!)) expect.fail(`${kindName} n=${n} seed=${seed} ${placed ? "placed" : "JS heap"}: wasm ${b[0]} vs js ${a[0]}`);
          }
        }
      }
    });
  }

  it("a strided row and a row of outputs (kept inner dimension) go to the same kernel", () => {
    const x = row(300, 4, false), a = new Float64Array(100), b = new Float64Array(100);
    jsKernels.reduceRow(ReduceKind.SUM, x, 0, 3, a, 0, 1, 100, a);
    wasm!.reduceRow(ReduceKind.SUM, x, 0, 3, b, 0, 1, 100, b);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(a[1]).toBe(Math.fround(x[3]!));
  });
});

describe("reduceRow fold order", () => {
  it("folds element k into lane k mod 4, then (l0 + l1) + (l2 + l3)", () => {
    const x = Float32Array.of(1e16, 1, -1e16, 1, 3);
    const acc = new Float64Array(1);
    jsKernels.reduceRow(ReduceKind.SUM, x, 0, 1, acc, 0, 0, 5, acc);
    // lane 0 gets elements 0 and 4; a sequential sum would lose the ones to rounding differently
    const l0 = 1e16 + 3, l1 = 1, l2 = -1e16, l3 = 1;
    expect(acc[0]).toBe(l0 + l1 + (l2 + l3));
  });
});
