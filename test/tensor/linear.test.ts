/**
 * @file `linear`, `linearWeightGrad`, `linearBiasGrad` against `matmul` + `add` / `sum` on seeded
 * shapes (N-D, 1-D, transposed and sliced views, empty sizes), their errors, and the sign-bit ReLU
 * kernels on long rows with every special value.
 */
import { describe, expect, it } from "vitest";
import {
  BinOp, Rng, ShapeError, Tensor, add, binaryOp, linear, linearBiasGrad, linearWeightGrad, matmul, ones, randn, relu, sum, zeros,
} from "@tapegrad/tensor";
import { expectAllClose } from "../helpers/assert.js";

const rng = new Rng(77);
const r = (...shape: number[]) => randn(shape, rng);
const TOL = { rtol: 1e-5, atol: 1e-5 };

describe("linear", () => {
  it("matches x·Wᵀ + b for 2-D, N-D and 1-D inputs", () => {
    for (const xs of [[7, 5], [2, 3, 5], [5], [1, 5], [33, 5]]) {
      const x = r(...xs), w = r(4, 5), b = r(4);
      expectAllClose(linear(x, w, b).toFloat32Array(), add(matmul(x, w.mT), b).toFloat32Array(), TOL, `x ${JSON.stringify(xs)}`);
      expect(linear(x, w, b).shape).toEqual([...xs.slice(0, -1), 4]);
      expectAllClose(linear(x, w).toFloat32Array(), matmul(x, w.mT).toFloat32Array(), TOL);
    }
  });
  it("reads transposed and sliced views through their strides", () => {
    const x = r(6, 9).mT.slice(0, 1, 8); // [7, 6], non-contiguous
    const w = r(6, 4).mT; // [4, 6]
    const b = r(8).slice(0, 0, 8, 2); // [4], stride 2
    expectAllClose(linear(x, w, b).toFloat32Array(), add(matmul(x, w.mT), b).toFloat32Array(), TOL);
  });
  it("handles empty sizes: no rows, no inputs (bias only), no outputs", () => {
    expect(linear(zeros([0, 3]), r(2, 3), r(2)).shape).toEqual([0, 2]);
    const b = r(2);
    expect(linear(zeros([4, 0]), zeros([2, 0]), b).toArray()).toEqual(Array.from({ length: 4 }, () => Array.from(b.toFloat32Array())));
    expect(linear(r(3, 2), zeros([0, 2])).shape).toEqual([3, 0]);
  });
  it("writes into out", () => {
    const x = r(3, 2), w = r(4, 2), b = r(4), out = zeros([3, 4]);
    expect(linear(x, w, b, out)).toBe(out);
    expectAllClose(out.toFloat32Array(), add(matmul(x, w.mT), b).toFloat32Array(), TOL);
  });
  it("rejects bad shapes and arguments with clear errors", () => {
    expect(() => linear(r(3, 5), r(4, 6))).toThrow(/linear: the last dimension of x differs from weight's in \(got \[3,5\] and \[4,6\]\)/);
    expect(() => linear(r(3, 5), r(2, 4, 5))).toThrow(ShapeError);
    expect(() => linear(r(3, 5), r(4, 5), r(3))).toThrow(/linear: bias must be 1-D \[out\]/);
    expect(() => linear(r(3, 5), r(4, 5), r(1, 4))).toThrow(ShapeError);
    expect(() => linear(new Tensor(Float32Array.of(1), []), r(4, 1))).toThrow(/x needs at least 1 dimension/);
    expect(() => linear(r(3, 5), r(4, 5), undefined, zeros([4, 3]))).toThrow(/out has the wrong shape/);
    const x = r(3, 5);
    expect(() => linear(x, r(5, 5), null, x)).toThrow(/out must not share storage/);
    expect(() => linear([1, 2] as unknown as Tensor, r(1, 2))).toThrow(TypeError);
  });
});

describe("linear backward helpers", () => {
  it("linearWeightGrad is Σ_rows dyᵀ·x as one contiguous [out, in] tensor", () => {
    const dy = r(2, 3, 4), x = r(2, 3, 5);
    const g = linearWeightGrad(dy, x);
    expect(g.shape).toEqual([4, 5]);
    expect(g.isContiguous).toBe(true);
    expectAllClose(g.toFloat32Array(), matmul(dy.reshape(6, 4).mT, x.reshape(6, 5)).toFloat32Array(), TOL);
    const d1 = r(4), x1 = r(5);
    expectAllClose(linearWeightGrad(d1, x1).toFloat32Array(), matmul(d1.reshape(4, 1), x1.reshape(1, 5)).toFloat32Array(), TOL, "1-D (outer product)");
    expect(linearWeightGrad(zeros([0, 4]), zeros([0, 3])).toArray()).toEqual(zeros([4, 3]).toArray());
    expect(() => linearWeightGrad(r(3, 4), r(2, 5))).toThrow(/dy and x must have the same leading dimensions/);
  });
  it("linearBiasGrad sums every leading row, also for odd row counts and views", () => {
    for (const shape of [[1, 3], [2, 3], [5, 7], [128, 10], [2, 3, 5], [6]]) {
      const dy = r(...shape);
      const rows = dy.size / shape[shape.length - 1]!;
      expectAllClose(linearBiasGrad(dy).toFloat32Array(), sum(dy.reshape(rows, -1), 0).toFloat32Array(), TOL, JSON.stringify(shape));
    }
    const v = r(9, 4).mT; // [4, 9], column stride 4
    expectAllClose(linearBiasGrad(v).toFloat32Array(), sum(v, 0).toFloat32Array(), TOL);
    expect(linearBiasGrad(zeros([0, 3])).toArray()).toEqual([0, 0, 0]);
    expect(linearBiasGrad(ones([4, 2])).toArray()).toEqual([4, 4]);
    expect(() => linearBiasGrad(new Tensor(Float32Array.of(1), []))).toThrow(/linearBiasGrad: dy needs at least 1 dimension/);
  });
});

describe("ReLU kernels on long contiguous rows (sign-bit path)", () => {
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38, 1, -1, 0.5, -2.5];
  const n = 1000;
  const x = new Float32Array(n), g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i < 300 ? special[i % special.length]! : rng.normal();
    g[i] = i % 7 === 0 ? special[(i / 7) % special.length | 0]! : rng.normal();
  }
  const bits = new Int32Array(x.buffer);
  bits[3] = 0xffc00000 | 0; // a NaN with the sign bit set
  bits[4] = 0x80000001 | 0; // the smallest negative subnormal
  const same = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b);
  it("relu(x) = x <= 0 ? +0 : x (NaN kept, -0 → +0)", () => {
    const y = relu(new Tensor(x, [n])).toFloat32Array();
    for (let i = 0; i < n; i++) expect(same(y[i]!, Math.fround(x[i]! <= 0 ? 0 : x[i]!)), `relu(${x[i]})`).toBe(true);
  });
  it("relu's gradient = x > 0 ? g : +0", () => {
    const y = binaryOp("relu", BinOp.RELU_GRAD, new Tensor(g, [n]), new Tensor(x, [n])).toFloat32Array();
    for (let i = 0; i < n; i++) expect(same(y[i]!, x[i]! > 0 ? g[i]! : 0), `x=${x[i]} g=${g[i]}`).toBe(true);
  });
});
