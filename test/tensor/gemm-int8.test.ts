/**
 * @file The int8 GEMM (`packInt8Weights`, `gemmU8I8`, `gemmU8I8Dequant`) against a plain integer
 * reference: seeded random shapes (1×1×1, odd K, sizes that are not multiples of the 4×8 tile or
 * of the cache blocks, batch 1, large K), extreme values (x = 0/255, zero points 0/128/255,
 * w = −128/127), on the run's kernel set (`TAPEGRAD_KERNELS`), and bit-identical across the js and
 * wasm kernel sets and thread counts; the float epilogue against a float64 reference rounded as
 * documented; bad inputs; inputs never modified.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  Rng, gemmU8I8, gemmU8I8Dequant, jsKernels, kernels, numThreads, packInt8Weights, setNumThreads, threadsReady, useKernels, wasmKernels, wasmStatus,
} from "@tapegrad/tensor";

/** `Σ_i (x[b,i] − zp)·w[o,i]` as plain JS integers (exact: far below 2⁵³), wrapped to int32. */
function reference(x: Uint8Array, zp: number, batch: number, w: Int8Array, n: number, k: number): Int32Array {
  const out = new Int32Array(batch * n);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < n; o++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += (x[b * k + i]! - zp) * w[o * k + i]!;
      out[b * n + o] = s;
    }
  }
  return out;
}

function randomU8(rng: Rng, len: number): Uint8Array {
  const x = new Uint8Array(len);
  for (let i = 0; i < len; i++) x[i] = Math.floor(rng.random() * 256);
  return x;
}

function randomI8(rng: Rng, len: number): Int8Array {
  const w = new Int8Array(len);
  for (let i = 0; i < len; i++) w[i] = Math.floor(rng.random() * 256) - 128;
  return w;
}

/** [batch, in, out] */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1], [1, 2, 1], [1, 3, 7], [2, 5, 9], [3, 7, 8], [4, 8, 8], [5, 9, 17], [1, 784, 10],
  [7, 33, 15], [13, 64, 31], [16, 100, 24], [31, 127, 65], [64, 96, 40], [37, 1023, 9],
  [128, 784, 256], [67, 513, 130], [1, 4097, 19], [200, 50, 300], [9, 3000, 70],
  // fewer than 4 rows (the one-row kernel: 4 panels at a time, then single panels)
  [2, 300, 37], [3, 129, 100], [3, 1500, 64], [1, 1025, 33], [2, 64, 8],
  // across the pure-TS kernel's blocks (96 rows, 512 features, 256 inputs)
  [100, 257, 515],
];

