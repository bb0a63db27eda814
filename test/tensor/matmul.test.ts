/**
 * @file matmul (NumPy/PyTorch semantics) with every kernel set: 1-D promotion, 2-D, batched N-D
 * with broadcast batch dims, transposed/strided/negative-stride/stride-0 operands, k = 0, 0-size
 * dims, `out`, error messages, and a seeded fuzz against the float64 reference over random
 * (m, n, k) up to 300 (sizes not multiples of 4 included). Also the raw `gemmTs` contract.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Rng, ShapeError, Tensor, arange, full, gemmTs, jsKernels, kernels, matmul, ones, tensor, useKernels, zeros, type KernelSet,
} from "@tapegrad/tensor";
import { expectAllClose, expectRef, expectTensor } from "../helpers/assert.js";
import { fromTensor, refMatmul } from "../helpers/reference.js";
import { randomInput, randomLayout, randomTensor } from "../helpers/layouts.js";

/** |got - ref| <= 1e-5 |ref| + 1e-6 Σ|a||b| (float32 rounding of partial sums). */
function expectMatmul(a: Tensor, b: Tensor, got: Tensor, label: string): void {
  const ref = refMatmul(fromTensor(a), fromTensor(b));
  expectRef(got, ref, { rtol: 1e-5, atol: ref.scale.map((s) => 1e-6 * s + 1e-30) }, label);
}

const sets: [string, KernelSet][] = [["js", jsKernels]];
if (kernels().name !== "js") sets.push([kernels().name, kernels()]);

