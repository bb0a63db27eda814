/**
 * @file Naive reference implementations ("oracles") for the tensor kernels, used only by tests.
 *
 * Everything here is deliberately simple: plain nested loops over multi-indices, values read
 * straight from a tensor's `data` through its `shape`/`strides`/`offset` (never through the
 * package's own walkers or kernels), and all arithmetic in float64. A {@link Ref} is a contiguous
 * row-major float64 array with a shape.
 */
import type { Tensor } from "@tapegrad/tensor";

/** A dense row-major float64 array with a shape (the oracle's value type). */
export interface Ref {
  shape: number[];
  data: Float64Array;
}

/** Number of elements of a shape (1 for `[]`). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Every multi-index of `shape` in row-major order (the empty index once for a 0-d shape). */
export function* indices(shape: readonly number[]): Generator<number[]> {
  if (sizeOf(shape) === 0) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    yield idx.slice();
    let d = shape.length - 1;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < shape[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

/** Flat row-major position of a multi-index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let p = 0;
  for (let i = 0; i < shape.length; i++) p = p * shape[i]! + idx[i]!;
  return p;
}

/** Reads one element of a tensor by multi-index, straight through its strides. */
export function at(t: Tensor, idx: readonly number[]): number {
  let p = t.offset;
  for (let i = 0; i < idx.length; i++) p += idx[i]! * t.strides[i]!;
  return t.data[p]!;
}

/** The logical values of a tensor (any layout) as a float64 {@link Ref}. */
export function fromTensor(t: Tensor): Ref {
  const shape = t.shape.slice();
  const data = new Float64Array(sizeOf(shape));
  let k = 0;
  for (const idx of indices(shape)) data[k++] = at(t, idx);
  return { shape, data };
}

/** NumPy broadcast of two shapes, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const nd = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < nd; i++) {
    const da = i - (nd - a.length) >= 0 ? a[i - (nd - a.length)]! : 1;
    const db = i - (nd - b.length) >= 0 ? b[i - (nd - b.length)]! : 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Value of `r` at output index `idx` of a broadcast result (right-aligned, size-1 dims repeat). */
export function bcastAt(r: Ref, idx: readonly number[]): number {
  const lead = idx.length - r.shape.length;
  let p = 0;
  for (let i = 0; i < r.shape.length; i++) p = p * r.shape[i]! + (r.shape[i] === 1 ? 0 : idx[lead + i]!);
  return r.data[p]!;
}

/** Elementwise `f(a, b)` with broadcasting. */
export function refBinary(a: Ref, b: Ref, f: (x: number, y: number) => number): Ref {
  const shape = broadcastShape(a.shape, b.shape);
  if (shape === null) throw new Error("reference: shapes do not broadcast");
  const data = new Float64Array(sizeOf(shape));
  let k = 0;
  for (const idx of indices(shape)) data[k++] = f(bcastAt(a, idx), bcastAt(b, idx));
  return { shape, data };
}

/** Elementwise `f(x)`. */
export function refUnary(x: Ref, f: (v: number) => number): Ref {
  return { shape: x.shape.slice(), data: x.data.map(f) };
}

/** Normalises a reduction axis spec like the engine documents it (null = all axes). */
export function refAxes(axes: number | readonly number[] | null | undefined, ndim: number): number[] {
  if (axes === null || axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : Array.from(axes);
  return list.map((a) => (a < 0 ? a + ndim : a)).sort((x, y) => x - y);
}

/**
 * Generic reduction: groups the elements of `x` by their index on the kept axes and applies
 * `f` to each group's values (in row-major order of the reduced axes).
 */
export function refReduce(x: Ref, axes: number | readonly number[] | null | undefined, keepDims: boolean, f: (vals: number[]) => number): Ref {
  const ax = refAxes(axes, x.shape.length);
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: sizeOf(kept) }, () => []);
  let k = 0;
  for (const idx of indices(x.shape)) {
    const o = ravel(idx.map((v, i) => (ax.includes(i) ? 0 : v)), kept);
    groups[o]!.push(x.data[k++]!);
  }
  const shape = keepDims ? kept : x.shape.filter((_, i) => !ax.includes(i));
  return { shape, data: Float64Array.from(groups.map(f)) };
}

/** Float64 sum / mean / max / min / prod / logsumexp / variance over a list. */
export const fold = {
  sum: (v: number[]) => v.reduce((a, b) => a + b, 0),
  prod: (v: number[]) => v.reduce((a, b) => a * b, 1),
  mean: (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length,
  max: (v: number[]) => v.reduce((a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)), -Infinity),
  min: (v: number[]) => v.reduce((a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)), Infinity),
  /** Sum of absolute values: the scale of the rounding error of a float32 sum. */
  absSum: (v: number[]) => v.reduce((a, b) => a + Math.abs(b), 0),
  logsumexp: (v: number[]) => {
    let m = -Infinity;
    for (const x of v) if (x > m || Number.isNaN(x)) m = x;
    if (m === -Infinity || m === Infinity) return m === Infinity ? Infinity : -Infinity;
    let s = 0;
    for (const x of v) s += Math.exp(x - m);
    return m + Math.log(s);
  },
  variance: (correction: number) => (v: number[]) => {
    const mu = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - mu) * (b - mu), 0) / Math.max(0, v.length - correction);
  },
  /** First index of the max (NaN counts as the max) / min. */
  argmax: (v: number[]) => {
    let bi = 0;
    for (let i = 0; i < v.length; i++) {
      if (Number.isNaN(v[i]!)) return i;
      if (v[i]! > v[bi]!) bi = i;
    }
    return bi;
  },
  argmin: (v: number[]) => {
    let bi = 0;
    for (let i = 0; i < v.length; i++) {
      if (Number.isNaN(v[i]!)) return i;
      if (v[i]! < v[bi]!) bi = i;
    }
    return bi;
  },
};

