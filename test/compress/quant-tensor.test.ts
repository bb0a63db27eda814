/**
 * @file Quantized tensors: torch's quantize arithmetic (reciprocal multiply, ties to even, zero
 * point added after rounding, saturation), dequantize, per-channel parameters, and clear errors
 * for bad input.
 */
import { describe, expect, it } from "vitest";
import { Tensor, tensor } from "@tapegrad/tensor";
import { QTensor, dequantize, intRepr, quantizePerChannel, quantizePerTensor } from "@tapegrad/compress";

const ints = (q: QTensor) => Array.from(q.data);

describe("quantizePerTensor", () => {
  it("rounds half to even, adds the zero point after rounding and saturates", () => {
    // scale 0.25: x·4 = 0.5, 1.5, 2.5, -0.5, -1.5, 400, -400
    const q = quantizePerTensor(tensor([0.125, 0.375, 0.625, -0.125, -0.375, 100, -100]), 0.25, 0, "qint8");
    expect(q.data).toBeInstanceOf(Int8Array);
    expect(ints(q)).toEqual([0, 2, 2, 0, -2, 127, -128]);
    // zero point 3: x·2 = 0.5 -> rne 0 -> 3 (not rne(3.5) = 4); 1.5 -> 2 -> 5; negatives clamp at 0
    const u = quantizePerTensor(tensor([0.25, 0.75, -10, 200]), 0.5, 3, "quint8");
    expect(u.data).toBeInstanceOf(Uint8Array);
    expect(ints(u)).toEqual([3, 5, 0, 255]);
  });

  it("multiplies by the float32 reciprocal of the scale, as torch (not x / scale)", () => {
    const x = tensor([-30.154999, 12.3949995, 22.385, 22.755, 24.234999, 31.635]);
    expect(ints(quantizePerTensor(x, 0.37, 0, "qint8"))).toEqual([-82, 34, 61, 62, 66, 86]);
    // a plain division would give -81 for the first value
    expect(Math.round(Math.fround(-30.154999) / Math.fround(0.37))).toBe(-81);
  });

  it("dequantizes to fl32((q - zp) * scale) and keeps the shape; intRepr gives the integers", () => {
    const x = tensor([[0.1, -0.2, 0.33], [1, 2, -3]]);
    const q = quantizePerTensor(x, 0.1, 10, "quint8");
    expect(q.shape).toEqual([2, 3]);
    expect(intRepr(q).toArray()).toEqual([[11, 8, 13], [20, 30, 0]]);
    const d = dequantize(q).toFloat32Array();
    const want = [1, -2, 3, 10, 20, -10].map((k) => Math.fround(k * Math.fround(0.1)));
    expect(Array.from(d)).toEqual(want);
    expect(q.perTensor).toEqual({ scale: Math.fround(0.1), zeroPoint: 10 });
  });

  it("handles 0-d, empty and non-contiguous tensors and leaves the input untouched", () => {
    expect(ints(quantizePerTensor(tensor(1.5), 0.5, 0, "qint8"))).toEqual([3]);
    expect(quantizePerTensor(new Tensor(new Float32Array(0), [2, 0]), 1, 0, "qint8").shape).toEqual([2, 0]);
    const x = tensor([[1, 2], [3, 4]]);
    const before = x.toFloat32Array();
    expect(ints(quantizePerTensor(x.transpose(0, 1), 1, 0, "qint8"))).toEqual([1, 3, 2, 4]);
    expect(x.toFloat32Array()).toEqual(before);
  });

  it("raises clear errors for NaN/Inf, bad scales, zero points and dtypes", () => {
    expect(() => quantizePerTensor(tensor([1, NaN]), 0.1, 0, "qint8")).toThrow(/quantizePerTensor: cannot quantize non-finite value NaN at index 1/);
    expect(() => quantizePerTensor(tensor([Infinity]), 0.1, 0, "qint8")).toThrow(/non-finite value Infinity at index 0/);
    for (const s of [0, -1, NaN, Infinity, 1e-50]) expect(() => quantizePerTensor(tensor([1]), s, 0, "qint8")).toThrow(/quantizePerTensor: scale must be a positive finite/);
    expect(() => quantizePerTensor(tensor([1]), 0.1, 300, "quint8")).toThrow(/quantizePerTensor: zero point must be an integer in \[0, 255\] \(got 300\)/);
    expect(() => quantizePerTensor(tensor([1]), 0.1, -129, "qint8")).toThrow(/\[-128, 127\] \(got -129\)/);
    expect(() => quantizePerTensor(tensor([1]), 0.1, 0.5, "qint8")).toThrow(/got 0.5/);
    expect(() => quantizePerTensor(tensor([1]), 0.1, 0, "int4" as never)).toThrow(/quantizePerTensor: dtype must be "qint8" or "quint8"/);
  });
});

