/**
 * @file The two-thread wasm GEMM prototype (Node worker_threads + shared wasm memory): same
 * results as the single-thread wasm GEMM (bit for bit: same kernels, same blocking) and as a
 * float64 reference, for every operand layout and with accumulation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng, gemmWasm, initWasmThreads, wasmKernels, type ThreadedKernelSet } from "@tapegrad/tensor";

const supported = wasmKernels() !== undefined && typeof SharedArrayBuffer !== "undefined";

describe.runIf(supported)("initWasmThreads (2 threads)", () => {
  let threaded: ThreadedKernelSet | undefined;
  beforeAll(async () => {
    threaded = await initWasmThreads();
  });
  afterAll(() => threaded?.dispose());

  it("starts a helper thread", () => {
    expect(threaded?.name).toBe("wasm-threads");
  });

  it.each([
    [200, 150, 300, false, false, false],
    [203, 157, 301, true, false, true],
    [130, 99, 600, false, true, false],
    [257, 300, 129, true, true, true],
    [8, 1000, 200, false, false, false],
    [40, 30, 20, false, false, true], // below the threshold: single-thread path
  ])("m=%i n=%i k=%i (A transposed %s, B transposed %s, accumulate %s)", (m, n, k, ta, tb, acc) => {
    const rng = new Rng(m * 7 + n);
    const rand = (len: number) => Float32Array.from({ length: len }, () => rng.normal());
    const a = rand(m * k), b = rand(k * n), c = rand(m * n), c1 = c.slice(), c0 = c.slice();
    const [ars, acs] = ta ? [1, m] : [k, 1];
    const [brs, bcs] = tb ? [1, k] : [n, 1];
    threaded!.gemm(m, n, k, a, 0, ars, acs, b, 0, brs, bcs, c, 0, n, acc);
    gemmWasm(m, n, k, a, 0, ars, acs, b, 0, brs, bcs, c1, 0, n, acc);
    expect(Array.from(c)).toEqual(Array.from(c1));
    for (let i = 0; i < m; i += 7) {
      for (let j = 0; j < n; j += 5) {
        let s = acc ? c0[i * n + j]! : 0, scale = Math.abs(s);
        for (let p = 0; p < k; p++) {
          const v = a[i * ars + p * acs]! * b[p * brs + j * bcs]!;
          s += v;
          scale += Math.abs(v);
        }
        expect(Math.abs(c[i * n + j]! - s)).toBeLessThanOrEqual(4e-6 * scale);
      }
    }
  });
});
