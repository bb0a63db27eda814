/**
 * @file Each optimizer's update rule (one map kernel per rule, run by the active backend) against
 * the reference formulas written out per element, bit for bit, for every SGD/Adam/AdamW/RMSprop
 * configuration on data with NaN, ±Infinity, ±0 and subnormals, with gradients in ordinary arrays
 * and in long-lived (kernel) storage; the float64 Σx²; and the norms the optimizer reports.
 */
import { describe, expect, it } from "vitest";
import { Tensor, allocate } from "@tapegrad/tensor";
import { variable, type Var } from "@tapegrad/autograd";
import { Adam, AdamW, RMSprop, SGD, clipGradNorm, normOf, type GradTransform, type Optimizer } from "@tapegrad/optim";
import { param, valueOf } from "./helpers.js";

const fround = Math.fround;
type Hyper = Record<string, number | boolean | readonly number[]>;
type State = { step: number; a: Float32Array | null; b: Float32Array | null; c: Float32Array | null };

/** PyTorch's formulas written out per element (the reference the rules must match). */
function sgdRef(h: Hyper, value: Float32Array, grad: Float32Array, st: State): void {
  const lr = h.lr as number, mu = h.momentum as number, keep = 1 - (h.dampening as number), wd = h.weightDecay as number;
  const sign = h.maximize ? -1 : 1, n = value.length;
  const first = st.a === null;
  const buf = (st.a ??= new Float32Array(n));
  for (let i = 0; i < n; i++) {
    let g = sign * grad[i]!;
    if (wd !== 0) g = fround(g + wd * value[i]!);
    if (mu === 0) {
      value[i] = value[i]! - lr * g;
      continue;
    }
    buf[i] = first ? g : fround(mu * buf[i]!) + keep * g;
    const b = buf[i]!;
    value[i] = value[i]! - lr * (h.nesterov ? fround(g + mu * b) : b);
  }
}
function adamRef(h: Hyper, decoupled: boolean, value: Float32Array, grad: Float32Array, st: State): void {
  const lr = h.lr as number, eps = h.eps as number, wd = h.weightDecay as number, epsRoot = h.epsRoot as number;
  const [b1, b2] = h.betas as [number, number];
  const n = value.length, t = ++st.step;
  const m = (st.a ??= new Float32Array(n)), v = (st.b ??= new Float32Array(n)), vmax = h.amsgrad ? (st.c ??= new Float32Array(n)) : null;
  const bc2 = 1 - Math.pow(b2, t), stepSize = lr / (1 - Math.pow(b1, t)), sign = h.maximize ? -1 : 1;
  const decay = decoupled ? 1 - lr * wd : 1, l2 = decoupled ? 0 : wd;
  for (let i = 0; i < n; i++) {
    let p = value[i]!;
    if (decay !== 1) p = fround(p * decay);
    let g = sign * grad[i]!;
    if (l2 !== 0) g = fround(g + l2 * p);
    const mi = fround(fround(m[i]! * b1) + (1 - b1) * g);
    const vi = fround(fround(v[i]! * b2) + (1 - b2) * g * g);
    m[i] = mi;
    v[i] = vi;
    let vv = vi;
    if (vmax !== null) vmax[i] = vv = Math.max(vmax[i]!, vi);
    const denom = epsRoot === 0 ? fround(fround(Math.sqrt(vv) / Math.sqrt(bc2)) + eps) : Math.sqrt(vv / bc2 + epsRoot) + eps;
    value[i] = p - stepSize * (mi / denom);
  }
}
function rmspropRef(h: Hyper, value: Float32Array, grad: Float32Array, st: State): void {
  const lr = h.lr as number, alpha = h.alpha as number, eps = h.eps as number, wd = h.weightDecay as number, mu = h.momentum as number;
  const n = value.length, sign = h.maximize ? -1 : 1, c = 1 - alpha;
  const sq = (st.a ??= new Float32Array(n)), ga = h.centered ? (st.b ??= new Float32Array(n)) : null, buf = mu > 0 ? (st.c ??= new Float32Array(n)) : null;
  for (let i = 0; i < n; i++) {
    let g = sign * grad[i]!;
    if (wd !== 0) g = fround(g + wd * value[i]!);
    const s = (sq[i] = fround(fround(alpha * sq[i]!) + c * g * g));
    let avg = fround(fround(Math.sqrt(s)) + eps);
    if (ga !== null) {
      const a = (ga[i] = fround(fround(alpha * ga[i]!) + c * g));
      avg = fround(fround(Math.sqrt(fround(s - a * a))) + eps);
    }
    if (buf !== null) value[i] = value[i]! - lr * (buf[i] = fround(fround(mu * buf[i]!) + g / avg));
    else value[i] = value[i]! - lr * (g / avg);
  }
}

let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-45, -1e38, 3e38];
const data = (n: number) => Float32Array.from({ length: n }, () => (rnd() < 0.05 ? SPECIAL[Math.floor(rnd() * SPECIAL.length)]! : (rnd() - 0.5) * 4));
const sameBits = (a: Float32Array, b: Float32Array) => a.every((x, i) => Object.is(x, b[i]) || (Number.isNaN(x) && Number.isNaN(b[i]!)));

