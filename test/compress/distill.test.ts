/**
 * @file Knowledge-distillation helpers: the loss parts against a float64 reference of the README
 * formulas, gradients reaching only the student (teacher in eval mode, no tape), `alpha` 0 equal
 * to plain cross-entropy training, cached teacher logits equal to per-batch ones, clip transforms,
 * a tiny student learning a synthetic task from its teacher, and bad inputs.
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor, indexSelect } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { DataLoader, Dropout, Linear, ReLU, Sequential } from "@tapegrad/nn";
import { Adam, SGD, clipGradNorm } from "@tapegrad/optim";
import {
  countCorrect, distillEpoch, distillStep, distillationLossParts, precomputeTeacherLogits, teacherLogits, trainDistilled,
} from "@tapegrad/compress";

/** float64 reference of the README: kd = T²/N Σ p (log p − log q), ce = mean −log softmax(s)[y]. */
function reference(s: Float32Array, t: Float32Array, y: ArrayLike<number>, n: number, c: number, T: number, alpha: number) {
  let kd = 0, ce = 0;
  const grad = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    const row = (a: Float32Array, scale: number) => {
      const z = Array.from(a.subarray(i * c, i * c + c), (v) => v / scale);
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0));
      return z.map((v) => v - lse);
    };
    const logq = row(s, T), logp = row(t, T), logs1 = row(s, 1);
    for (let k = 0; k < c; k++) {
      const p = Math.exp(logp[k]!);
      if (p > 0) kd += p * (logp[k]! - logq[k]!);
      grad[i * c + k] = (alpha * T / n) * (Math.exp(logq[k]!) - p) + ((1 - alpha) / n) * (Math.exp(logs1[k]!) - (k === y[i] ? 1 : 0));
    }
    ce -= logs1[y[i]!]!;
  }
  kd *= (T * T) / n;
  ce /= n;
  return { kd, ce, loss: alpha * kd + (1 - alpha) * ce, grad };
}

const close = (a: number, e: number, rtol = 1e-4, atol = 1e-5) => expect(Math.abs(a - e)).toBeLessThanOrEqual(atol + rtol * Math.abs(e));
const values = (m: { parameters(): A.Var[] }) => m.parameters().map((p) => Array.from(p.value.toFloat32Array()));

/** Gaussian blobs: `classes` centres in `dim` dimensions, `n` points each (seeded). */
function blobs(n: number, classes: number, dim: number, spread: number, rng: Rng): { x: Tensor; y: Int32Array } {
  const centres = Array.from({ length: classes * dim }, () => 2 * rng.normal());
  const x = new Float32Array(n * classes * dim);
  const y = new Int32Array(n * classes);
  for (let i = 0; i < n * classes; i++) {
    const c = i % classes;
    y[i] = c;
    for (let d = 0; d < dim; d++) x[i * dim + d] = centres[c * dim + d]! + spread * rng.normal();
  }
  return { x: new Tensor(x, [n * classes, dim]), y };
}

const mlp = (sizes: number[], seed: number, dropout = 0) => {
  const rng = new Rng(seed);
  const layers = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new Linear(sizes[i]!, sizes[i + 1]!, { rng }));
    if (i + 2 < sizes.length) {
      layers.push(new ReLU());
      if (dropout > 0) layers.push(new Dropout(dropout, { rng }));
    }
  }
  return new Sequential(...layers);
};

