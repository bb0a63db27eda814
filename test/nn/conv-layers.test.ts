/**
 * @file Conv1d / Conv2d / ConvTranspose2d / MaxPool2d / AvgPool2d / AdaptiveAvgPool2d layers:
 * PyTorch's parameter names, layouts and init bounds, state-dict keys, forward equal to the
 * functional ops, unbatched inputs, errors naming the layer, and a small CNN that learns.
 */
import { describe, expect, it } from "vitest";
import { Rng, conv2d as tConv2d, convTranspose2d as tConvT, randn, zeros, type Tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, crossEntropy } from "@tapegrad/nn";
import { SGD } from "@tapegrad/optim";

const maxAbs = (t: Tensor) => t.toFloat32Array().reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe("convolution layers", () => {
  it("Conv2d: torch's parameter names, layouts and U(-1/sqrt(fanIn), 1/sqrt(fanIn)) init", () => {
    const conv = new Conv2d(6, 8, [3, 2], { groups: 2, rng: new Rng(0) });
    expect(conv.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([["weight", [8, 3, 3, 2]], ["bias", [8]]]);
    expect(Object.keys(conv.stateDict())).toEqual(["weight", "bias"]);
    const bound = 1 / Math.sqrt(3 * 3 * 2);
    expect(maxAbs(conv.weight.value)).toBeLessThanOrEqual(bound);
    expect(maxAbs(conv.weight.value)).toBeGreaterThan(0.8 * bound); // 144 draws fill the range
    expect(maxAbs(conv.bias!.value)).toBeLessThanOrEqual(bound);
    expect(new Conv2d(3, 4, 3, { bias: false }).namedParameters().map(([n]) => n)).toEqual(["weight"]);
  });

  it("Conv2d.forward equals the functional conv with its parameters, batched and unbatched", () => {
    const conv = new Conv2d(4, 6, 3, { padding: "same", dilation: 2, groups: 2, rng: new Rng(1) });
    const x = randn([2, 4, 7, 6], new Rng(2));
    const want = tConv2d(x, conv.weight.value, conv.bias!.value, { padding: "same", dilation: 2, groups: 2 });
    expect(Array.from(conv.forward(x).value.toFloat32Array())).toEqual(Array.from(want.toFloat32Array()));
    const one = conv.forward(x.select(0, 0));
    expect(one.shape).toEqual([6, 7, 6]);
    expect(Array.from(one.value.toFloat32Array())).toEqual(Array.from(want.select(0, 0).toFloat32Array()));
  });

  it("Conv1d and ConvTranspose2d: layouts, fan-in and forward", () => {
    const c1 = new Conv1d(4, 6, 5, { groups: 2, stride: 2, padding: 2, rng: new Rng(3) });
    expect(c1.weight.shape).toEqual([6, 2, 5]);
    expect(maxAbs(c1.weight.value)).toBeLessThanOrEqual(1 / Math.sqrt(10));
    expect(c1.forward(zeros([3, 4, 11])).shape).toEqual([3, 6, 6]);
    expect(c1.forward(zeros([4, 11])).shape).toEqual([6, 6]);
    const ct = new ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2, rng: new Rng(4) });
    expect(ct.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([["weight", [4, 3, 3, 3]], ["bias", [6]]]);
    expect(maxAbs(ct.weight.value)).toBeLessThanOrEqual(1 / Math.sqrt(27)); // fan-in = weight.shape[1]·k·k, as torch
    const x = randn([2, 4, 5, 5], new Rng(5));
    const y = ct.forward(x);
    expect(y.shape).toEqual([2, 6, 10, 10]);
    const want = tConvT(x, ct.weight.value, ct.bias!.value, { stride: 2, padding: 1, outputPadding: 1, groups: 2 });
    expect(Array.from(y.value.toFloat32Array())).toEqual(Array.from(want.toFloat32Array()));
  });

  it("errors name the layer and the shapes", () => {
    expect(() => new Conv2d(6, 8, 3, { groups: 4 })).toThrow(/Conv2d: inChannels 6 not divisible by groups 4/);
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow(/Conv2d: outChannels 6 not divisible by groups 4/);
    expect(() => new Conv2d(3, 4, 3, { padding: "same", stride: 2 })).toThrow(/Conv2d: padding "same" needs stride 1/);
    expect(() => new Conv1d(3, 4, 3, { padding: "same", stride: 2 })).toThrow(/Conv1d: padding "same" needs stride 1/);
    expect(() => new ConvTranspose2d(2, 2, 3, { stride: 2, outputPadding: 2 })).toThrow(/ConvTranspose2d: outputPadding \[2,2\] must be smaller than the stride/);
    expect(() => new Conv2d(3, 4, 5).forward(zeros([1, 3, 4, 4]))).toThrow(/Conv2d: kernel 5x5 \(with dilation\) is larger than the padded input 4x4 \(got \[1,3,4,4\] and \[4,3,5,5\]\)/);
    expect(() => new Conv2d(3, 4, 3).forward(zeros([1, 2, 8, 8]))).toThrow(/Conv2d: weight \[4,3,3,3\] with groups 1 expects 3 input channels but the input has 2/);
    expect(() => new Conv1d(3, 4, 3).forward(zeros([1, 3, 2]))).toThrow(/Conv1d: kernel 3 \(with dilation\) is larger than the padded input 2/);
    expect(() => new MaxPool2d(3).forward(zeros([1, 1, 2, 2]))).toThrow(/MaxPool2d: kernel 3x3 .*larger than the padded input 2x2/);
    expect(() => new MaxPool2d(2, { padding: 2 })).toThrow(/MaxPool2d: padding \[2,2\] must be at most half the kernel size/);
    expect(() => new AvgPool2d(2).forward(zeros([2, 1, 2, 2, 2]))).toThrow(/AvgPool2d: input must be \[N,C,H,W\] or \[C,H,W\]/);
    expect(() => new AdaptiveAvgPool2d(0)).toThrow(/AdaptiveAvgPool2d: outputSize must be an integer >= 1/);
  });
});