function check(make: (p: Var) => Optimizer<{ lr: number }>, ref: (h: Hyper, v: Float32Array, g: Float32Array, st: State) => void): void {
  for (const persistentGrad of [false, true]) {
    const n = 67;
    const v0 = data(n);
    const p = variable(new Tensor(v0.slice(), [n]));
    const opt = make(p);
    const h = { ...opt.paramGroups[0]! } as unknown as Hyper;
    const expected = v0.slice();
    const st: State = { step: 0, a: null, b: null, c: null };
    for (let s = 0; s < 4; s++) {
      const g = data(n);
      const gd = allocate(n, { persistent: persistentGrad });
      gd.set(g);
      p.grad = new Tensor(gd, [n]);
      opt.step();
      ref(h, expected, g, st);
      expect(sameBits(p.value.data, expected), `step ${s + 1}, gradient in ${persistentGrad ? "kernel" : "ordinary"} storage`).toBe(true);
    }
  }
}

describe("each update rule is bit-identical to the reference formulas", () => {
  for (const maximize of [false, true]) {
    for (const weightDecay of [0, 0.01]) {
      const tag = `maximize ${maximize}, weightDecay ${weightDecay}`;
      for (const [momentum, nesterov, dampening] of [[0, false, 0], [0.9, false, 0], [0.9, false, 0.3], [0.9, true, 0]] as const) {
        it(`SGD momentum ${momentum} nesterov ${nesterov} dampening ${dampening}, ${tag}`, () => {
          check((p) => new SGD([p], { lr: 0.1, momentum, nesterov, dampening, weightDecay, maximize }), sgdRef);
        });
      }
      for (const amsgrad of [false, true]) {
        for (const epsRoot of [0, 1e-8]) {
          it(`Adam/AdamW amsgrad ${amsgrad} epsRoot ${epsRoot}, ${tag}`, () => {
            check((p) => new Adam([p], { lr: 0.01, weightDecay, amsgrad, epsRoot, maximize }), (h, v, g, s) => adamRef(h, false, v, g, s));
            check((p) => new AdamW([p], { lr: 0.01, weightDecay, amsgrad, epsRoot, maximize }), (h, v, g, s) => adamRef(h, true, v, g, s));
          });
        }
      }
      for (const momentum of [0, 0.9]) {
        for (const centered of [false, true]) {
          it(`RMSprop momentum ${momentum} centered ${centered}, ${tag}`, () => {
            check((p) => new RMSprop([p], { lr: 0.01, momentum, centered, weightDecay, maximize }), rmspropRef);
          });
        }
      }
    }
  }
});

describe("Σx² and the norms the optimizer reports", () => {
  it("the unrolled float64 sum matches a sequential float64 sum (long, odd lengths)", () => {
    for (const n of [1, 3, 4, 5, 4095, 4096, 4097, 10_003]) {
      const a = Float32Array.from({ length: n }, () => rnd() - 0.5);
      let s = 0;
      for (const x of a) s += x * x;
      expect(Math.abs(normOf([a], 2) ** 2 - s)).toBeLessThanOrEqual(1e-12 * s);
    }
    expect(normOf([Float32Array.of(1e20, 1e20)], 2) / (Math.SQRT2 * Math.fround(1e20))).toBeCloseTo(1, 14); // no float32 overflow
    expect(normOf([Float32Array.of(1, NaN, 3, 4, 5)], 2)).toBeNaN();
    expect(normOf([Float32Array.of(1, 2, 3, 4, -Infinity)], 2)).toBe(Infinity);
  });
  it("without transforms, the pre/post norms match a separate norm", () => {
    const p = param([1, 2, 3, 4, 5], [0.5, -1, 2, 0.25, 3]);
    const q = param([1, 2], [4, -4]);
    const opt = new SGD([p, q], { lr: 0.1, momentum: 0.9 });
    const expected = normOf([p.grad!.data, q.grad!.data], 2);
    opt.step();
    expect(opt.lastStats).toMatchObject({ preClipNorm: expected, postClipNorm: expected, coef: 1, clipped: false, nonFiniteCount: 0 });
  });
  it("with a clip transform, the post-clip norm is the norm of the clipped gradients", () => {
    const p = param([0, 0], [3, 4]);
    const opt = new SGD([p], { lr: 1, clip: clipGradNorm.transform(1) });
    opt.step();
    const s = opt.lastStats!;
    expect(s.preClipNorm).toBe(5);
    expect(s.postClipNorm).toBeCloseTo(1, 6);
    expect(s.coef).toBeCloseTo(0.2, 6);
    expect(valueOf(p)[0]).toBeCloseTo(-0.6, 6);
  });
  it("the first transform is handed the pre-clip Σg² (no second pass), later ones are not", () => {
    const seen: (number | undefined)[] = [];
    const spy = (name: string): GradTransform => ({ name, apply: (b) => (seen.push(b.sumSquares), { name, clipped: false, numClipped: 0, nonFiniteCount: 0, skipped: false }) });
    const p = param([0, 0], [3, 4]);
    new SGD([p], { lr: 1, clip: [spy("a"), spy("b")] }).step();
    expect(seen).toEqual([25, undefined]);
    const q = param([0, 0], [3, 4]);
    const opt = new SGD([q], { lr: 1, clip: clipGradNorm.transform(1) });
    opt.step();
    expect(opt.lastStats!.transforms[0]).toMatchObject({ totalNorm: 5, clipped: true });
  });
  it('"propagate" with non-finite gradients still counts them', () => {
    const p = param([1, 1, 1], [NaN, Infinity, 1]);
    const opt = new SGD([p], { lr: 0.1 });
    opt.step();
    expect(opt.lastStats).toMatchObject({ nonFiniteCount: 2, skipped: false });
    expect(opt.lastStats!.preClipNorm).toBeNaN();
  });
});