describe("gemmU8I8", () => {
  const rng = new Rng(14);
  it.each(SHAPES)("batch %i, in %i, out %i: the exact integers", (batch, k, n) => {
    const x = randomU8(rng, batch * k), w = randomI8(rng, n * k);
    const zp = Math.floor(rng.random() * 256);
    const xCopy = x.slice(), wCopy = w.slice();
    const packed = packInt8Weights(w, n, k);
    const want = reference(x, zp, batch, w, n, k);
    expect(gemmU8I8(x, zp, batch, packed)).toEqual(want);
    // into a given out (junk first), twice: the same
    const out = new Int32Array(batch * n).fill(-7);
    expect(gemmU8I8(x, zp, batch, packed, out)).toBe(out);
    expect(out).toEqual(want);
    expect(gemmU8I8(x, zp, batch, packed, out)).toEqual(want);
    expect(x).toEqual(xCopy);
    expect(w).toEqual(wCopy);
    packed.dispose();
  });

  it.each([
    ["x = 255, zp = 0, w = 127 (largest positive sums)", 255, 0, 127],
    ["x = 255, zp = 0, w = −128", 255, 0, -128],
    ["x = 0, zp = 255, w = −128 (largest positive, through negative x)", 0, 255, -128],
    ["x = 0, zp = 255, w = 127", 0, 255, 127],
    ["x = 0, zp = 128, w = −128", 0, 128, -128],
    ["x = 255, zp = 128, w = 127", 255, 128, 127],
    ["x = 128, zp = 128 (all zero)", 128, 128, 127],
  ] as const)("extreme values: %s", (_label, xv, zp, wv) => {
    for (const [batch, k, n] of [[5, 2049, 11], [1, 1, 1], [8, 16, 16], [3, 9, 5]] as const) {
      const x = new Uint8Array(batch * k).fill(xv), w = new Int8Array(n * k).fill(wv);
      const got = gemmU8I8(x, zp, batch, packInt8Weights(w, n, k));
      expect(got[0]).toBe((xv - zp) * wv * k);
      expect(got).toEqual(reference(x, zp, batch, w, n, k));
    }
  });

  it("mixed extremes: alternating ±, every zero point, K odd", () => {
    const batch = 6, k = 1001, n = 13;
    const x = new Uint8Array(batch * k), w = new Int8Array(n * k);
    for (let i = 0; i < x.length; i++) x[i] = (i * 7) % 3 === 0 ? 255 : i % 2 === 0 ? 0 : 1;
    for (let i = 0; i < w.length; i++) w[i] = i % 3 === 0 ? -128 : i % 3 === 1 ? 127 : -1;
    const packed = packInt8Weights(w, n, k);
    for (const zp of [0, 1, 127, 128, 254, 255]) expect(gemmU8I8(x, zp, batch, packed)).toEqual(reference(x, zp, batch, w, n, k));
  });

  it("sums beyond int32 wrap like int32 on every backend (K = 70000 of extremes)", () => {
    const k = 70_000, n = 2;
    for (const batch of [1, 3]) {
      const x = new Uint8Array(batch * k).fill(255), w = new Int8Array(n * k).fill(-128);
      const got = gemmU8I8(x, 0, batch, packInt8Weights(w, n, k));
      expect(got[0]).toBe((255 * -128 * k) | 0); // −2,284,800,000 wraps to 2,010,167,296
      expect(Array.from(got)).toEqual(new Array<number>(batch * n).fill(2_010_167_296));
    }
  });

  it("zero-size shapes", () => {
    expect(gemmU8I8(new Uint8Array(0), 0, 0, packInt8Weights(new Int8Array(12), 3, 4))).toEqual(new Int32Array(0));
    expect(gemmU8I8(new Uint8Array(0), 0, 5, packInt8Weights(new Int8Array(0), 3, 0))).toEqual(new Int32Array(15));
    expect(gemmU8I8(new Uint8Array(8), 0, 2, packInt8Weights(new Int8Array(0), 0, 4))).toEqual(new Int32Array(0));
  });

  it("a small hand-computed case", () => {
    const w = packInt8Weights(new Int8Array([1, 2, 3, -1, -2, -3]), 2, 3);
    expect(Array.from(gemmU8I8(new Uint8Array([129, 130, 131, 0, 0, 0]), 128, 2, w))).toEqual([14, -14, -768, 768]);
  });
});