describe("quantizePerChannel", () => {
  it("uses each channel's scale and zero point along the axis", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const q0 = quantizePerChannel(x, [0.5, 2], [0, 1], 0, "qint8");
    expect(ints(q0)).toEqual([2, 4, 6, 3, 3, 4]); // row 1: rne(2, 2.5, 3) + 1 = 3, 3, 4
    const q1 = quantizePerChannel(x, tensor([1, 0.5, 0.25]), [0, 10, 20], 1, "quint8");
    expect(ints(q1)).toEqual([1, 14, 32, 4, 20, 44]);
    expect(q1.perChannel!.axis).toBe(1);
    expect(Array.from(dequantize(q1).toFloat32Array())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(quantizePerChannel(x, [1, 1, 1], [0, 0, 0], -1, "qint8").perChannel!.axis).toBe(1);
  });

  it("raises clear errors for mismatched parameters, bad axes and NaN", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(() => quantizePerChannel(x, [1, 1], [0, 0], 1, "qint8")).toThrow(/quantizePerChannel: scales \(2\) and zeroPoints \(2\) must have x.shape\[1\] = 3 entries/);
    expect(() => quantizePerChannel(x, [1, 1], [0, 0], 2, "qint8")).toThrow(/quantizePerChannel: axis 2 is out of range for shape \[2,3\]/);
    expect(() => quantizePerChannel(x, [1, -1], [0, 0], 0, "qint8")).toThrow(/quantizePerChannel: scales\[1\] must be a positive finite/);
    expect(() => quantizePerChannel(x, [1, 1], [0, 256], 0, "quint8")).toThrow(/quantizePerChannel: zeroPoints\[1\] must be an integer in \[0, 255\] \(got 256\)/);
    expect(() => quantizePerChannel(tensor([[1, NaN]]), [1], [0], 0, "qint8")).toThrow(/quantizePerChannel: cannot quantize non-finite value NaN at index 1/);
  });
});

describe("QTensor", () => {
  it("validates what it wraps", () => {
    expect(() => new QTensor(new Uint8Array(2), [2], "qint8", { scale: 1, zeroPoint: 0 })).toThrow(/QTensor: qint8 data must be an Int8Array/);
    expect(() => new QTensor(new Int8Array(3), [2], "qint8", { scale: 1, zeroPoint: 0 })).toThrow(/QTensor: data has 3 elements for shape \[2\]/);
    expect(() => new QTensor(new Int8Array(2), [2], "qint8", { scale: 0, zeroPoint: 0 })).toThrow(/QTensor: scale must be/);
    const q = new QTensor(new Int8Array([1, -2]), [2], "qint8", { scales: Float32Array.of(0.5, 2), zeroPoints: Int32Array.of(0, 0), axis: 0 });
    expect(q.qscheme).toBe("per_channel_affine");
    expect(Array.from(dequantize(q).toFloat32Array())).toEqual([0.5, -4]);
  });
});