/** Softmax or log-softmax along one axis, in float64 (max-shifted). */
export function refSoftmax(x: Ref, axis: number, log: boolean): Ref {
  const nd = x.shape.length;
  const ax = axis < 0 ? axis + nd : axis;
  const out = new Float64Array(x.data.length);
  const n = x.shape[ax]!;
  const st = sizeOf(x.shape.slice(ax + 1)); // the axis' row-major stride
  const outer = x.shape.map((d, i) => (i === ax ? 1 : d));
  for (const idx of indices(outer)) {
    const base = ravel(idx, x.shape);
    let m = -Infinity;
    for (let k = 0; k < n; k++) m = Math.max(m, x.data[base + k * st]!);
    let s = 0;
    for (let k = 0; k < n; k++) s += Math.exp(x.data[base + k * st]! - m);
    for (let k = 0; k < n; k++) {
      const v = x.data[base + k * st]! - m;
      out[base + k * st] = log ? v - Math.log(s) : Math.exp(v) / s;
    }
  }
  return { shape: x.shape.slice(), data: out };
}

/**
 * NumPy `matmul` in float64 with 1-D promotion and broadcast batch dims. Also returns, per output
 * element, `Σ|a||b|` (the scale of float32 rounding errors) in `scale`.
 */
export function refMatmul(a: Ref, b: Ref): Ref & { scale: Float64Array } {
  const a2 = a.shape.length === 1 ? { shape: [1, a.shape[0]!], data: a.data } : a;
  const b2 = b.shape.length === 1 ? { shape: [b.shape[0]!, 1], data: b.data } : b;
  const m = a2.shape[a2.shape.length - 2]!;
  const k = a2.shape[a2.shape.length - 1]!;
  const n = b2.shape[b2.shape.length - 1]!;
  if (b2.shape[b2.shape.length - 2] !== k) throw new Error("reference: inner dims differ");
  const batch = broadcastShape(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  if (batch === null) throw new Error("reference: batch dims do not broadcast");
  const full = [...batch, m, n];
  const data = new Float64Array(sizeOf(full));
  const scale = new Float64Array(sizeOf(full));
  const aB = a2.shape.slice(0, -2);
  const bB = b2.shape.slice(0, -2);
  let o = 0;
  for (const bi of indices(batch)) {
    const aBase = ravel(bi.slice(bi.length - aB.length).map((v, i) => (aB[i] === 1 ? 0 : v)), aB) * m * k;
    const bBase = ravel(bi.slice(bi.length - bB.length).map((v, i) => (bB[i] === 1 ? 0 : v)), bB) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let g = 0;
        for (let p = 0; p < k; p++) {
          const prod = a2.data[aBase + i * k + p]! * b2.data[bBase + p * n + j]!;
          s += prod;
          g += Math.abs(prod);
        }
        data[o] = s;
        scale[o++] = g;
      }
    }
  }
  const shape = full.filter((_, i) => !((a.shape.length === 1 && i === full.length - 2) || (b.shape.length === 1 && i === full.length - 1)));
  return { shape, data, scale };
}

