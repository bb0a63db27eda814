/**
 * @file Quantized inference and the model workflows: QuantizedLinear's integers against a
 * brute-force reference, post-training static and dynamic quantization close to the float model,
 * quantization-aware training of a tiny MLP that learns (and converts to the same outputs), and
 * errors; the float model is never modified.
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor, randn, tensor } from "@tapegrad/tensor";
import { constant, crossEntropy, noGrad } from "@tapegrad/autograd";
import { Dropout, Flatten, Linear, ReLU, Sequential, Tanh } from "@tapegrad/nn";
import { SGD } from "@tapegrad/optim";
import {
  FakeQuantize, FloatStep, QatLinear, QuantizedLinear, QuantizedSequential, convert, dequantize, prepareQat, prepareStatic, quantizeDynamic,
} from "@tapegrad/compress";

const maxAbsDiff = (a: Tensor, b: Tensor) => {
  const x = a.toFloat32Array(), y = b.toFloat32Array();
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
};
const maxAbs = (a: Tensor) => a.toFloat32Array().reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const mlp = (seed: number) => new Sequential(new Linear(20, 32, { rng: new Rng(seed) }), new ReLU(), new Dropout(0.1), new Linear(32, 5, { rng: new Rng(seed + 1) }));

describe("QuantizedLinear", () => {
  it("accumulates exactly (brute force) and outputs acc·(xScale·wScale) + bias", () => {
    const rng = new Rng(11);
    const [B, I, O] = [7, 37, 19];
    const x = randn([B, I], rng), w = randn([O, I], rng), b = randn([O], rng);
    const ql = QuantizedLinear.fromFloat(w, b, { scale: 0.02, zeroPoint: 120 });
    const xq = ql.quantizeInput(x);
    const xi = xq.data as Uint8Array;
    const acc = ql.accumulate(xi, B, 120);
    const fx = Math.fround(0.02);
    const y = ql.forward(x).toFloat32Array();
    for (let r = 0; r < B; r++) {
      for (let o = 0; o < O; o++) {
        let s = 0;
        for (let i = 0; i < I; i++) s += (xi[r * I + i]! - 120) * ql.weight[o * I + i]!;
        expect(acc[r * O + o]).toBe(s);
        const want = s * fx * ql.weightScales[o]! + b.get(o);
        expect(Math.abs(y[r * O + o]! - want)).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(want));
      }
    }
    // the float reference from dequantized operands agrees
    const ref = dequantize(xq).toFloat32Array();
    const wd = dequantize(ql.weightQTensor()).toFloat32Array();
    let s = b.get(0);
    for (let i = 0; i < I; i++) s += ref[i]! * wd[i]!;
    expect(Math.abs(y[0]! - s)).toBeLessThan(1e-4);
    ql.dispose();
  });

  it("fused ReLU, leading dims, and clear errors", () => {
    const w = tensor([[1, -1], [-1, 1]]);
    const ql = QuantizedLinear.fromFloat(w, null, { scale: 0.01, zeroPoint: 128 }, { relu: true });
    const y = ql.forward(tensor([[[0.5, 0.25]]]));
    expect(y.shape).toEqual([1, 1, 2]);
    expect(y.get(0, 0, 1)).toBe(0);
    expect(y.get(0, 0, 0)).toBeCloseTo(0.25, 2);
    expect(() => ql.forward(tensor([[1, 2, 3]]))).toThrow(/QuantizedLinear.forward: the last dimension of x must be inFeatures = 2/);
    expect(() => ql.forward(tensor([[1, NaN]]))).toThrow(/QuantizedLinear.forward: cannot quantize non-finite value NaN at index 1/);
    expect(() => new QuantizedLinear({ ...ql.params(), weightZeroPoints: Int32Array.of(0, 3) })).toThrow(/QuantizedLinear: weight zero points must be 0/);
    expect(() => new QuantizedLinear({ ...ql.params(), inputZeroPoint: 300 })).toThrow(/QuantizedLinear: inputZeroPoint must be an integer in \[0, 255\] \(got 300\)/);
    expect(() => new QuantizedLinear({ ...ql.params(), inputScale: null })).toThrow(/give both inputScale and inputZeroPoint/);
    ql.dispose();
  });
});

describe("post-training static quantization", () => {
  it("calibrates, converts to int8 layers with fused ReLU, and stays close to the float model", () => {
    const model = mlp(1).eval();
    const before = model.stateDict();
    const prepared = prepareStatic(model);
    const rng = new Rng(2);
    noGrad(() => { for (let i = 0; i < 8; i++) prepared.forward(constant(randn([16, 20], rng))); });
    const q = convert(prepared);
    expect(q.layers.map((l) => (l instanceof QuantizedLinear ? `q${l.relu ? "+relu" : ""}` : (l as FloatStep).kind))).toEqual(["q+relu", "q"]);
    const l0 = q.layers[0] as QuantizedLinear;
    expect(l0.weight).toBeInstanceOf(Int8Array);
    expect(l0.inputScale).toBeGreaterThan(0);
    const x = randn([64, 20], new Rng(3));
    const yf = noGrad(() => model.forward(constant(x))).value;
    const yq = q.forward(x);
    const err = maxAbsDiff(yq, yf);
    expect(err).toBeLessThan(0.03 * maxAbs(yf));
    expect(err).toBeGreaterThan(0); // it really is quantized
    // the float model is untouched
    for (const [k, v] of Object.entries(model.stateDict())) expect(Array.from(v.toFloat32Array())).toEqual(Array.from(before[k]!.toFloat32Array()));
    q.dispose();
  });

  it("rejects uncalibrated, unprepared and unsupported models", () => {
    expect(() => convert(prepareStatic(mlp(4)))).toThrow(/convert: layer 0 \(ObservedLinear\) was never calibrated/);
    expect(() => convert(mlp(4))).toThrow(/convert: layer 0 is a float Linear: prepare the model/);
    expect(() => prepareStatic(new Sequential(new Linear(2, 2), new Tanh()))).toThrow(/prepareStatic: unsupported layer 1 \(Tanh\)/);
    expect(() => prepareQat(new Linear(2, 2) as never)).toThrow(/prepareQat: model must be an nn.Sequential MLP/);
  });

  it("keeps Flatten as a float step", () => {
    const model = new Sequential(new Flatten(), new Linear(6, 3, { rng: new Rng(5) }));
    const prepared = prepareStatic(model);
    const x = randn([4, 2, 3], new Rng(6));
    noGrad(() => prepared.forward(constant(x)));
    const q = convert(prepared);
    expect(q.layers[0]).toBeInstanceOf(FloatStep);
    expect(maxAbsDiff(q.forward(x), noGrad(() => model.forward(constant(x))).value)).toBeLessThan(0.05);
  });
});

describe("dynamic quantization", () => {
  it("quantizes weights ahead of time and activations per batch, close to the float model", () => {
    const model = mlp(7).eval();
    for (const weightQscheme of ["per_tensor_symmetric", "per_channel_symmetric"] as const) {
      const q = quantizeDynamic(model, { weightQscheme });
      expect(q.linears().every((l) => l.isDynamic && l.inputScale === null)).toBe(true);
      const x = randn([32, 20], new Rng(8));
      const yf = noGrad(() => model.forward(constant(x))).value;
      expect(maxAbsDiff(q.forward(x), yf)).toBeLessThan(0.05 * maxAbs(yf));
      // per-batch parameters: a batch of tiny inputs still uses the whole integer range
      const small = new Tensor(x.toFloat32Array().map((v) => v * 1e-3), [32, 20]);
      const ys = noGrad(() => model.forward(constant(small))).value;
      expect(maxAbsDiff(q.forward(small), ys)).toBeLessThan(0.05 * maxAbs(ys));
      q.dispose();
    }
  });
});

describe("quantization-aware training", () => {
  it("trains a tiny MLP with fake quantization and converts to the same outputs", () => {
    // two Gaussian blobs per class in 2-d, 3 classes
    const rng = new Rng(21);
    const N = 240;
    const xs = new Float32Array(N * 2), ys = new Int32Array(N);
    const centers = [[2, 0], [-1, 1.7], [-1, -1.7]];
    const noise = randn([N, 2], rng).toFloat32Array();
    for (let i = 0; i < N; i++) {
      const c = i % 3;
      ys[i] = c;
      xs[2 * i] = centers[c]![0]! + 0.5 * noise[2 * i]!;
      xs[2 * i + 1] = centers[c]![1]! + 0.5 * noise[2 * i + 1]!;
    }
    const X = new Tensor(xs, [N, 2]);
    const model = new Sequential(new Linear(2, 16, { rng: new Rng(1) }), new ReLU(), new Linear(16, 3, { rng: new Rng(2) }));
    const qat = prepareQat(model, { averagingConstant: 0.1 });
    expect(qat.layers[0]).toBeInstanceOf(QatLinear);
    const opt = new SGD(qat.parameters(), { lr: 0.1, momentum: 0.9 });
    const lossAt = () => crossEntropy(qat.forward(constant(X)), ys);
    const first = lossAt().item();
    for (let step = 0; step < 150; step++) {
      opt.zeroGrad();
      const loss = lossAt();
      loss.backward();
      opt.step();
    }
    const last = lossAt().item();
    expect(last).toBeLessThan(0.5 * first);
    // the gradients reached the QAT copy's weights through the fake quantizers; the float model is untouched
    const fc = model.layers[0] as Linear, qfc = qat.layers[0] as QatLinear;
    expect(qfc.weight.grad).not.toBeNull();
    expect(fc.weight.grad).toBeNull();
    expect(maxAbsDiff(qfc.weight.value, fc.weight.value)).toBeGreaterThan(0.01);
    // freeze the observers; the fake-quantized forward and the int8 model now compute the same thing
    for (const [, m] of qat.namedModules()) if (m instanceof FakeQuantize) m.disableObserver();
    const yQat = noGrad(() => qat.forward(constant(X))).value;
    const q: QuantizedSequential = convert(qat);
    const yInt = q.forward(X);
    expect(maxAbsDiff(yInt, yQat)).toBeLessThan(1e-4 * Math.max(1, maxAbs(yQat)));
    const pred = yInt.toFloat32Array();
    let correct = 0;
    for (let i = 0; i < N; i++) {
      const row = pred.subarray(3 * i, 3 * i + 3);
      if (row.indexOf(Math.max(...row)) === ys[i]) correct++;
    }
    expect(correct / N).toBeGreaterThan(0.9);
    q.dispose();
  });
});