describe.each(sets)("matmul with the %s kernels", (_name, set) => {
  let prev: KernelSet | null = null;
  beforeAll(() => {
    prev = useKernels(set);
  });
  afterAll(() => {
    useKernels(prev);
  });

  it("uses the selected kernel set", () => {
    expect(kernels()).toBe(set);
  });

  it("2-D exact values", () => {
    expectTensor(matmul(tensor([[1, 2], [3, 4]]), tensor([[5, 6], [7, 8]])), [2, 2], [19, 22, 43, 50]);
    expectTensor(matmul(ones([2, 3]), ones([3, 4])), [2, 4], new Array(8).fill(3));
    expectTensor(matmul(tensor([[2]]), tensor([[3]])), [1, 1], [6]);
  });

  it("promotes 1-D operands and removes the added dims", () => {
    const m = arange(6).reshape(2, 3);
    expectTensor(matmul(tensor([1, 1]), m), [3], [3, 5, 7]);
    expectTensor(matmul(m, tensor([1, 0, -1])), [2], [-2, -2]);
    const dot = matmul(tensor([1, 2, 3]), tensor([4, 5, 6]));
    expect(dot.shape).toEqual([]);
    expect(dot.item()).toBe(32);
    expectTensor(matmul(tensor([1, 2]), arange(12).reshape(2, 2, 3)), [2, 3], [6, 9, 12, 24, 27, 30]);
    expectTensor(matmul(arange(12).reshape(2, 3, 2), tensor([1, -1])), [2, 3], [-1, -1, -1, -1, -1, -1]);
  });

  it("batches with broadcast batch dims", () => {
    const rng = new Rng(1);
    const cases: [number[], number[], number[]][] = [
      [[2, 3, 4], [2, 4, 5], [2, 3, 5]],
      [[2, 1, 3, 4], [3, 4, 2], [2, 3, 3, 2]],
      [[5, 2, 3], [3, 4], [5, 2, 4]],
      [[2, 3], [4, 3, 5], [4, 2, 5]],
      [[1, 2, 3], [4, 1, 3, 2], [4, 1, 2, 2]],
      [[3, 1, 2, 3], [1, 2, 3, 1], [3, 2, 2, 1]],
    ];
    for (const [sa, sb, so] of cases) {
      const a = randomTensor(rng, sa);
      const b = randomTensor(rng, sb);
      const r = matmul(a, b);
      expect(r.shape).toEqual(so);
      expectMatmul(a, b, r, `${JSON.stringify(sa)}@${JSON.stringify(sb)}`);
    }
  });

  it("reads transposed, strided, negative-stride and stride-0 operands without copying them", () => {
    const rng = new Rng(2);
    const a = randomTensor(rng, [7, 5]);
    const b = randomTensor(rng, [6, 7]);
    expectMatmul(a.mT, b.mT, matmul(a.mT, b.mT), "aT @ bT");
    const big = randomTensor(rng, [20, 30]);
    const s1 = big.slice(0, 1, null, 3).slice(1, null, null, -2); // [7, 15], strides [90, -2]
    const s2 = big.slice(1, 2, 9).mT; // [7, 20]
    expectMatmul(s1.mT, s2, matmul(s1.mT, s2), "strided");
    const row = randomTensor(rng, [1, 9]).expand(8, 9); // stride 0 rows
    const col = randomTensor(rng, [9, 1]).expand(9, 6); // stride 0 cols
    expectMatmul(row, col, matmul(row, col), "stride-0");
    const bb = randomTensor(rng, [4, 3]).broadcastTo([2, 5, 4, 3]); // stride-0 batch dims
    const aa = randomLayout(rng, [2, 5, 6, 4]);
    expectMatmul(aa, bb, matmul(aa, bb), "stride-0 batch");
  });

  it("k = 0 gives zeros, also into a dirty out", () => {
    expectTensor(matmul(zeros([2, 0]), zeros([0, 3])), [2, 3], [0, 0, 0, 0, 0, 0]);
    const out = full([2, 3], 7);
    matmul(zeros([2, 0]), zeros([0, 3]), out);
    expectTensor(out, [2, 3], [0, 0, 0, 0, 0, 0]);
    expectTensor(matmul(zeros([0]), zeros([0])), [], [0]);
    expectTensor(matmul(zeros([3, 2, 0]), zeros([0, 4])), [3, 2, 4], new Array(24).fill(0));
  });

  it("0-size dims give 0-size results", () => {
    expect(matmul(zeros([0, 3]), zeros([3, 4])).shape).toEqual([0, 4]);
    expect(matmul(zeros([2, 3]), zeros([3, 0])).shape).toEqual([2, 0]);
    expect(matmul(zeros([0, 2, 3]), zeros([3, 4])).shape).toEqual([0, 2, 4]);
    expect(matmul(zeros([2, 1, 2, 3]), zeros([0, 3, 4])).shape).toEqual([2, 0, 2, 4]);
    expect(matmul(zeros([0]), zeros([0, 5])).shape).toEqual([5]);
  });

  it("propagates NaN and Infinity", () => {
    expectTensor(matmul(tensor([[NaN, 1], [1, 1]]), tensor([[1, 0], [0, 1]])), [2, 2], [NaN, NaN, 1, 1]);
    expectTensor(matmul(tensor([[Infinity, 1]]), tensor([[1], [1]])), [1, 1], [Infinity]);
    expectTensor(matmul(tensor([[Infinity, 0]]), tensor([[0], [1]])), [1, 1], [NaN]);
  });

  it("writes into out (also a contiguous sub-view) and validates it", () => {
    const a = arange(6).reshape(2, 3);
    const b = arange(6).reshape(3, 2);
    const out = full([2, 2], -1);
    expect(matmul(a, b, out)).toBe(out);
    expectTensor(out, [2, 2], [10, 13, 28, 40]);
    const buf = zeros([3, 2, 2]);
    matmul(a, b, buf.select(0, 1));
    expectTensor(buf, [3, 2, 2], [0, 0, 0, 0, 10, 13, 28, 40, 0, 0, 0, 0]);
    const bo = zeros([4, 2, 2]);
    matmul(arange(24).reshape(4, 2, 3), b, bo);
    expectMatmul(arange(24).reshape(4, 2, 3), b, bo, "batched out");
    expect(() => matmul(a, b, zeros([2, 3]))).toThrow(/matmul: out has the wrong shape \(got \[2,3\] and \[2,2\]\)/);
    expect(() => matmul(a, b, zeros([2, 2]).mT)).toThrow(/matmul: out must be contiguous \(got \[2,2\]\)/);
    expect(() => matmul(a, b, zeros([4, 2]).slice(0, null, null, 2))).toThrow(/matmul: out must be contiguous \(got \[2,2\]\)/);
    const sq = arange(4).reshape(2, 2);
    expect(() => matmul(sq, tensor([[1, 0], [0, 1]]), sq)).toThrow(/matmul: out must not share storage with an operand \(got \[2,2\]\)/);
    const s0 = zeros([]);
    matmul(tensor([1, 2]), tensor([3, 4]), s0);
    expect(s0.item()).toBe(11);
  });

  it("rejects bad operands with messages naming matmul and both shapes", () => {
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/matmul: inner dimensions differ \(got \[2,3\] and \[4,5\]\)/);
    expect(() => matmul(zeros([3]), zeros([4]))).toThrow(/matmul: inner dimensions differ \(got \[3\] and \[4\]\)/);
    expect(() => matmul(zeros([2, 3]), zeros([2]))).toThrow(/matmul: inner dimensions differ \(got \[2,3\] and \[2\]\)/);
    expect(() => matmul(zeros([2, 3, 4]), zeros([5, 4, 2]))).toThrow(/matmul: batch dimensions cannot be broadcast together \(got \[2,3,4\] and \[5,4,2\]\)/);
    expect(() => matmul(zeros([]), zeros([3]))).toThrow(/matmul: both arguments need at least 1 dimension \(got \[\] and \[3\]\)/);
    expect(() => matmul(zeros([3]), tensor(1))).toThrow(ShapeError);
    expect(() => matmul([[1]] as never, zeros([1, 1]))).toThrow(/matmul: both arguments must be Tensors/);
  });

  it("fuzz: random (m, n, k) incl. non-multiples of 4, random layouts and transposes", () => {
    const rng = new Rng(404);
    for (let trial = 0; trial < 120; trial++) {
      const m = rng.int(1, 21);
      const n = rng.int(1, 21);
      const k = rng.int(0, 21);
      const transA = rng.random() < 0.3;
      const transB = rng.random() < 0.3;
      const a = transA ? randomInput(rng, [k, m]).mT : randomInput(rng, [m, k]);
      const b = transB ? randomInput(rng, [n, k]).mT : randomInput(rng, [k, n]);
      expectMatmul(a, b, matmul(a, b), `m=${m} n=${n} k=${k} tA=${transA} tB=${transB}`);
    }
  });

  it("fuzz: larger products up to 300 (blocked paths, edges, several K panels)", () => {
    const rng = new Rng(405);
    const sizes: [number, number, number][] = [
      [64, 64, 64], [65, 67, 63], [300, 7, 300], [7, 300, 257], [129, 131, 260], [300, 300, 5], [4, 1029, 9], [97, 13, 300],
    ];
    for (const [m, n, k] of sizes) {
      const transA = (m + k) % 2 === 0;
      const a = transA ? randomTensor(rng, [k, m]).mT : randomTensor(rng, [m, k]);
      const b = n % 2 === 1 ? randomTensor(rng, [n, k]).mT : randomTensor(rng, [k, n]);
      expectMatmul(a, b, matmul(a, b), `m=${m} n=${n} k=${k}`);
    }
    const s = randomLayout(rng, [50, 70]);
    const t = randomLayout(rng, [70, 45]);
    expectMatmul(s, t, matmul(s, t), "random layouts 50x70x45");
  });

  it("fuzz: batched N-D with broadcast batch dims and 1-D operands", () => {
    const rng = new Rng(406);
    for (let trial = 0; trial < 60; trial++) {
      const m = rng.int(1, 7);
      const n = rng.int(1, 7);
      const k = rng.int(1, 9);
      const batch = Array.from({ length: rng.int(0, 3) }, () => rng.int(1, 4));
      const ba = batch.slice(rng.int(0, batch.length + 1)).map((d) => (rng.random() < 0.3 ? 1 : d));
      const bb = batch.slice(rng.int(0, batch.length + 1)).map((d) => (rng.random() < 0.3 ? 1 : d));
      const aVec = rng.random() < 0.15;
      const bVec = rng.random() < 0.15;
      const a = randomInput(rng, aVec ? [k] : [...ba, m, k]);
      const b = randomInput(rng, bVec ? [k] : [...bb, k, n]);
      expectMatmul(a, b, matmul(a, b), `${JSON.stringify(a.shape)}@${JSON.stringify(b.shape)}`);
    }
  });
});