describe("distillationLossParts", () => {
  it("matches the float64 formulas (kd, ce, mix and the student gradient) for several T and alpha", () => {
    const rng = new Rng(3);
    const n = 5, c = 7;
    for (const [T, alpha] of [[1, 0.5], [2, 0.9], [4, 0], [20, 1]] as const) {
      const s = Float32Array.from({ length: n * c }, () => 3 * rng.normal());
      const t = Float32Array.from({ length: n * c }, () => 3 * rng.normal());
      const y = Int32Array.from({ length: n }, () => rng.int(0, c));
      const sv = A.variable(new Tensor(s, [n, c]));
      const parts = distillationLossParts(sv, new Tensor(t, [n, c]), y, { temperature: T, alpha });
      const ref = reference(s, t, y, n, c, T, alpha);
      close(parts.kd.item(), ref.kd);
      close(parts.ce.item(), ref.ce);
      close(parts.loss.item(), ref.loss);
      parts.loss.backward();
      const g = sv.grad!.toFloat32Array();
      ref.grad.forEach((v, i) => close(g[i]!, v));
    }
  });

  it("sends no gradient to a teacher Var and rejects mismatched logits", () => {
    const s = A.variable(new Tensor(new Float32Array([1, 2, 3, 0, 0, 1]), [2, 3]));
    const t = A.variable(new Tensor(new Float32Array([3, 2, 1, 1, 0, 0]), [2, 3]));
    distillationLossParts(s, t, [0, 2], { temperature: 2, alpha: 0.7 }).loss.backward();
    expect(s.grad).not.toBeNull();
    expect(t.grad).toBeNull();
    expect(() => distillationLossParts(s, new Tensor(new Float32Array(4), [2, 2]), [0, 1])).toThrow(/distillationLossParts: student and teacher logits must both be \[N, C\] of the same shape \(got \[2,3\] and \[2,2\]\)/);
    expect(() => distillationLossParts(s, t, [0, 1], { temperature: 0 })).toThrow(/distillationLossParts: temperature must be finite and > 0 \(got 0\)/);
    expect(() => distillationLossParts(s, t, [0, 1], { alpha: 1.5 })).toThrow(/distillationLossParts: alpha must be in \[0, 1\] \(got 1.5\)/);
    expect(() => distillationLossParts(s, t, [0, 3])).toThrow(/label 3 at position 1 is not a class index in \[0, 3\)/);
  });
});

describe("teacherLogits", () => {
  it("runs the teacher in eval mode under noGrad and restores its mode", () => {
    const teacher = mlp([4, 16, 3], 1, 0.5);
    const x = new Tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [6, 4]);
    teacher.eval();
    const evalOut = Array.from(A.noGrad(() => teacher.forward(x)).value.toFloat32Array());
    teacher.train();
    const a = teacherLogits(teacher, x);
    expect(teacher.training).toBe(true);
    expect(Array.from(a.toFloat32Array())).toEqual(evalOut); // dropout off: exactly the eval forward
    expect(Array.from(teacherLogits(teacher, x).toFloat32Array())).toEqual(evalOut);
    expect(Array.from(precomputeTeacherLogits(teacher, x, 4).toFloat32Array())).toEqual(evalOut); // chunks of 4 + 2
    expect(teacher.parameters().every((p) => p.grad === null)).toBe(true);
    expect(() => teacherLogits({ forward: () => new Tensor(new Float32Array(3), [3]) }, x)).toThrow(/teacherLogits: the teacher must return logits \[N, C\] with N = 6 \(got shape \[3\]\)/);
    expect(() => precomputeTeacherLogits(teacher, x, 0)).toThrow(/precomputeTeacherLogits: batchSize must be a positive integer \(got 0\)/);
  });
});

