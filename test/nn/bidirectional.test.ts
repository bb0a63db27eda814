/**
 * @file Bidirectional RNN/LSTM/GRU against a float64 reference written from PyTorch's equations
 * (every layer runs a forward cell over t = 0..T−1 and a reverse cell over t = T−1..0; the layer
 * output is `[fwd_t, rev_t]` on the feature axis; h_n is `[L·2, B, H]` with `2l` forward and
 * `2l+1` reverse), plus parameter names, initial states, batchFirst, gradients and errors.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, Tensor, randn } from "@tapegrad/tensor";
import { GRU, LSTM, RNN } from "@tapegrad/nn";

type Kind = "rnn" | "lstm" | "gru";
const sig = (v: number) => 1 / (1 + Math.exp(-v));

/** `W[row] · v + b[row]` in float64. */
function affine(w: Tensor, b: Tensor, v: number[], row: number): number {
  let s = b.get(row);
  for (let k = 0; k < v.length; k++) s += w.get(row, k) * v[k]!;
  return s;
}

/** One cell step in float64; returns [h', c']. */
function cell(kind: Kind, p: Record<string, Tensor>, sfx: string, xt: number[], h: number[], c: number[], H: number): [number[], number[]] {
  const gi = (r: number) => affine(p[`weight_ih_${sfx}`]!, p[`bias_ih_${sfx}`]!, xt, r);
  const gh = (r: number) => affine(p[`weight_hh_${sfx}`]!, p[`bias_hh_${sfx}`]!, h, r);
  const nh: number[] = [], nc: number[] = [];
  for (let j = 0; j < H; j++) {
    if (kind === "rnn") nh.push(Math.tanh(gi(j) + gh(j)));
    else if (kind === "lstm") {
      const i = sig(gi(j) + gh(j)), f = sig(gi(H + j) + gh(H + j)), g = Math.tanh(gi(2 * H + j) + gh(2 * H + j)), o = sig(gi(3 * H + j) + gh(3 * H + j));
      nc.push(f * c[j]! + i * g);
      nh.push(o * Math.tanh(nc[j]!));
    } else {
      const r = sig(gi(j) + gh(j)), z = sig(gi(H + j) + gh(H + j));
      const n = Math.tanh(gi(2 * H + j) + r * gh(2 * H + j));
      nh.push((1 - z) * n + z * h[j]!);
    }
  }
  return [nh, nc];
}

/** Reference output `[T][B][2H]` and final h/c `[L·2][B][H]` (time-major input, zero or given h0). */
function reference(kind: Kind, p: Record<string, Tensor>, x: Tensor, H: number, L: number, h0?: Tensor) {
  const [T, B] = x.shape as [number, number, number];
  let seq: number[][][] = Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => Array.from({ length: x.shape[2]! }, (_, k) => x.get(t, b, k))));
  const hN: number[][][] = [], cN: number[][][] = [];
  for (let l = 0; l < L; l++) {
    const next: number[][][] = Array.from({ length: T }, () => Array.from({ length: B }, () => [] as number[]));
    for (let d = 0; d < 2; d++) {
      const sfx = `l${l}${d === 1 ? "_reverse" : ""}`;
      const hs: number[][] = [], cs: number[][] = [];
      for (let b = 0; b < B; b++) {
        let h = Array.from({ length: H }, (_, j) => (h0 ? h0.get(2 * l + d, b, j) : 0));
        let c = new Array<number>(H).fill(0);
        for (let i = 0; i < T; i++) {
          const t = d === 0 ? i : T - 1 - i;
          [h, c] = cell(kind, p, sfx, seq[t]![b]!, h, c, H);
          next[t]![b]!.push(...h);
        }
        hs.push(h);
        cs.push(c);
      }
      hN.push(hs);
      cN.push(cs);
    }
    seq = next;
  }
  return { out: seq, hN, cN };
}

function expectClose(actual: Tensor, expected: number[][][], tol = 1e-5): void {
  const [a0, a1, a2] = actual.shape as [number, number, number];
  expect([a0, a1, a2]).toEqual([expected.length, expected[0]!.length, expected[0]![0]!.length]);
  let worst = 0;
  for (let i = 0; i < a0; i++) for (let j = 0; j < a1; j++) for (let k = 0; k < a2; k++) worst = Math.max(worst, Math.abs(actual.get(i, j, k) - expected[i]![j]![k]!));
  expect(worst).toBeLessThan(tol);
}

const make = (kind: Kind, I: number, H: number, opts: object) =>
  kind === "lstm" ? new LSTM(I, H, opts) : kind === "gru" ? new GRU(I, H, opts) : new RNN(I, H, opts);

function paramsOf(m: RNN | LSTM | GRU): Record<string, Tensor> {
  return Object.fromEntries(m.namedParameters().map(([n, v]) => [n, v.value]));
}

