/**
 * @file Activation quantization (`quantizeU8`, `aminmaxF32`, `gemmQuantU8I8Dequant`) against a
 * scalar reference written from torch's definition (`clamp(zp + rne(fl32(x·inv)), qmin, qmax)`,
 * the `quantizeValue` semantics of @tapegrad/compress): random data, exact ties (x·inv = k + ½,
 * negative too, and ties created by the float32 rounding of the product), saturation at both
 * ends, huge values (±1e30, ±3e9, products that overflow float32), zero points 0/128/255 and
 * reduced ranges, every length 0..67 (SIMD tails) and lengths beyond one staged piece;
 * non-finite detection (first index); identical bytes on the run's kernel set
 * (`TAPEGRAD_KERNELS`) and across the js and wasm sets (1 and 2 threads); inputs never modified.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  type KernelSet, Rng, aminmaxF32, gemmQuantU8I8Dequant, gemmU8I8Dequant, jsKernels, kernels, numThreads, packInt8Weights, quantizeU8,
  setNumThreads, threadsReady, wasmKernels, wasmStatus,
} from "@tapegrad/tensor";
import { withKernels } from "../helpers/kernels.js";

/** Round half to even, written independently of the library (floor and parity). */
function rne(v: number): number {
  const f = Math.floor(v), d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** The scalar reference of one element (finite or not: NaN → qmin, ±Infinity saturates). */
function refValue(x: number, inv: number, zp: number, qmin: number, qmax: number): number {
  const p = Math.fround(x * inv);
  if (Number.isNaN(p)) return qmin;
  if (p === Infinity) return qmax;
  if (p === -Infinity) return qmin;
  const q = zp + rne(p);
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

function reference(x: Float32Array, inv: number, zp: number, qmin = 0, qmax = 255): Uint8Array {
  return Uint8Array.from(x, (v) => refValue(v, inv, zp, qmin, qmax));
}

/** The first index where two byte/float arrays differ (−1: equal; NaN equals NaN), cheaper than `toEqual` on long arrays. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function randomFloats(rng: Rng, n: number, spread: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (rng.random() * 2 - 1) * spread;
  return x;
}

const wasm = process.env.TAPEGRAD_KERNELS === "js" ? undefined : wasmKernels();
/** The run's set first, then the others available (bytes must agree across all). */
const SETS: readonly KernelSet[] = [kernels(), jsKernels, ...(wasm ? [wasm] : [])];


/** quantizeU8 on `set` into a fresh (junk-filled) buffer: the bytes and the returned index. */
function run(set: KernelSet, x: Float32Array, inv: number, zp: number, qmin = 0, qmax = 255): { q: Uint8Array; bad: number } {
  const q = new Uint8Array(x.length).fill(77);
  const bad = withKernels(set, () => quantizeU8(x, inv, zp, q, qmin, qmax));
  return { q, bad };
}

describe("quantizeU8 with the js kernel set", () => {
  it("compiles no WebAssembly", () => {
    if (process.env.TAPEGRAD_KERNELS !== "js") return;
    expect(kernels().name).toBe("js");
    const x = randomFloats(new Rng(1), 5000, 10), q = new Uint8Array(5000);
    expect(quantizeU8(x, 4, 128, q)).toBe(-1);
    expect(q).toEqual(reference(x, 4, 128));
    expect(aminmaxF32(x).firstNonFinite).toBe(-1);
    expect(wasmStatus().ready).toBe(false);
  });
});

describe("quantizeU8", () => {
  const rng = new Rng(14);
  const LENGTHS = [...Array.from({ length: 68 }, (_, i) => i), 255, 256, 1000, 65535, 65536 + 67, 200_003];

  it.each(SETS.map((s, i) => [i === 0 ? `${s.name} (the run's set)` : s.name, s] as const))("random data, every length 0..67 and large, zero points 0/128/255: %s", (_name, set) => {
    for (const n of LENGTHS) {
      for (const zp of [0, 128, 255]) {
        const scale = Math.fround(0.01 + rng.random() * 0.2), inv = Math.fround(1 / scale);
        const x = randomFloats(rng, n, 200 * scale); // about half saturates
        const copy = x.slice();
        const { q, bad } = run(set, x, inv, zp);
        expect(bad).toBe(-1);
        expect(firstDiff(q, reference(x, inv, zp))).toBe(-1);
        expect(firstDiff(x, copy)).toBe(-1);
      }
    }
  });

  it("ties round half to even (x·inv = k + ½ for k in −300..300), zero point added after rounding", () => {
    const x = Float32Array.from({ length: 601 }, (_, i) => i - 300 + 0.5);
    for (const set of SETS) {
      for (const zp of [0, 128, 255]) {
        const { q } = run(set, x, 1, zp);
        expect(q).toEqual(reference(x, 1, zp));
      }
      // spot values with zp 128: 0.5 → 0, 1.5 → 2, 2.5 → 2, −0.5 → −0, −1.5 → −2, −2.5 → −2
      const spots = new Float32Array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, -3.5]);
      expect(Array.from(run(set, spots, 1, 128).q)).toEqual([128, 130, 130, 128, 126, 126, 132, 124]);
      // the same ties through a scale: x = 2k + 1 with inv = ½
      expect(Array.from(run(set, Float32Array.from([1, 3, 5, -1, -3, -5]), 0.5, 100).q)).toEqual([100, 102, 102, 100, 98, 98]);
      // a tie made by the float32 rounding of the product: fl32(0.1)·5 = 0.5000000075 → 0.5 → 0
      expect(Array.from(run(set, Float32Array.from([0.1, 0.3]), 5, 7).q)).toEqual([7, 9]);
    }
  });

  it("saturates at both ends, also for huge values and products that overflow float32", () => {
    const x = new Float32Array([1e30, -1e30, 3e9, -3e9, 2.2e9, -2.2e9, 3.4e38, -3.4e38, 1e-30, -1e-30, 255.4, -255.4, 0, -0]);
    for (const set of SETS) {
      for (const [inv, zp] of [[1, 0], [1, 128], [1, 255], [1e10, 128], [Math.fround(1e-3), 3]] as const) {
        const { q, bad } = run(set, x, inv, zp);
        expect(bad).toBe(-1);
        expect(q).toEqual(reference(x, inv, zp));
      }
      expect(Array.from(run(set, x, 1, 128).q)).toEqual([255, 0, 255, 0, 255, 0, 255, 0, 128, 128, 255, 0, 128, 128]);
      expect(Array.from(run(set, x, 1, 255).q.subarray(0, 4))).toEqual([255, 0, 255, 0]);
      expect(Array.from(run(set, x, 1, 0).q.subarray(0, 4))).toEqual([255, 0, 255, 0]);
    }
  });

  it("reduced ranges (7-bit, 4-bit) saturate at qmin/qmax", () => {
    const x = randomFloats(rng, 1000, 40);
    for (const set of SETS) {
      for (const [qmin, qmax, zp] of [[0, 127, 64], [0, 15, 8], [0, 15, 0], [3, 200, 200], [7, 7, 7]] as const) {
        const { q } = run(set, x, 1, zp, qmin, qmax);
        expect(q).toEqual(reference(x, 1, zp, qmin, qmax));
        expect(Math.min(...q)).toBeGreaterThanOrEqual(qmin);
        expect(Math.max(...q)).toBeLessThanOrEqual(qmax);
      }
      expect(Array.from(run(set, Float32Array.from([100, -100, 3]), 1, 8, 0, 15).q)).toEqual([15, 0, 11]);
    }
  });

  it("reports the first NaN/±Infinity (in SIMD bodies, tails and later staged pieces); the same bytes on every set", () => {
    for (const n of [1, 3, 16, 17, 67, 300, 70_000]) {
      for (const pos of [0, n >> 1, n - 1]) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const x = randomFloats(rng, n, 3);
          x[pos] = bad;
          if (pos + 2 < n) x[pos + 2] = NaN; // a later one is not reported
          const copy = x.slice();
          const want = reference(x, 8, 100);
          for (const set of SETS) {
            const r = run(set, x, 8, 100);
            expect(r.bad).toBe(pos);
            expect(firstDiff(r.q, want)).toBe(-1);
          }
          expect(firstDiff(x, copy)).toBe(-1);
        }
      }
    }
    expect(Array.from(run(SETS[0]!, Float32Array.from([NaN, Infinity, -Infinity, 1]), 1, 128).q)).toEqual([0, 255, 0, 129]);
  });

  it("raises clear errors for bad arguments", () => {
    const x = new Float32Array(4), q = new Uint8Array(4);
    expect(() => quantizeU8(new Float64Array(4) as unknown as Float32Array, 1, 0, q)).toThrow(/quantizeU8: x must be a Float32Array \(got Float64Array\)/);
    expect(() => quantizeU8(x, 1, 0, new Int8Array(4) as unknown as Uint8Array)).toThrow(/quantizeU8: out must be a Uint8Array \(got Int8Array\)/);
    expect(() => quantizeU8(x, 1, 0, new Uint8Array(3))).toThrow(/quantizeU8: out has 3 elements, expected 4/);
    for (const inv of [0, -2, NaN, Infinity, 0.1]) expect(() => quantizeU8(x, inv, 0, q)).toThrow(new RegExp(`quantizeU8: inv must be a positive finite float32 value.*\\(got ${inv}\\)`));
    expect(() => quantizeU8(x, 1, 256, q)).toThrow(/quantizeU8: zeroPoint must be an integer in \[0, 255\] \(got 256\)/);
    expect(() => quantizeU8(x, 1, 1.5, q)).toThrow(/zeroPoint must be an integer in \[0, 255\] \(got 1.5\)/);
    expect(() => quantizeU8(x, 1, 20, q, 0, 15)).toThrow(/zeroPoint must be an integer in \[0, 15\] \(got 20\)/);
    expect(() => quantizeU8(x, 1, 0, q, 0, 256)).toThrow(/quantizeU8: qmin and qmax must be integers with 0 <= qmin <= qmax <= 255 \(got 0, 256\)/);
    expect(() => quantizeU8(x, 1, 0, q, 9, 3)).toThrow(/\(got 9, 3\)/);
    expect(q).toEqual(new Uint8Array(4)); // nothing written
  });
});