describe("pooling layers", () => {
  it("MaxPool2d / AvgPool2d default the stride to the kernel and match the functional ops", () => {
    const x = randn([2, 3, 7, 7], new Rng(6));
    const mp = new MaxPool2d(3, { padding: 1, ceilMode: true });
    expect(mp.forward(x).shape).toEqual([2, 3, 3, 3]);
    expect(Array.from(mp.forward(x).value.toFloat32Array())).toEqual(Array.from(A.maxPool2d(x, { kernelSize: 3, stride: 3, padding: 1, ceilMode: true }).value.toFloat32Array()));
    const ap = new AvgPool2d(2, { stride: 1, countIncludePad: false, padding: 1, divisorOverride: null });
    expect(ap.forward(x).shape).toEqual([2, 3, 8, 8]);
    expect(Array.from(ap.forward(x).value.toFloat32Array())).toEqual(Array.from(A.avgPool2d(x, { kernelSize: 2, stride: 1, padding: 1, countIncludePad: false }).value.toFloat32Array()));
    expect(new MaxPool2d(2).forward(x.select(0, 1)).shape).toEqual([3, 3, 3]);
    expect(mp.parameters()).toEqual([]);
  });

  it("AdaptiveAvgPool2d: an int, a pair, and null keeping the input size", () => {
    const x = randn([2, 3, 6, 5], new Rng(7));
    expect(new AdaptiveAvgPool2d(1).forward(x).shape).toEqual([2, 3, 1, 1]);
    expect(new AdaptiveAvgPool2d([2, null]).forward(x).shape).toEqual([2, 3, 2, 5]);
    const g = new AdaptiveAvgPool2d(1).forward(x).value.toFloat32Array();
    const xv = x.toFloat32Array();
    let s = 0;
    for (let i = 0; i < 30; i++) s += xv[i]!;
    expect(g[0]).toBeCloseTo(s / 30, 5);
  });
});

describe("a small CNN", () => {
  it("trains: conv-relu-pool x2 + linear fits a fixed batch (loss falls by 10x)", () => {
    const rng = new Rng(11);
    const model = new Sequential(
      new Conv2d(1, 4, 3, { padding: 1, rng }), new ReLU(), new MaxPool2d(2),
      new Conv2d(4, 8, 3, { padding: "same", rng }), new ReLU(), new AvgPool2d(2),
      new Flatten(), new Linear(8 * 2 * 2, 3, { rng }),
    );
    const x = randn([12, 1, 8, 8], new Rng(12));
    const labels = Array.from({ length: 12 }, (_, i) => i % 3);
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const lossAt = () => crossEntropy(model.forward(x), labels);
    const first = lossAt().value.item();
    for (let step = 0; step < 60; step++) {
      opt.zeroGrad();
      A.backward(lossAt());
      opt.step();
    }
    const last = lossAt().value.item();
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
    expect(last).toBeLessThan(first / 10);
  });
});