/** `x` permuted: output axis `i` is input axis `perm[i]`. */
export function refPermute(x: Ref, perm: readonly number[]): Ref {
  const shape = perm.map((p) => x.shape[p]!);
  const data = new Float64Array(x.data.length);
  let k = 0;
  for (const idx of indices(shape)) {
    const src = new Array<number>(perm.length);
    for (let i = 0; i < perm.length; i++) src[perm[i]!] = idx[i]!;
    data[k++] = x.data[ravel(src, x.shape)]!;
  }
  return { shape, data };
}

/** Concatenation along `axis` (non-negative). */
export function refConcat(xs: readonly Ref[], axis: number): Ref {
  const shape = xs[0]!.shape.slice();
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
  const data = new Float64Array(sizeOf(shape));
  let k = 0;
  for (const idx of indices(shape)) {
    let i = idx[axis]!;
    let which = 0;
    while (i >= xs[which]!.shape[axis]!) i -= xs[which++]!.shape[axis]!;
    const src = idx.slice();
    src[axis] = i;
    data[k++] = xs[which]!.data[ravel(src, xs[which]!.shape)]!;
  }
  return { shape, data };
}

/** `x[..., idx[j], ...]` along `axis`. */
export function refIndexSelect(x: Ref, axis: number, idx: readonly number[]): Ref {
  const n = x.shape[axis]!;
  const shape = x.shape.slice();
  shape[axis] = idx.length;
  const data = new Float64Array(sizeOf(shape));
  let k = 0;
  for (const o of indices(shape)) {
    const src = o.slice();
    const j = idx[o[axis]!]!;
    src[axis] = j < 0 ? j + n : j;
    data[k++] = x.data[ravel(src, x.shape)]!;
  }
  return { shape, data };
}

/** `out[...i...] = x[... index[...i...] ...]` along `axis` (torch.gather). */
export function refGather(x: Ref, axis: number, index: Ref): Ref {
  const n = x.shape[axis]!;
  const data = new Float64Array(index.data.length);
  let k = 0;
  for (const o of indices(index.shape)) {
    const src = o.slice();
    const j = index.data[k]!;
    src[axis] = j < 0 ? j + n : j;
    data[k++] = x.data[ravel(src, x.shape)]!;
  }
  return { shape: index.shape.slice(), data };
}

/** `base` plus `src` scattered along `axis` at `index` (torch.scatter_add). */
export function refScatterAdd(base: Ref, axis: number, index: Ref, src: Ref): Ref {
  const n = base.shape[axis]!;
  const data = base.data.slice();
  let k = 0;
  for (const o of indices(index.shape)) {
    const dst = o.slice();
    const j = index.data[k]!;
    dst[axis] = j < 0 ? j + n : j;
    data[ravel(dst, base.shape)]! += src.data[k++]!;
  }
  return { shape: base.shape.slice(), data };
}

/** CPython's slice.indices(): the selected positions of `start:stop:step` on a length-`n` axis. */
export function pySlice(n: number, start: number | null, stop: number | null, step: number): number[] {
  const lower = step < 0 ? -1 : 0;
  const upper = step < 0 ? n - 1 : n;
  const norm = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    if (v < 0) return Math.max(v + n, lower);
    return Math.min(v, upper);
  };
  const s = norm(start, step < 0 ? upper : lower);
  const e = norm(stop, step < 0 ? lower : upper);
  const out: number[] = [];
  if (step > 0) for (let i = s; i < e; i += step) out.push(i);
  else for (let i = s; i > e; i += step) out.push(i);
  return out;
}