describe("aminmaxF32", () => {
  const rng = new Rng(5);
  it("min and max over every length 0..67 and large, on every set", () => {
    for (const n of [...Array.from({ length: 68 }, (_, i) => i), 1000, 65536 + 33, 150_001]) {
      const x = randomFloats(rng, n, 1000);
      if (n > 40) {
        x[n - 1] = 5000; // the extremes in the tail and at the start
        x[0] = -7000;
      }
      const copy = x.slice();
      let lo = Infinity, hi = -Infinity;
      for (const v of x) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      for (const set of SETS) expect(withKernels(set, () => aminmaxF32(x))).toEqual({ min: lo, max: hi, firstNonFinite: -1 });
      expect(firstDiff(x, copy)).toBe(-1);
    }
    for (const set of SETS) {
      expect(withKernels(set, () => aminmaxF32(new Float32Array(0)))).toEqual({ min: Infinity, max: -Infinity, firstNonFinite: -1 });
      const zeros = withKernels(set, () => aminmaxF32(new Float32Array(300).fill(-0)));
      expect(Object.is(zeros.min, 0) && Object.is(zeros.max, 0)).toBe(true);
      expect(withKernels(set, () => aminmaxF32(new Float32Array(1000).fill(-3.5)))).toEqual({ min: -3.5, max: -3.5, firstNonFinite: -1 });
    }
  });

  it("reports the first NaN/±Infinity (min and max are then NaN)", () => {
    for (const n of [1, 5, 64, 67, 1000, 70_000]) {
      for (const pos of [0, n >> 1, n - 1]) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const x = randomFloats(rng, n, 2);
          x[pos] = bad;
          if (pos + 1 < n) x[n - 1] = NaN;
          for (const set of SETS) expect(withKernels(set, () => aminmaxF32(x))).toEqual({ min: NaN, max: NaN, firstNonFinite: pos });
        }
      }
    }
  });

  it("raises a clear error for a non-Float32Array", () => {
    expect(() => aminmaxF32([1, 2] as unknown as Float32Array)).toThrow(/aminmaxF32: x must be a Float32Array \(got Array\)/);
  });
});

