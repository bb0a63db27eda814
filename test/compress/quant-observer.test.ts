/**
 * @file Observers: running statistics (min/max, moving averages, per channel, empty batches
 * ignored), torch's qparams in float32 steps, effective ranges, and clear errors.
 */
import { describe, expect, it } from "vitest";
import { Tensor, tensor } from "@tapegrad/tensor";
import {
  DEFAULT_EPS, MinMaxObserver, MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver, PerChannelMinMaxObserver, chooseQparamsDynamic,
} from "@tapegrad/compress";

const f = Math.fround;

describe("MinMaxObserver", () => {
  it("affine quint8: scale = (max - min)/255, zero point = -rne(min/scale)", () => {
    const obs = new MinMaxObserver();
    obs.forward(tensor([0.5, -1]));
    obs.forward(tensor([3, 0]));
    expect([obs.minVal, obs.maxVal]).toEqual([-1, 3]);
    const scale = f(4 / 255);
    expect(obs.calculateQparams()).toEqual({ scale, zeroPoint: 64 }); // -rne(-63.75)
    expect([obs.quantMin, obs.quantMax]).toEqual([0, 255]);
  });

  it("keeps 0 in the range, and an all-zero input gives scale eps", () => {
    const pos = new MinMaxObserver({ dtype: "qint8" });
    pos.forward(tensor([2, 5.1]));
    expect(pos.calculateQparams()).toEqual({ scale: f(f(5.1) / 255), zeroPoint: -128 });
    const zero = new MinMaxObserver();
    zero.forward(tensor([0, 0]));
    expect(zero.calculateQparams()).toEqual({ scale: f(DEFAULT_EPS), zeroPoint: 0 });
  });

  it("symmetric: scale = amax / 127.5 (63.5 reduced), zero point 0 for qint8 and 128 for quint8", () => {
    const s = new MinMaxObserver({ dtype: "qint8", qscheme: "per_tensor_symmetric" });
    s.forward(tensor([-2, 1]));
    expect(s.calculateQparams()).toEqual({ scale: f(2 / 127.5), zeroPoint: 0 });
    const r = new MinMaxObserver({ dtype: "qint8", qscheme: "per_tensor_symmetric", reduceRange: true });
    r.forward(tensor([-2, 1]));
    expect(r.calculateQparams()).toEqual({ scale: f(2 / 63.5), zeroPoint: 0 });
    expect([r.quantMin, r.quantMax]).toEqual([-64, 63]);
    const u = new MinMaxObserver({ dtype: "quint8", qscheme: "per_tensor_symmetric" });
    u.forward(tensor([-2, 1]));
    expect(u.calculateQparams().zeroPoint).toBe(128);
    const c = new MinMaxObserver({ dtype: "quint8", qscheme: "per_tensor_symmetric", quantMin: 0, quantMax: 15 });
    c.forward(tensor([-2, 1]));
    expect(c.calculateQparams()).toEqual({ scale: f(2 / 7.5), zeroPoint: 7 });
  });

  it("custom and reduced ranges", () => {
    expect(new MinMaxObserver({ quantMin: 0, quantMax: 15 }).quantMax).toBe(15);
    const r = new MinMaxObserver({ quantMin: 0, quantMax: 15, reduceRange: true });
    expect([r.quantMin, r.quantMax]).toEqual([0, 7]);
    expect([new MinMaxObserver({ reduceRange: true }).quantMax, new MinMaxObserver({ dtype: "qint8", quantMin: -8, quantMax: 7 }).quantMin]).toEqual([127, -8]);
  });

  it("without data gives scale 1, zero point 0; empty batches are ignored", () => {
    const obs = new MinMaxObserver();
    expect(obs.calculateQparams()).toEqual({ scale: 1, zeroPoint: 0 });
    obs.forward(new Tensor(new Float32Array(0), [0, 3]));
    expect([obs.minVal, obs.maxVal, obs.hasData]).toEqual([Infinity, -Infinity, false]);
    obs.forward(tensor([1]));
    obs.forward(new Tensor(new Float32Array(0), [0]));
    expect([obs.minVal, obs.maxVal]).toEqual([1, 1]);
  });

  it("returns its input unchanged", () => {
    const x = tensor([1, 2]);
    expect(new MinMaxObserver().forward(x)).toBe(x);
  });

  it("raises clear errors", () => {
    expect(() => new MinMaxObserver({ dtype: "quint8", qscheme: "per_tensor_symmetric", reduceRange: true })).toThrow(/MinMaxObserver: cannot reduce range for symmetric quantization for quint8/);
    expect(() => new MinMaxObserver({ quantMin: 1, quantMax: 15 })).toThrow(/MinMaxObserver: the range \[quantMin, quantMax\] must include 0 \(got \[1, 15\]\)/);
    expect(() => new MinMaxObserver({ quantMin: 0 })).toThrow(/give both quantMin and quantMax/);
    expect(() => new MinMaxObserver({ dtype: "qint8", quantMin: -200, quantMax: 100 })).toThrow(/must not exceed 256 values/);
    expect(() => new MinMaxObserver({ qscheme: "per_channel_affine" })).toThrow(/MinMaxObserver: qscheme must be per_tensor_affine or per_tensor_symmetric/);
    expect(() => new MinMaxObserver({ qscheme: "nope" as never })).toThrow(/qscheme must be one of/);
    expect(() => new MinMaxObserver().forward(tensor([1, NaN]))).toThrow(/MinMaxObserver.forward: cannot observe non-finite value NaN at index 1/);
  });
});