describe("gemmU8I8Dequant", () => {
  /** fl32(fl32(acc·s) + bias), ReLU: the documented epilogue. */
  function dequantRef(acc: Int32Array, n: number, scales: Float32Array, bias: Float32Array | null, relu: boolean): Float32Array {
    const out = new Float32Array(acc.length);
    for (let i = 0; i < acc.length; i++) {
      const o = i % n;
      let v = Math.fround(acc[i]! * scales[o]!);
      if (bias) v = Math.fround(v + bias[o]!);
      out[i] = relu ? Math.max(v, 0) : v;
    }
    return out;
  }

  it.each([[1, 1, 1], [3, 12, 4], [128, 784, 256], [7, 33, 15], [1, 16, 3], [40, 301, 77], [2, 300, 37], [1, 1025, 33]] as const)("batch %i, in %i, out %i", (batch, k, n) => {
    const rng = new Rng(batch * 1000 + k);
    const x = randomU8(rng, batch * k), w = randomI8(rng, n * k), zp = 3 + Math.floor(rng.random() * 250);
    const xScale = Math.fround(0.02 + rng.random() * 0.05);
    const scales = Float32Array.from({ length: n }, () => Math.fround(xScale * Math.fround(0.001 + rng.random() * 0.01)));
    const bias = Float32Array.from({ length: n }, () => rng.random() * 2 - 1);
    const packed = packInt8Weights(w, n, k);
    const acc = reference(x, zp, batch, w, n, k);
    for (const relu of [false, true]) {
      for (const b of [bias, null]) {
        const got = gemmU8I8Dequant(x, zp, batch, packed, scales, b, undefined, relu);
        expect(got).toEqual(dequantRef(acc, n, scales, b, relu));
        if (relu) expect(got.some((v) => v === 0)).toBe(true);
      }
    }
    const out = new Float32Array(batch * n).fill(Number.NaN);
    expect(gemmU8I8Dequant(x, zp, batch, packed, scales, bias, out)).toBe(out);
    expect(out).toEqual(dequantRef(acc, n, scales, bias, false));
  });

  it("signed zeros and ReLU: −0 without bias, +0 after ReLU, on every backend", () => {
    const batch = 9, k = 40, n = 12;
    const x = new Uint8Array(batch * k).fill(77), w = randomI8(new Rng(3), n * k);
    const scales = new Float32Array(n).fill(-0.5);
    const packed = packInt8Weights(w, n, k);
    const plain = gemmU8I8Dequant(x, 77, batch, packed, scales, null); // acc = 0: fl32(0·(−0.5)) = −0
    expect(plain.every((v) => Object.is(v, -0))).toBe(true);
    const relu = gemmU8I8Dequant(x, 77, batch, packed, scales, null, undefined, true);
    expect(relu.every((v) => Object.is(v, 0))).toBe(true);
    const withBias = gemmU8I8Dequant(x, 77, batch, packed, scales, new Float32Array(n).fill(-0)); // −0 + −0 = −0
    expect(withBias.every((v) => Object.is(v, -0))).toBe(true);
  });

  it("matches the float64 value of a quantized linear within float32 rounding", () => {
    // out64 = acc·(xs·ws) + bias in float64 (the golden file's `output_float64`)
    const batch = 4, k = 8, n = 5;
    const rng = new Rng(5);
    const x = randomU8(rng, batch * k), w = randomI8(rng, n * k);
    const scales = Float32Array.from({ length: n }, () => Math.fround(0.003 * (1 + rng.random())));
    const bias = Float32Array.from({ length: n }, () => rng.random() - 0.5);
    const got = gemmU8I8Dequant(x, 100, batch, packInt8Weights(w, n, k), scales, bias);
    const acc = reference(x, 100, batch, w, n, k);
    for (let i = 0; i < got.length; i++) {
      const want = acc[i]! * scales[i % n]! + bias[i % n]!;
      expect(Math.abs(got[i]! - want)).toBeLessThanOrEqual(2 ** -22 * (Math.abs(want) + Math.abs(bias[i % n]!)));
    }
  });
});

describe("int8 GEMM backends", () => {
  const wasm = process.env.TAPEGRAD_KERNELS === "js" ? undefined : wasmKernels();
  const initialThreads = numThreads();
  afterAll(() => setNumThreads(initialThreads));

  it("with the js kernel set no WebAssembly is compiled", () => {
    if (process.env.TAPEGRAD_KERNELS !== "js") return;
    expect(kernels().name).toBe("js");
    const x = new Uint8Array(64 * 100).fill(3), w = new Int8Array(100 * 50).fill(-2);
    expect(gemmU8I8(x, 1, 64, packInt8Weights(w, 50, 100))[0]).toBe(-400);
    expect(wasmStatus().ready).toBe(false);
  });

  it("js and wasm kernels (1 and 2 threads) give identical integers, whichever packed the weights", async () => {
    if (!wasm) return;
    const rng = new Rng(99);
    const sets = [jsKernels, wasm, wasmKernels({ threads: 2 })!];
    await threadsReady(); // the 2-thread set then really splits the larger products
    for (const [batch, k, n] of [[128, 784, 256], [33, 65, 47], [1, 300, 9], [260, 129, 520]] as const) {
      const x = randomU8(rng, batch * k), w = randomI8(rng, n * k);
      const want = reference(x, 77, batch, w, n, k);
      for (const packer of sets) {
        const prev = useKernels(packer);
        const packed = packInt8Weights(w, n, k);
        useKernels(prev);
        for (const runner of sets) {
          const before = useKernels(runner);
          try {
            expect(gemmU8I8(x, 77, batch, packed)).toEqual(want);
          } finally {
            useKernels(before);
          }
        }
        packed.dispose();
      }
    }
  });
});