describe("distillStep", () => {
  const rng = new Rng(5);
  const x = new Tensor(Float32Array.from({ length: 8 * 4 }, () => rng.normal()), [8, 4]);
  const labels = Int32Array.from({ length: 8 }, (_, i) => i % 3);

  it("updates only the student; reports the loss parts of the batch before the update", () => {
    const teacher = mlp([4, 16, 3], 2, 0.3);
    const student = mlp([4, 3], 3);
    const teacherBefore = values(teacher);
    const studentBefore = values(student);
    const s0 = A.noGrad(() => student.forward(x)).value.toFloat32Array();
    teacher.eval();
    const t0 = A.noGrad(() => teacher.forward(x)).value.toFloat32Array();
    teacher.train();
    const opt = new SGD(student.parameters(), { lr: 0.1, momentum: 0.9 });
    const r = distillStep({ student, teacher, optimizer: opt, x, labels, temperature: 3, alpha: 0.8 });
    const ref = reference(s0, t0, labels, 8, 3, 3, 0.8);
    close(r.kdLoss, ref.kd);
    close(r.ceLoss, ref.ce);
    close(r.loss, ref.loss);
    expect(r.correct).toBe(countCorrect(new Tensor(s0, [8, 3]), labels));
    expect(r.batchSize).toBe(8);
    expect(r.stepped).toBe(true);
    expect(r.stats?.step).toBe(1);
    expect(values(teacher)).toEqual(teacherBefore);
    expect(teacher.parameters().every((p) => p.grad === null)).toBe(true);
    expect(teacher.training).toBe(true);
    expect(values(student)).not.toEqual(studentBefore);
    // SGD's first step is p − lr·g with g the distillation gradient through the Linear: dW = gᵀx
    const xs = x.toFloat32Array();
    const w0 = studentBefore[0]!, w1 = values(student)[0]!;
    for (let o = 0; o < 3; o++) {
      for (let k = 0; k < 4; k++) {
        let g = 0;
        for (let i = 0; i < 8; i++) g += ref.grad[i * 3 + o]! * xs[i * 4 + k]!;
        close(w1[o * 4 + k]!, w0[o * 4 + k]! - 0.1 * g, 1e-4, 1e-6);
      }
    }
  });

  it("with alpha 0 is exactly plain cross-entropy training (same bits after several Adam steps)", () => {
    const teacher = mlp([4, 8, 3], 9);
    const a = mlp([4, 6, 3], 4), b = mlp([4, 6, 3], 4);
    const optA = new Adam(a.parameters(), { lr: 0.05 }), optB = new Adam(b.parameters(), { lr: 0.05 });
    for (let step = 0; step < 5; step++) {
      distillStep({ student: a, teacher, optimizer: optA, x, labels, temperature: 4, alpha: 0 });
      optB.zeroGrad();
      A.crossEntropy(b.forward(x), labels).backward();
      optB.step();
    }
    expect(values(a)).toEqual(values(b));
    expect(values(a)).not.toEqual(values(mlp([4, 6, 3], 4)));
  });

  it("works with the optimizer's clip chain and extra clip transforms", () => {
    const teacher = mlp([4, 8, 3], 9);
    const student = mlp([4, 3], 4);
    const opt = new SGD(student.parameters(), { lr: 0.5, clip: clipGradNorm.transform(1e-3) });
    const r = distillStep({ student, teacher, optimizer: opt, x, labels, temperature: 2, alpha: 0.5 });
    expect(r.stats!.clipped).toBe(true);
    expect(r.stats!.preClipNorm).toBeGreaterThan(1e-3);
    close(r.stats!.postClipNorm, 1e-3, 1e-3, 0);
    // an extra transform that zeroes every gradient (max norm 0) runs before the step: nothing moves
    const frozen = mlp([4, 3], 4);
    const before = values(frozen);
    const opt2 = new SGD(frozen.parameters(), { lr: 0.5 });
    distillStep({ student: frozen, teacher, optimizer: opt2, x, labels, clip: clipGradNorm.transform(0) });
    expect(values(frozen)).toEqual(before);
    expect(opt2.stepCount).toBe(1);
  });

  it("rejects bad options with clear errors", () => {
    const teacher = mlp([4, 8, 3], 9);
    const student = mlp([4, 3], 4);
    const optimizer = new SGD(student.parameters(), { lr: 0.1 });
    const t = teacherLogits(teacher, x);
    expect(() => distillStep({ student, teacher, teacherLogits: t, optimizer, x, labels })).toThrow("distillStep: give exactly one of teacher and teacherLogits (got both)");
    expect(() => distillStep({ student, optimizer, x, labels })).toThrow("distillStep: give exactly one of teacher and teacherLogits (got neither)");
    expect(() => distillStep({ student, teacher, optimizer, x, labels, temperature: -1 })).toThrow(/temperature must be finite and > 0 \(got -1\)/);
    expect(() => distillStep({ student, teacherLogits: new Tensor(new Float32Array(8 * 4), [8, 4]), optimizer, x, labels })).toThrow(/student and teacher logits must both be \[N, C\] of the same shape \(got \[8,3\] and \[8,4\]\)/);
    expect(() => distillStep({ student, teacher, optimizer: {} as never, x, labels })).toThrow("distillStep: optimizer must be an @tapegrad/optim optimizer");
  });
});