describe("MovingAverageMinMaxObserver", () => {
  it("first batch sets the range, then min += c·(batchMin − min) in float32", () => {
    const obs = new MovingAverageMinMaxObserver({ averagingConstant: 0.1 });
    obs.forward(tensor([0, 1]));
    obs.forward(new Tensor(new Float32Array(0), [0])); // ignored
    obs.forward(tensor([-1, 3]));
    const c = f(0.1);
    expect(obs.minVal).toBe(f(0 + f(c * f(-1 - 0))));
    expect(obs.maxVal).toBe(f(1 + f(c * f(3 - 1))));
    expect(() => new MovingAverageMinMaxObserver({ averagingConstant: 0 })).toThrow(/MovingAverageMinMaxObserver: averagingConstant must be in \(0, 1\] \(got 0\)/);
  });
});

describe("per-channel observers", () => {
  it("track min/max per index along chAxis and give per-channel qparams", () => {
    const x = tensor([[1, -2], [3, 4]]);
    const o0 = new PerChannelMinMaxObserver({ dtype: "qint8", qscheme: "per_channel_symmetric", chAxis: 0 });
    o0.forward(x);
    expect([Array.from(o0.minVal), Array.from(o0.maxVal)]).toEqual([[-2, 3], [1, 4]]);
    const q = o0.calculateQparams();
    expect(Array.from(q.scales)).toEqual([f(2 / 127.5), f(4 / 127.5)]);
    expect(Array.from(q.zeroPoints)).toEqual([0, 0]);
    const o1 = new PerChannelMinMaxObserver({ chAxis: -1 });
    o1.forward(x);
    o1.forward(tensor([[-5, 0]]));
    expect([Array.from(o1.minVal), Array.from(o1.maxVal)]).toEqual([[-5, -2], [3, 4]]);
    expect(Array.from(o1.calculateQparams().zeroPoints)).toEqual([Math.min(255, 0 - Math.round(-5 / f(8 / 255))), 0 + 2 * 0 + Math.round(2 / f(6 / 255))]);
  });

  it("moving average per channel; no data gives one scale 1 / zero point 0", () => {
    const obs = new MovingAveragePerChannelMinMaxObserver({ chAxis: 1, averagingConstant: 0.5 });
    expect(obs.calculateQparams()).toEqual({ scales: Float32Array.of(1), zeroPoints: Int32Array.of(0) });
    obs.forward(tensor([[0, 2], [1, 5]])); // channel 0: {0, 1}, channel 1: {2, 5}
    obs.forward(tensor([[-2, 4], [2, 4]])); // channel 0: [-2, 2], channel 1: [4, 4]
    expect([Array.from(obs.minVal), Array.from(obs.maxVal)]).toEqual([[-1, 3], [1.5, 4.5]]);
  });

  it("raise for a changed channel count and a bad axis", () => {
    const obs = new PerChannelMinMaxObserver();
    obs.forward(tensor([[1, 2], [3, 4]]));
    expect(() => obs.forward(tensor([[1, 2]]))).toThrow(/PerChannelMinMaxObserver.forward: x has 1 channels along axis 0, earlier batches had 2/);
    expect(() => new PerChannelMinMaxObserver({ chAxis: 2 }).forward(tensor([[1]]))).toThrow(/axis 2 is out of range for shape \[1,1\]/);
  });
});

describe("chooseQparamsDynamic (torch's dynamic Linear)", () => {
  it("chooses the zero point from the end with the smaller error and halves the range with reduceRange", () => {
    expect(chooseQparamsDynamic(-1, 3, 0, 255, false)).toEqual({ scale: f(4 / 255), zeroPoint: 64 });
    expect(chooseQparamsDynamic(-1, 3, 0, 255, true)).toEqual({ scale: f(4 / 127), zeroPoint: 32 }); // 31.75 -> 32
    expect(chooseQparamsDynamic(0, 0, 0, 255, false)).toEqual({ scale: f(0.1), zeroPoint: 0 });
    expect(chooseQparamsDynamic(0, 1e-4, 0, 255, false).scale).toBe(f(6.1e-5));
    expect(() => chooseQparamsDynamic(2, 1, 0, 255, false)).toThrow(/chooseQparamsDynamic: min must be <= max/);
  });
});