describe("bidirectional recurrent layers", () => {
  for (const kind of ["rnn", "lstm", "gru"] as const) {
    it(`${kind}: 2 layers match the float64 reference (output [T,B,2H], h_n [4,B,H])`, () => {
      const I = 3, H = 4, T = 5, B = 2, L = 2;
      const m = make(kind, I, H, { numLayers: L, bidirectional: true, rng: new Rng(11) });
      const x = randn([T, B, I], new Rng(3));
      const r = m.forward(x);
      const ref = reference(kind, paramsOf(m), x, H, L);
      expect(r.output.shape).toEqual([T, B, 2 * H]);
      expectClose(r.output.value, ref.out);
      expectClose(r.h.value, ref.hN);
      if (kind === "lstm") expectClose(r.c!.value, ref.cN);
      // the last time step's forward half is h_n[2(L-1)], the first time step's reverse half h_n[2(L-1)+1]
      const out = r.output.value, h = r.h.value;
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          expect(out.get(T - 1, b, j)).toBe(h.get(2, b, j));
          expect(out.get(0, b, H + j)).toBe(h.get(3, b, j));
        }
      }
    });
  }

  it("parameter names and shapes follow torch (l0, l0_reverse, l1 with input 2H, ...)", () => {
    const m = new LSTM(3, 4, { numLayers: 2, bidirectional: true });
    expect(m.namedParameters().map(([n, p]) => `${n}:${p.shape.join("x")}`)).toEqual([
      "weight_ih_l0:16x3", "weight_hh_l0:16x4", "bias_ih_l0:16", "bias_hh_l0:16",
      "weight_ih_l0_reverse:16x3", "weight_hh_l0_reverse:16x4", "bias_ih_l0_reverse:16", "bias_hh_l0_reverse:16",
      "weight_ih_l1:16x8", "weight_hh_l1:16x4", "bias_ih_l1:16", "bias_hh_l1:16",
      "weight_ih_l1_reverse:16x8", "weight_hh_l1_reverse:16x4", "bias_ih_l1_reverse:16", "bias_hh_l1_reverse:16",
    ]);
    expect(Object.keys(new GRU(2, 3, { bidirectional: true, bias: false }).stateDict())).toEqual(["weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse"]);
    expect(String(new RNN(2, 3, { bidirectional: true }))).toContain("bidirectional=true");
  });

  it("initial state [L·2, B, H] is used per direction; batchFirst transposes input and output", () => {
    const I = 2, H = 3, T = 4, B = 2;
    const m = new GRU(I, H, { bidirectional: true, batchFirst: true, rng: new Rng(4) });
    const xb = randn([B, T, I], new Rng(5)), h0 = randn([2, B, H], new Rng(6));
    const r = m.forward(xb, h0);
    const ref = reference("gru", paramsOf(m), xb.transpose(0, 1).contiguous(), H, 1, h0);
    expect(r.output.shape).toEqual([B, T, 2 * H]);
    expectClose(r.output.value.transpose(0, 1).contiguous(), ref.out);
    expectClose(r.h.value, ref.hN);
  });

  it("gradients of both directions pass gradcheck", () => {
    const m = new RNN(2, 3, { bidirectional: true, numLayers: 2, rng: new Rng(8) });
    const res = A.gradcheck((x) => A.sum(A.square(m.forward(x!).output)), [randn([3, 2, 2], new Rng(9))]);
    expect(res.message).toMatch(/passed/);
    const w = m.getParameter("weight_hh_l0_reverse")!;
    A.sum(m.forward(randn([3, 2, 2], new Rng(1))).output).backward();
    expect(w.grad).not.toBeNull();
    expect(Math.max(...Array.from(w.grad!.toFloat32Array(), Math.abs))).toBeGreaterThan(0);
  });

  it("bad initial state names the bidirectional layout; bad option", () => {
    const m = new LSTM(2, 3, { bidirectional: true });
    const x = randn([4, 2, 2], new Rng(0));
    expect(() => m.forward(x, { h0: randn([1, 2, 3], new Rng(0)) })).toThrow(/lstm: h0 must be \[numLayers·2, B, H\] = \[2,2,3\]/);
    expect(() => new RNN(2, 3, { bidirectional: "yes" as never })).toThrow(/RNN: bidirectional must be a boolean/);
  });

  it("an empty sequence gives [0, B, 2H] and h_n = h0", () => {
    const m = new GRU(2, 3, { bidirectional: true });
    const h0 = randn([2, 1, 3], new Rng(2));
    const r = m.forward(new Tensor(new Float32Array(0), [0, 1, 2]), h0);
    expect(r.output.shape).toEqual([0, 1, 6]);
    expect(r.h.value.toFloat32Array()).toEqual(h0.toFloat32Array());
  });
});