describe("distillEpoch / trainDistilled", () => {
  const rng = new Rng(11);
  const all = blobs(120, 4, 6, 1.2, rng); // same centres for both splits: first half trains, second half tests
  const half = (k: number) => ({ x: new Tensor(all.x.toFloat32Array().slice(k * 240 * 6, (k + 1) * 240 * 6), [240, 6]), y: all.y.slice(k * 240, (k + 1) * 240) });
  const train = half(0), test = half(1);
  const accuracy = (m: Sequential, d: { x: Tensor; y: Int32Array }) => countCorrect(A.noGrad(() => m.forward(d.x)).value, d.y) / d.y.length;

  it("the cached run is the per-batch run with the cache's rows; callbacks see every step and epoch", () => {
    const teacher = mlp([6, 16, 4], 1, 0.2);
    const setup = () => {
      const student = mlp([6, 5, 4], 2);
      return { student, opt: new Adam(student.parameters(), { lr: 0.01 }), loader: new DataLoader(train.x, train.y, { batchSize: 32, rng: new Rng(3) }) };
    };
    const run = (cacheTeacher: boolean) => {
      const { student, opt, loader } = setup();
      const steps: number[] = [];
      const epochs: number[] = [];
      let after = 0;
      const reports = trainDistilled({
        student, teacher, optimizer: opt, loader, epochs: 2, temperature: 4, alpha: 0.9, cacheTeacher,
        onStep: (p) => steps.push(p.step), onEpoch: (r) => epochs.push(r.epoch), afterStep: () => after++, evaluate: () => accuracy(student, test),
      });
      expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(epochs).toEqual([1, 2]);
      expect(after).toBe(16);
      expect(reports.map((r) => r.steps)).toEqual([8, 8]);
      expect(reports.every((r) => typeof r.metric === "number" && r.skippedSteps === 0)).toBe(true);
      expect(student.training).toBe(true);
      expect(teacher.training).toBe(true);
      return { params: values(student), losses: reports.map((r) => [r.loss, r.kdLoss, r.ceLoss]) };
    };
    const cached = run(true), perBatch = run(false);
    // by hand: distillStep with rows of the precomputed logits — the same bits as the cached run
    const manual = setup();
    const cache = precomputeTeacherLogits(teacher, train.x);
    for (let e = 0; e < 2; e++) {
      for (const b of manual.loader) {
        distillStep({ student: manual.student, teacherLogits: indexSelect(cache, 0, b.indices), optimizer: manual.opt, x: b.x, labels: b.y as Int32Array, temperature: 4, alpha: 0.9 });
      }
    }
    expect(values(manual.student)).toEqual(cached.params);
    // per batch the teacher's logits are the same up to the GEMM's last bit (its rounding may depend on the batch size)
    cached.params.flat().forEach((v, i) => expect(Math.abs(v - perBatch.params.flat()[i]!)).toBeLessThanOrEqual(1e-5));
    cached.losses.flat().forEach((v, i) => close(v, perBatch.losses.flat()[i]!, 1e-5, 1e-6));
  });

  it("a tiny student learns the task from its teacher (accuracy and KD loss improve)", () => {
    const teacher = mlp([6, 32, 4], 5);
    const topt = new Adam(teacher.parameters(), { lr: 0.02 });
    const tl = new DataLoader(train.x, train.y, { batchSize: 32, rng: new Rng(1) });
    for (let e = 0; e < 40; e++) {
      for (const b of tl) {
        topt.zeroGrad();
        A.crossEntropy(teacher.forward(b.x), b.y as Int32Array).backward();
        topt.step();
      }
    }
    const teacherAcc = accuracy(teacher, test);
    expect(teacherAcc).toBeGreaterThan(0.85);
    const student = mlp([6, 3, 4], 6);
    const before = accuracy(student, test);
    const opt = new Adam(student.parameters(), { lr: 0.02 });
    const loader = new DataLoader(train.x, train.y, { batchSize: 32, rng: new Rng(2) });
    const first = distillEpoch({ student, teacher, optimizer: opt, loader, temperature: 4, alpha: 0.9 });
    const reports = trainDistilled({ student, teacher, optimizer: opt, loader, epochs: 30, temperature: 4, alpha: 0.9, evaluate: () => accuracy(student, test) });
    const last = reports[reports.length - 1]!;
    expect(last.kdLoss).toBeLessThan(0.5 * first.kdLoss);
    expect(last.metric!).toBeGreaterThan(before + 0.3);
    expect(last.metric!).toBeGreaterThan(teacherAcc - 0.1);
    expect(last.accuracy).toBeGreaterThan(first.accuracy);
  });

  it("rejects bad loaders, epochs and caches", () => {
    const teacher = mlp([6, 8, 4], 1);
    const student = mlp([6, 4], 2);
    const optimizer = new SGD(student.parameters(), { lr: 0.1 });
    const loader = new DataLoader(train.x, train.y, { batchSize: 32 });
    expect(() => trainDistilled({ student, teacher, optimizer, loader, epochs: 0 })).toThrow("trainDistilled: epochs must be a positive integer (got 0)");
    expect(() => distillEpoch({ student, teacher, optimizer, loader: new DataLoader(train.x, null, { batchSize: 32 }) })).toThrow("distillEpoch: the loader must yield integer class labels (an Int32Array or a 1-D tensor), got no labels");
    expect(() => distillEpoch({ student, optimizer, loader, teacherCache: new Tensor(new Float32Array(4 * 4), [4, 4]) })).toThrow("distillEpoch: teacherCache must be [N, C] with N = 240 (the loader's samples), got [4,4]");
    expect(() => distillEpoch({ student, optimizer, loader })).toThrow("distillEpoch: give exactly one of teacher and teacherCache (got neither)");
  });
});
