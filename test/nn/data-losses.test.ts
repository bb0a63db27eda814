/**
 * @file DataLoader, the IDX reader (raw and gzip) and the distillation loss.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, Tensor, arange, randn, tensor } from "@tapegrad/tensor";
import { DataLoader, decodeIdx, distillationLoss, gunzip, idxToImages, idxToLabels, readIdx, type LoaderState } from "@tapegrad/nn";

describe("DataLoader", () => {
  const x = arange(10).reshape(10, 1);
  const y = Int32Array.from({ length: 10 }, (_, i) => i * 10);
  it("visits every sample once per epoch, with matching labels, reshuffled each epoch", () => {
    const loader = new DataLoader(x, y, { batchSize: 4, rng: new Rng(0) });
    expect(loader.length).toBe(3);
    const epochs = [0, 1].map(() => {
      const seen: number[] = [];
      for (const b of loader) {
        const xs = Array.from(b.x.data);
        expect(Array.from(b.y as Int32Array)).toEqual(xs.map((v) => v * 10));
        seen.push(...xs);
      }
      return seen;
    });
    for (const e of epochs) expect([...e].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epochs[0]).not.toEqual(epochs[1]);
  });
  it("is reproducible for a seed, keeps order without shuffle, and can drop the last batch", () => {
    const run = () => [...new DataLoader(x, y, { batchSize: 3, rng: new Rng(5) })].map((b) => Array.from(b.x.data));
    expect(run()).toEqual(run());
    const plain = [...new DataLoader(x, null, { batchSize: 4, shuffle: false, dropLast: true })].map((b) => Array.from(b.x.data));
    expect(plain).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
  });
  it("rejects mismatched sizes", () => {
    expect(() => new DataLoader(x, new Int32Array(3), { batchSize: 2 })).toThrow(/DataLoader: x has 10 samples but y has 3/);
    expect(() => new DataLoader(x, y, { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
  });
});

function idxBytes(type: number, dims: number[], payload: number[]): Uint8Array {
  const header = [0, 0, type, dims.length];
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  out.set(header, 0);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

describe("IDX reader", () => {
  it("decodes uint8 images and labels", () => {
    const img = decodeIdx(idxBytes(0x08, [2, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4]));
    expect(img.dims).toEqual([2, 2, 2]);
    const t = idxToImages(img);
    expect(t.shape).toEqual([2, 4]);
    expect(t.get(0, 1)).toBe(1);
    expect(t.get(0, 2)).toBeCloseTo(0.2, 6);
    expect(Array.from(idxToLabels(decodeIdx(idxBytes(0x08, [3], [7, 0, 9]))))).toEqual([7, 0, 9]);
  });
  it("decodes big-endian int32", () => {
    const a = decodeIdx(idxBytes(0x0c, [2], [0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe]));
    expect(Array.from(a.data)).toEqual([256, -2]);
  });
  it("reads gzip-compressed files through DecompressionStream", async () => {
    const raw = idxBytes(0x08, [3], [5, 6, 7]);
    const gz = new Uint8Array(await new Response(new Blob([raw as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    expect(Array.from(await gunzip(gz))).toEqual(Array.from(raw));
    expect(Array.from((await readIdx(gz)).data)).toEqual([5, 6, 7]);
  });
  it("rejects bad files with clear errors", () => {
    expect(() => decodeIdx(new Uint8Array([1, 2, 3, 4]))).toThrow(/not an IDX file/);
    expect(() => decodeIdx(idxBytes(0x08, [5], [1, 2]))).toThrow(/truncated data \(expected 5 bytes after the header, got 2\)/);
    expect(() => decodeIdx(idxBytes(0x07, [1], [1]))).toThrow(/unknown element type 0x7/);
  });
});

describe("distillationLoss", () => {
  const s = randn([4, 5], new Rng(1));
  const t = randn([4, 5], new Rng(2));
  const labels = [0, 3, 1, 4];
  it("equals alpha·T²·KL_batchmean(teacher‖student) + (1−alpha)·CE (float64 reference)", () => {
    const T = 3, alpha = 0.7;
    const loss = distillationLoss(s, t, labels, { temperature: T, alpha }).item();
    let kl = 0, ce = 0;
    for (let i = 0; i < 4; i++) {
      const row = (x: typeof s, scale: number) => Array.from({ length: 5 }, (_, j) => x.get(i, j) / scale);
      const lse = (v: number[]) => { const m = Math.max(...v); return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0)); };
      const zs = row(s, T), zt = row(t, T);
      const ls = lse(zs), lt = lse(zt);
      for (let j = 0; j < 5; j++) {
        const p = Math.exp(zt[j]! - lt);
        kl += p * (zt[j]! - lt - (zs[j]! - ls));
      }
      const z1 = row(s, 1);
      ce += lse(z1) - z1[labels[i]!]!;
    }
    const expected = alpha * T * T * (kl / 4) + (1 - alpha) * (ce / 4);
    expect(loss).toBeCloseTo(expected, 5);
  });
  it("does not send gradients into the teacher, and alpha = 1 is pure distillation", () => {
    const sv = A.variable(s), tv = A.variable(t);
    distillationLoss(sv, tv, labels, { alpha: 1 }).backward();
    expect(tv.grad).toBeNull();
    expect(sv.grad).not.toBeNull();
    const grads = sv.grad!.toFloat32Array();
    for (let i = 0; i < 4; i++) {
      let rowSum = 0;
      for (let j = 0; j < 5; j++) rowSum += grads[i * 5 + j]!;
      expect(rowSum).toBeCloseTo(0, 6); // softmax gradients sum to zero per row
    }
  });
  it("validates its options", () => {
    expect(() => distillationLoss(s, t, labels, { temperature: 0 })).toThrow(/temperature must be a positive number/);
    expect(() => distillationLoss(s, t, labels, { alpha: 2 })).toThrow(/alpha must be in \[0, 1\]/);
    expect(() => distillationLoss(s, tensor([[1, 2]]), labels)).toThrow(/shapes cannot be broadcast|must have/);
  });
});

describe("DataLoader state (exact resume)", () => {
  const x = new Tensor(Float32Array.from({ length: 23 * 2 }, (_, i) => i), [23, 2]);
  const y = Int32Array.from({ length: 23 }, (_, i) => i);
  const take = (loader: DataLoader, n: number): number[][] => {
    const out: number[][] = [];
    for (const b of loader) {
      out.push(Array.from(b.indices));
      if (out.length === n) break;
    }
    return out;
  };

  it("stopped mid-epoch and restored into a fresh loader, it gives the same batches as an uninterrupted run", () => {
    const straight = new DataLoader(x, y, { batchSize: 5, rng: new Rng(3) });
    const all = [...take(straight, 5), ...take(straight, 5), ...take(straight, 2)]; // epochs 1, 2 and part of 3
    const a = new DataLoader(x, y, { batchSize: 5, rng: new Rng(3) });
    const first = [...take(a, 5), ...take(a, 2)]; // epoch 1, then 2 batches of epoch 2
    const saved = JSON.parse(JSON.stringify(a.stateDict())) as LoaderState;
    expect(saved.position).toBe(2);
    const b = new DataLoader(x, y, { batchSize: 5, rng: new Rng(99) });
    b.loadStateDict(saved);
    const rest = take(b, 5); // the rest of epoch 2: 3 batches
    expect(rest.length).toBe(3);
    expect([...first, ...rest]).toEqual(all.slice(0, 10));
    expect(take(b, 2)).toEqual(all.slice(10, 12));
    expect(b.stateDict().position).toBe(2);
  });

  it("between epochs the state is the generator's and position 0; bad states are refused", () => {
    const a = new DataLoader(x, y, { batchSize: 5, rng: new Rng(1) });
    take(a, 5);
    expect(a.stateDict().position).toBe(0);
    expect(() => a.loadStateDict({ rng: a.stateDict().rng, position: 6 })).toThrow(/DataLoader.loadStateDict: position must be an integer in \[0, 5\] \(got 6\)/);
    expect(() => a.loadStateDict({ rng: { s: [0, 0, 0, 0], spare: null }, position: 0 })).toThrow(/Rng.setState: state.s must be four integers/);
  });
});

describe("Rng state", () => {
  it("getState/setState continue the exact stream, normal()'s cached sample included", () => {
    const r = new Rng(5);
    r.normal(); // leaves a spare
    const saved = JSON.parse(JSON.stringify(r.getState()));
    const expected = [r.normal(), r.random(), r.nextUint32(), ...r.fillNormal(new Float32Array(3))];
    const q = new Rng(0);
    q.setState(saved);
    expect([q.normal(), q.random(), q.nextUint32(), ...q.fillNormal(new Float32Array(3))]).toEqual(expected);
    expect(() => q.setState({ s: [1, 2, 3], spare: null } as never)).toThrow(/Rng.setState/);
    expect(() => q.setState({ s: [1, 2, 3, 2 ** 32], spare: null })).toThrow(/four integers in \[0, 2\^32\)/);
    expect(() => q.setState({ s: [1, 2, 3, 4], spare: NaN })).toThrow(/spare must be a finite number or null/);
  });
});
