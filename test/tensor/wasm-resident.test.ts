/**
 * @file The wasm-resident buffer prototype (`WasmHeap`): allocation, the float64-accurate sum of
 * squares, clip-by-global-norm (PyTorch formula), and view validity across memory growth for
 * non-shared (re-viewed on access) and shared (never detached) heaps.
 */
import { describe, expect, it } from "vitest";
import { Rng, WasmHeap, simdSupported } from "@tapegrad/tensor";

function fillNormal(x: Float32Array, rng: Rng, scale = 1): void {
  for (let i = 0; i < x.length; i++) x[i] = rng.normal() * scale;
}

function sumsq64(xs: readonly Float32Array[]): number {
  let s = 0;
  for (const x of xs) for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return s;
}

describe.runIf(simdSupported())("WasmHeap", () => {
  it("allocates zeroed, 64-byte aligned arrays and reuses freed storage", () => {
    const heap = WasmHeap.create()!;
    const a = heap.alloc(10), b = heap.alloc(0), c = heap.alloc(1000);
    for (const x of [a, b, c]) {
      expect(x.byteOffset % 64).toBe(0);
      expect(Array.from(x.data).every((v) => v === 0)).toBe(true);
    }
    a.data.fill(3);
    heap.free(a);
    expect(() => a.data).toThrow(/after free/);
    const d = heap.alloc(12); // same 64-byte size class as a
    expect(d.byteOffset).toBe(a.byteOffset);
    expect(Array.from(d.data).every((v) => v === 0)).toBe(true);
    expect(() => heap.alloc(-1)).toThrow(RangeError);
  });

  it("sumOfSquares matches float64 over many odd-sized arrays", () => {
    const heap = WasmHeap.create()!;
    const rng = new Rng(1);
    const arrs = [1, 3, 16, 17, 4095, 4097, 100_003, 0, 250_000].map((n) => {
      const r = heap.alloc(n);
      fillNormal(r.data, rng, 10);
      return r;
    });
    const ref = sumsq64(arrs.map((r) => r.data));
    expect(Math.abs(heap.sumOfSquares(arrs) - ref)).toBeLessThanOrEqual(1e-6 * ref);
  });

  it("clipByGlobalNorm: unchanged below the threshold, scaled to maxNorm above, NaN propagates", () => {
    const heap = WasmHeap.create()!;
    const rng = new Rng(2);
    const arrs = [300, 77, 5000].map((n) => heap.alloc(n));
    for (const r of arrs) fillNormal(r.data, rng);
    const before = arrs.map((r) => r.data.slice());
    const norm = Math.sqrt(sumsq64(before));
    expect(heap.clipByGlobalNorm(arrs, norm * 2)).toBeCloseTo(norm, 3);
    arrs.forEach((r, i) => expect(Array.from(r.data)).toEqual(Array.from(before[i]!)));
    const got = heap.clipByGlobalNorm(arrs, 1);
    expect(got).toBeCloseTo(norm, 3);
    expect(Math.sqrt(heap.sumOfSquares(arrs))).toBeCloseTo(1, 5);
    const zeros = [heap.alloc(50)];
    expect(heap.clipByGlobalNorm(zeros, 1)).toBe(0);
    zeros[0]!.data[7] = NaN;
    expect(heap.clipByGlobalNorm(zeros, 1)).toBeNaN();
    expect(zeros[0]!.data[0]).toBeNaN(); // scaled by NaN, as torch.nn.utils.clip_grad_norm_ does
    expect(() => heap.clipByGlobalNorm(arrs, -1)).toThrow(RangeError);
  });

  it("non-shared heap: growth detaches old views, .data re-views the same values", () => {
    const heap = WasmHeap.create()!;
    const a = heap.alloc(100);
    a.data.fill(5);
    const old = a.data;
    heap.alloc(2_000_000); // forces memory.grow
    expect(old.length).toBe(0); // detached
    expect(a.data.length).toBe(100);
    expect(a.data[99]).toBe(5);
  });

  it.runIf(typeof SharedArrayBuffer !== "undefined")("shared heap: views survive growth", () => {
    const heap = WasmHeap.create({ shared: true, maximumBytes: 64 << 20 })!;
    expect(heap.shared).toBe(true);
    const a = heap.alloc(100);
    const view = a.data;
    view.fill(2);
    heap.alloc(2_000_000);
    expect(view.length).toBe(100);
    expect(view[0]).toBe(2);
    expect(heap.sumOfSquares([a])).toBe(400);
  });
});