describe("gemmTs (the pure TS GEMM contract)", () => {
  function naive(m: number, n: number, k: number, a: Float32Array, b: Float32Array): Float64Array {
    const c = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) c[i * n + j]! += a[i * k + p]! * b[p * n + j]!;
    return c;
  }

  /**
   * `gemmTs` of A = ones [8, k] and a B [k, 8] whose columns are [2^24, 1, 0, …, 0, −2^24]: every
   * output is exactly 1, but 0 when the partial sum 2^24 + 1 is rounded to float32 before −2^24 is added.
   */
  function cancellingProduct(k: number): Float32Array {
    const m = 8, n = 8;
    const a = new Float32Array(m * k).fill(1);
    const b = new Float32Array(k * n);
    for (let j = 0; j < n; j++) {
      b[j] = 16777216;
      b[n + j] = 1;
      b[(k - 1) * n + j] = -16777216;
    }
    const c = new Float32Array(m * n);
    gemmTs(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false);
    return c;
  }

  it("overwrites or accumulates into a strided C (ldc > n, offset)", () => {
    for (const [m, n, k] of [[3, 2, 4], [40, 36, 30]] as const) {
      const rng = new Rng(m);
      const a = randomTensor(rng, [m, k]).toFloat32Array();
      const b = randomTensor(rng, [k, n]).toFloat32Array();
      const ldc = n + 3;
      const c = new Float32Array(5 + m * ldc).fill(1);
      gemmTs(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 5, ldc, false);
      const ref = naive(m, n, k, a, b);
      const got = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) got[i * n + j] = c[5 + i * ldc + j]!;
      expectAllClose(got, ref, { rtol: 1e-5, atol: 1e-5 });
      expect(c[0]).toBe(1); // before the offset
      expect(c[5 + n]).toBe(1); // padding column untouched
      gemmTs(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 5, ldc, true);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) got[i * n + j] = c[5 + i * ldc + j]!;
      expectAllClose(got, ref.map((v) => 2 * v), { rtol: 1e-5, atol: 1e-5 });
    }
  });

  it("k = 0 zeroes C unless accumulating; m = 0 or n = 0 touches nothing", () => {
    const c = new Float32Array([5, 5, 5, 5]);
    gemmTs(2, 2, 0, new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 2, 1, c, 0, 2, true);
    expect(Array.from(c)).toEqual([5, 5, 5, 5]);
    gemmTs(2, 2, 0, new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 2, 1, c, 0, 2, false);
    expect(Array.from(c)).toEqual([0, 0, 0, 0]);
    const d = new Float32Array([3]);
    gemmTs(0, 1, 4, new Float32Array(4), 0, 4, 1, new Float32Array(4), 0, 1, 1, d, 0, 1, false);
    expect(d[0]).toBe(3);
  });

  it("accumulates in float64 within a K panel (documented)", () => {
    // 2^24 + 1 - 2^24 = 1 exactly in float64, 0 in float32 (one K panel);
    // k = 130: m*n*k > 8192, the packed, blocked path
    expect(Array.from(cancellingProduct(130))).toEqual(new Array(64).fill(1));
  });

  // gemm.ts documents that for k > KC (256) each K panel's float64 sum is added into the float32
  // C, so partial sums are rounded between panels. Here the first panel sums to 2^24 + 1 (stored
  // as 2^24) and the second adds -2^24: the exact result 1 comes out as 0. The documented bound is
  // one float32 rounding of the running sum per panel: |error| <= panels * 2^-24 * sum|a||b|.
  it("across K panels (k > 256) stays within one float32 rounding per panel (documented)", () => {
    const c = cancellingProduct(257);
    const scale = 2 * 16777216 + 1; // sum |a||b| per output
    for (const v of c) expect(Math.abs(v - 1)).toBeLessThanOrEqual(2 * 2 ** -24 * scale);
    // the same bound on a random deep product (4 panels of 256, the last one partial)
    const rng = new Rng(9);
    const kk = 1000;
    const x = randomTensor(rng, [8, kk]).toFloat32Array();
    const y = randomTensor(rng, [kk, 8]).toFloat32Array();
    const z = new Float32Array(64);
    gemmTs(8, 8, kk, x, 0, kk, 1, y, 0, 8, 1, z, 0, 8, false);
    const ref = naive(8, 8, kk, x, y);
    const abs = naive(8, 8, kk, x.map(Math.abs), y.map(Math.abs));
    for (let i = 0; i < 64; i++) expect(Math.abs(z[i]! - ref[i]!)).toBeLessThanOrEqual(4 * 2 ** -24 * abs[i]!);
  });
});
