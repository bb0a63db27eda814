/**
 * @file Fake quantization: forward values on the integer grid, the straight-through estimator
 * through autograd (mask on the unclamped rounded integer, the README's boundary examples), the
 * per-channel variant, the FakeQuantize module (observer, freezing, disabling), and errors.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "@tapegrad/tensor";
import { constant, mul, sum, variable } from "@tapegrad/autograd";
import {
  FakeQuantize, MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver, fakeQuantizePerChannelAffine, fakeQuantizePerChannelAffineCachemask,
  fakeQuantizePerTensorAffine, fakeQuantizePerTensorAffineCachemask,
} from "@tapegrad/compress";

describe("fakeQuantizePerTensorAffine", () => {
  it("rounds to the grid and passes the gradient only where the rounded integer is in range", () => {
    // scale 0.25, zp 0, [-128, 127]: x·4 = 1.2, 127.5 (-> 128: out of range), -128.5 (-> -128: in), -129.5 (-> -130), 200
    const x = variable(tensor([0.3, 31.875, -32.125, -32.375, 50]));
    const y = fakeQuantizePerTensorAffine(x, 0.25, 0, -128, 127);
    expect(Array.from(y.value.toFloat32Array())).toEqual([0.25, 31.75, -32, -32, 31.75]);
    const w = tensor([1, 2, 3, 4, 5]);
    sum(mul(y, constant(w))).backward();
    expect(Array.from(x.grad!.toFloat32Array())).toEqual([1, 0, 3, 0, 0]);
    const { mask } = fakeQuantizePerTensorAffineCachemask(x.value, 0.25, 0, -128, 127);
    expect(Array.from(mask)).toEqual([1, 0, 1, 0, 0]);
  });

  it("uses the zero point after rounding: with an odd distance to qmax the half step is cut", () => {
    // scale 0.5, zp 7, [0, 255]: qmax - zp = 248 (even): x·2 = 248.5 -> 248 + 7 = 255 passes; 249.5 -> 250 + 7 fails
    const x = variable(tensor([124.25, 124.75, -3.75, -3.25]));
    const y = fakeQuantizePerTensorAffine(x, 0.5, 7, 0, 255);
    expect(Array.from(y.value.toFloat32Array())).toEqual([124, 124, -3.5, -3]);
    y.backward(tensor([1, 1, 1, 1]));
    // -3.75·2 = -7.5 -> -8 + 7 = -1 (out); -3.25·2 = -6.5 -> -6 + 7 = 1 (in)
    expect(Array.from(x.grad!.toFloat32Array())).toEqual([1, 0, 0, 1]);
  });

  it("raises clear errors and leaves its input alone", () => {
    const x = tensor([1, 2]);
    expect(() => fakeQuantizePerTensorAffine(x, 0.1, 300, 0, 255)).toThrow(/fakeQuantizePerTensorAffine: zero point must be an integer in \[0, 255\] \(got 300\)/);
    expect(() => fakeQuantizePerTensorAffine(x, 0.1, 0, 10, 5)).toThrow(/fakeQuantizePerTensorAffine: quantMin and quantMax must be integers with quantMin <= quantMax \(got 10, 5\)/);
    expect(() => fakeQuantizePerTensorAffine(x, -1, 0, 0, 255)).toThrow(/fakeQuantizePerTensorAffine: scale must be a positive finite/);
    expect(() => fakeQuantizePerTensorAffine(tensor([Infinity]), 0.1, 0, 0, 255)).toThrow(/fakeQuantizePerTensorAffine: cannot quantize non-finite value Infinity at index 0/);
    fakeQuantizePerTensorAffine(x, 0.3, 0, 0, 255);
    expect(Array.from(x.toFloat32Array())).toEqual([1, 2]);
  });
});

describe("fakeQuantizePerChannelAffine", () => {
  it("uses each channel's parameters and masks per element", () => {
    // axis 0: row 0 scale 1 zp 0 [-2, 2]; row 1 scale 0.5 zp 1
    const x = variable(tensor([[1.4, 2.6, -3], [0.2, 0.6, -2]]));
    const y = fakeQuantizePerChannelAffine(x, [1, 0.5], [0, 1], 0, -2, 2);
    // row 0: 1, 3 -> 2 (out), -3 -> -2 (out); row 1: x·2 = 0.4 -> 0 + 1 = 1 -> 0; 1.2 -> 1 + 1 = 2 -> 0.5; -4 -> -3 (out) -> -2 -> -1.5
    expect(Array.from(y.value.toFloat32Array())).toEqual([1, 2, -2, 0, 0.5, -1.5]);
    y.backward(tensor([[1, 1, 1], [1, 1, 1]]));
    expect(Array.from(x.grad!.toFloat32Array())).toEqual([1, 0, 0, 1, 1, 0]);
    expect(Array.from(fakeQuantizePerChannelAffineCachemask(x.value, [1, 0.5], [0, 1], 0, -2, 2).mask)).toEqual([1, 0, 0, 1, 1, 0]);
    expect(() => fakeQuantizePerChannelAffine(x, [1], [0], 0, -2, 2)).toThrow(/fakeQuantizePerChannelAffine: scales \(1\) and zeroPoints \(1\) must have x.shape\[0\] = 2 entries/);
  });
});

describe("FakeQuantize", () => {
  it("observes, fake-quantizes with the observer's qparams, freezes and disables", () => {
    const fq = new FakeQuantize(new MovingAverageMinMaxObserver({ averagingConstant: 0.5 }));
    const y = fq.forward(tensor([-1, 0.5, 3]));
    const scale = Math.fround(4 / 255);
    expect(fq.scales[0]).toBe(scale);
    expect(fq.zeroPoints[0]).toBe(64);
    expect(y.value.get(1)).toBe(Math.fround((roundEven(Math.fround(0.5 * Math.fround(1 / scale))) + 0) * scale));
    fq.disableObserver();
    fq.forward(tensor([-100, 100]));
    expect(fq.scales[0]).toBe(scale); // frozen
    expect((fq.observer as MinMaxObserver).minVal).toBe(-1);
    fq.disableFakeQuant();
    expect(Array.from(fq.forward(tensor([0.123])).value.toFloat32Array())).toEqual([Math.fround(0.123)]);
  });

  it("per-channel observers give per-channel fake quantization along chAxis", () => {
    const fq = new FakeQuantize(new PerChannelMinMaxObserver({ dtype: "qint8", qscheme: "per_channel_symmetric", chAxis: 0 }));
    const w = variable(tensor([[1, -0.5], [10, 3]]));
    const y = fq.forward(w);
    expect(Array.from(fq.scales)).toEqual([Math.fround(1 / 127.5), Math.fround(10 / 127.5)]);
    const v = y.value.toFloat32Array();
    expect(Math.abs(v[1]! + 0.5)).toBeLessThanOrEqual(fq.scales[0]! / 2);
    expect(Math.abs(v[3]! - 3)).toBeLessThanOrEqual(fq.scales[1]! / 2);
    sum(y).backward();
    expect(w.grad).not.toBeNull();
  });

  it("rejects what is not an observer", () => {
    expect(() => new FakeQuantize({} as never)).toThrow(/FakeQuantize: observer must be/);
  });
});

function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