describe("gemmQuantU8I8Dequant", () => {
  const rng = new Rng(7);
  const initialThreads = numThreads();
  afterAll(() => setNumThreads(initialThreads));

  function randomI8(len: number): Int8Array {
    return Int8Array.from({ length: len }, () => Math.floor(rng.random() * 256) - 128);
  }

  it("the same bits as quantizeU8 then gemmU8I8Dequant, on every set (wasm on 1 and 2 threads)", async () => {
    const sets = [...SETS, ...(wasm ? [wasmKernels({ threads: 2 })!] : [])];
    if (wasm) await threadsReady();
    for (const [batch, k, n] of [[1, 1, 1], [3, 5, 7], [2, 300, 37], [64, 67, 33], [130, 784, 256], [1000, 256, 10]] as const) {
      const x = randomFloats(rng, batch * k, 3);
      x[0] = 1e30; // saturates
      const w = randomI8(n * k);
      const scales = Float32Array.from({ length: n }, () => Math.fround(1e-3 * (0.5 + rng.random())));
      const bias = Float32Array.from({ length: n }, () => Math.fround(rng.random() - 0.5));
      const xScale = Math.fround(0.025), zp = 1 + Math.floor(rng.random() * 254);
      const xq = reference(x, Math.fround(1 / xScale), zp);
      const packed = packInt8Weights(w, n, k);
      const copy = x.slice();
      for (const relu of [false, true]) {
        const want = withKernels(jsKernels, () => gemmU8I8Dequant(xq, zp, batch, packed, scales, bias, undefined, relu));
        for (const set of sets) {
          const y = new Float32Array(batch * n).fill(NaN);
          expect(withKernels(set, () => gemmQuantU8I8Dequant(x, xScale, zp, batch, packed, scales, bias, y, relu))).toBe(-1);
          expect(firstDiff(y, want)).toBe(-1);
        }
      }
      expect(firstDiff(x, copy)).toBe(-1);
      packed.dispose();
    }
  });

  it("reports the first non-finite input (the output still computed alike everywhere)", () => {
    const [batch, k, n] = [100, 70, 20];
    const packed = packInt8Weights(randomI8(n * k), n, k);
    const scales = new Float32Array(n).fill(0.01);
    for (const pos of [0, 4321, batch * k - 1]) {
      const x = randomFloats(rng, batch * k, 1);
      x[pos] = NaN;
      x[batch * k - 1] = Infinity;
      const want = withKernels(jsKernels, () => gemmU8I8Dequant(reference(x, 10, 128), 128, batch, packed, scales, null));
      for (const set of SETS) {
        const y = new Float32Array(batch * n);
        expect(withKernels(set, () => gemmQuantU8I8Dequant(x, 0.1, 128, batch, packed, scales, null, y))).toBe(pos);
        expect(y).toEqual(want);
      }
    }
    expect(gemmQuantU8I8Dequant(Float32Array.from([1, NaN]), 0.1, 128, 1, packInt8Weights(new Int8Array(0), 0, 2), new Float32Array(0), null, new Float32Array(0))).toBe(1);
  });

  it("raises clear errors for bad arguments", () => {
    const packed = packInt8Weights(new Int8Array(12), 3, 4);
    const x = new Float32Array(8), sc = new Float32Array(3), y = new Float32Array(6);
    expect(() => gemmQuantU8I8Dequant(new Uint8Array(8) as unknown as Float32Array, 0.1, 0, 2, packed, sc, null, y)).toThrow(/gemmQuantU8I8Dequant: x must be a Float32Array of float32 activations \(got Uint8Array\)/);
    for (const s of [0, -1, NaN, Infinity, 1e-50]) expect(() => gemmQuantU8I8Dequant(x, s, 0, 2, packed, sc, null, y)).toThrow(new RegExp(`gemmQuantU8I8Dequant: xScale must be a positive finite float32 number with a finite reciprocal \\(got ${s}\\)`));
    expect(() => gemmQuantU8I8Dequant(x, 0.1, 256, 2, packed, sc, null, y)).toThrow(/gemmQuantU8I8Dequant: xZeroPoint must be an integer in \[0, 255\] \(got 256\)/);
    expect(() => gemmQuantU8I8Dequant(x, 0.1, 0, 3, packed, sc, null, y)).toThrow(/gemmQuantU8I8Dequant: x has 8 elements, expected batch·inFeatures = 3·4 = 12/);
    expect(() => gemmQuantU8I8Dequant(x, 0.1, 0, 2, packed, new Float32Array(2), null, y)).toThrow(/gemmQuantU8I8Dequant: scales has 2 elements, expected outFeatures = 3/);
    expect(() => gemmQuantU8I8Dequant(x, 0.1, 0, 2, packed, sc, null, new Float32Array(5))).toThrow(/gemmQuantU8I8Dequant: out has 5 elements, expected batch·outFeatures = 2·3 = 6/);
    expect(() => gemmQuantU8I8Dequant(x, 0.1, 0, 2, packed, sc, null, undefined as unknown as Float32Array)).toThrow(/gemmQuantU8I8Dequant: out must be a Float32Array \(got undefined\)/);
  });
});