describe("int8 GEMM bad input", () => {
  const w = packInt8Weights(new Int8Array(12), 3, 4);
  it("packInt8Weights", () => {
    expect(() => packInt8Weights(new Uint8Array(12) as unknown as Int8Array, 3, 4)).toThrow(/packInt8Weights: w must be an Int8Array \(got Uint8Array\)/);
    expect(() => packInt8Weights(new Int8Array(11), 3, 4)).toThrow(/packInt8Weights: w has 11 elements, expected outFeatures·inFeatures = 3·4 = 12/);
    expect(() => packInt8Weights(new Int8Array(12), -3, -4)).toThrow(/packInt8Weights: outFeatures must be a non-negative integer \(got -3\)/);
    expect(() => packInt8Weights(new Int8Array(12), 3, 4.5)).toThrow(/packInt8Weights: inFeatures must be a non-negative integer \(got 4.5\)/);
  });
  it("gemmU8I8", () => {
    const x = new Uint8Array(8);
    expect(() => gemmU8I8(new Int8Array(8) as unknown as Uint8Array, 0, 2, w)).toThrow(/gemmU8I8: x must be a Uint8Array of quint8 activations \(got Int8Array\)/);
    expect(() => gemmU8I8(x, 256, 2, w)).toThrow(/gemmU8I8: xZeroPoint must be an integer in \[0, 255\] \(got 256\)/);
    expect(() => gemmU8I8(x, -1, 2, w)).toThrow(/xZeroPoint must be an integer in \[0, 255\] \(got -1\)/);
    expect(() => gemmU8I8(x, 0.5, 2, w)).toThrow(/\(got 0.5\)/);
    expect(() => gemmU8I8(x, 0, 3, w)).toThrow(/gemmU8I8: x has 8 elements, expected batch·inFeatures = 3·4 = 12/);
    expect(() => gemmU8I8(x, 0, -1, w)).toThrow(/gemmU8I8: batch must be a non-negative integer \(got -1\)/);
    expect(() => gemmU8I8(x, 0, 2, { outFeatures: 3, inFeatures: 4, dispose() {} })).toThrow(/gemmU8I8: w must be weights returned by packInt8Weights \(got Object\)/);
    expect(() => gemmU8I8(x, 0, 2, w, new Int32Array(5))).toThrow(/gemmU8I8: out has 5 elements, expected batch·outFeatures = 2·3 = 6/);
    expect(() => gemmU8I8(x, 0, 2, w, new Float32Array(6) as unknown as Int32Array)).toThrow(/gemmU8I8: out must be an Int32Array \(got Float32Array\)/);
  });
  it("gemmU8I8Dequant", () => {
    const x = new Uint8Array(8), s = new Float32Array(3);
    expect(() => gemmU8I8Dequant(x, 0, 2, w, new Float32Array(2), null)).toThrow(/gemmU8I8Dequant: scales has 2 elements, expected outFeatures = 3/);
    expect(() => gemmU8I8Dequant(x, 0, 2, w, new Float64Array(3) as unknown as Float32Array, null)).toThrow(/gemmU8I8Dequant: scales must be a Float32Array \(got Float64Array\)/);
    expect(() => gemmU8I8Dequant(x, 0, 2, w, s, new Float32Array(4))).toThrow(/gemmU8I8Dequant: bias has 4 elements, expected outFeatures = 3/);
    expect(() => gemmU8I8Dequant(x, 0, 2, w, s, null, new Float32Array(7))).toThrow(/gemmU8I8Dequant: out has 7 elements, expected batch·outFeatures = 2·3 = 6/);
    expect(() => gemmU8I8Dequant(x, 300, 2, w, s, null)).toThrow(/gemmU8I8Dequant: xZeroPoint must be an integer in \[0, 255\] \(got 300\)/);
  });
  it("disposed weights", () => {
    const d = packInt8Weights(new Int8Array(4), 2, 2);
    d.dispose();
    d.dispose(); // idempotent
    expect(() => gemmU8I8(new Uint8Array(2), 0, 1, d)).toThrow(/gemmU8I8: the packed int8 weights were disposed/);
    expect(() => gemmU8I8Dequant(new Uint8Array(2), 0, 1, d, new Float32Array(2), null)).toThrow(/gemmU8I8Dequant: the packed int8 weights were disposed/);
  });
});
