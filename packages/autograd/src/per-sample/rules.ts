/**
 * @file Per-sample gradient rules (the per-layer tricks of Opacus' grad samplers, written per
 * primitive so that weight sharing, fused activations and hand-built models need nothing more):
 * `linear` (weight and bias), `matmul` (a 2-D right operand), `conv2d`/`conv1d`, `indexSelect`
 * along axis 0 (what `embedding` records), and a parameter broadcast into `add`/`sub`/`mul` (the
 * affine part of `layerNorm`, free-standing biases and scales). Convention (Opacus' `batch_first`):
 * the batch is the first axis of the op's other operand, and a `[R, …]` operand with `R = B·k`
 * rows holds sample `i` in rows `i·k … i·k+k−1`.
 */
import * as T from "@tapegrad/tensor";
import type { Tensor } from "@tapegrad/tensor";
import type { OpName, OpAttrs } from "../rules.js";
import type { LinearAttrs } from "../ops/linalg.js";
import type { ConvAttrs, Conv1dAttrs } from "../ops/conv.js";
import { sumToShape } from "../backward.js";
import { type PerSampleUse, addWeightedRows } from "./use.js";
import { RowProductUse, RowSumUse, asMatrix } from "./rows.js";

/** What a per-sample rule sees of a recorded op. */
export interface PerSampleCtx<A> {
  readonly x: readonly Tensor[];
  readonly y: Tensor;
  readonly attrs: A;
}

/**
 * A per-sample rule: for input `k` of an op (a parameter), the per-sample contribution given the
 * op's output gradient `dy` and the batch size, or a string saying why the rule does not apply.
 */
export type PerSampleRule<A> = (c: PerSampleCtx<A>, dy: Tensor, k: number, batch: number) => PerSampleUse | string;

/** The ops with per-sample rules; any other op using a parameter has none. */
export type PerSampleOp = "linear" | "matmul" | "conv2d" | "conv1d" | "indexSelect" | "add" | "sub" | "mul";

/** `B` divides `rows`: the rows are grouped by sample. */
function rowsPerSample(rows: number, batch: number): number | string {
  if (batch === 0) return rows === 0 ? 0 : `it has ${rows} rows for an empty batch`;
  if (rows % batch !== 0) return `its ${rows} rows are not a multiple of the batch size ${batch}`;
  return rows / batch;
}

/** The gradient of `linear`'s pre-activation: `dy`, masked by `y > 0` after a fused relu. */
function preActivationGrad(c: PerSampleCtx<LinearAttrs>, dy: Tensor): Tensor {
  return c.attrs.activation === "relu" ? T.binaryOp("linear", T.BinOp.RELU_GRAD, dy, c.y) : dy;
}

const linearRule: PerSampleRule<LinearAttrs> = (c, dy, k, batch) => {
  const x = c.x[0]!, w = c.x[1]!;
  const nOut = w.shape[0]!, nIn = w.shape[1]!;
  const rows = T.shapeSize(x.shape.slice(0, -1));
  const per = rowsPerSample(rows, batch);
  if (typeof per === "string") return per;
  const d = asMatrix(preActivationGrad(c, dy), rows, nOut);
  if (k === 1) return new RowProductUse(asMatrix(x, rows, nIn), d, batch, nIn, nOut, false);
  return new RowSumUse(d, batch, nOut);
};

const matmulRule: PerSampleRule<OpAttrs<"matmul">> = (c, dy, k, batch) => {
  const a = c.x[0]!, b = c.x[1]!;
  if (k !== 1 || b.ndim !== 2 || a.ndim < 2) return "only a 2-D right operand with a batched left operand has a rule";
  const nIn = b.shape[0]!, nOut = b.shape[1]!;
  const rows = T.shapeSize(a.shape.slice(0, -1));
  const per = rowsPerSample(rows, batch);
  if (typeof per === "string") return per;
  return new RowProductUse(asMatrix(a, rows, nIn), asMatrix(dy, rows, nOut), batch, nIn, nOut, true);
};

/** A use given by its per-sample gradients, computed once on demand. */
class MaterializedUse implements PerSampleUse {
  private g: Float32Array | null = null;
  constructor(private readonly batch: number, private readonly size: number, private readonly compute: () => Float32Array) {}
  private get values(): Float32Array {
    return (this.g ??= this.compute());
  }
  addMaterialized(out: Float32Array): void {
    const g = this.values;
    for (let j = 0; j < g.length; j++) out[j] += g[j]!;
  }
  addWeightedSum(factors: Float32Array, out: Float32Array): void {
    addWeightedRows(this.values, factors, this.batch, this.size, out);
  }
}

/** Conv weight (`k = 1`, one batch-1 weight gradient per sample) and bias (`k = 2`, `Σ_spatial dy`). */
function convRule<A extends ConvAttrs | Conv1dAttrs>(backward: (dy: Tensor, x: Tensor, w: Tensor, a: A) => Tensor): PerSampleRule<A> {
  return (c, dy, k, batch) => {
    const x = c.x[0]!, w = c.x[1]!;
    if (x.shape[0] !== batch) return `its input has ${x.shape[0]} samples, not ${batch}`;
    const nOut = w.shape[0]!;
    if (k === 2) {
      const spatial = batch === 0 ? 0 : dy.size / batch / nOut;
      // db_i = Σ over the output positions of dy_i, per channel
      return new RowSumUse(asMatrix(T.sum(dy.reshape(batch, nOut, spatial), [2]), batch, nOut), batch, nOut);
    }
    const size = w.size;
    return new MaterializedUse(batch, size, () => {
      const out = new Float32Array(batch * size);
      for (let i = 0; i < batch; i++) out.set(asMatrix(backward(dy.narrow(0, i, 1), x.narrow(0, i, 1), w, c.attrs), 1, size), i * size);
      return out;
    });
  };
}

const conv2dRule = convRule<ConvAttrs>((dy, x, w, a) => T.conv2dBackward(dy, x, w, a, { dx: false, dw: true, db: false }).dw!);
const conv1dRule = convRule<Conv1dAttrs>((dy, x, w, a) => T.conv1dBackward(dy, x, w, a, { dx: false, dw: true, db: false }).dw!);

/** Embedding rows: `g_i[idx_r] += dy_r` over sample `i`'s rows; ghost norms group repeated ids. */
class IndexRowsUse implements PerSampleUse {
  private readonly k: number;
  constructor(private readonly idx: Int32Array, private readonly d: Float32Array, private readonly batch: number, private readonly vocab: number, private readonly dim: number) {
    this.k = batch === 0 ? 0 : idx.length / batch;
  }
  addNormsSquared(out: Float64Array): void {
    const { idx, d, batch, dim, k } = this;
    const order = new Int32Array(k), acc = new Float64Array(dim);
    for (let i = 0; i < batch; i++) {
      for (let t = 0; t < k; t++) order[t] = i * k + t;
      order.sort((a, b) => idx[a]! - idx[b]! || a - b);
      let s = 0;
      for (let t = 0; t < k; ) {
        acc.fill(0);
        const id = idx[order[t]!]!;
        for (; t < k && idx[order[t]!] === id; t++) for (let j = 0, o = order[t]! * dim; j < dim; j++) acc[j] += d[o + j]!;
        for (let j = 0; j < dim; j++) {
          const v = Math.fround(acc[j]!);
          s += v * v;
        }
      }
      out[i] += s;
    }
  }
  addMaterialized(out: Float32Array): void {
    const { idx, d, batch, vocab, dim, k } = this;
    for (let r = 0, R = batch * k; r < R; r++) {
      const o = (((r / k) | 0) * vocab + idx[r]!) * dim;
      for (let j = 0; j < dim; j++) out[o + j] += d[r * dim + j]!;
    }
  }
  addWeightedSum(factors: Float32Array, out: Float32Array): void {
    const { idx, d, batch, dim, k } = this;
    for (let r = 0, R = batch * k; r < R; r++) {
      const f = factors[(r / k) | 0]!, o = idx[r]! * dim;
      for (let j = 0; j < dim; j++) out[o + j] += Math.fround(f * d[r * dim + j]!);
    }
  }
}

const indexSelectRule: PerSampleRule<OpAttrs<"indexSelect">> = (c, dy, k, batch) => {
  const table = c.x[0]!;
  if (k !== 0 || c.attrs.axis !== 0 || table.ndim !== 2) return "only a 2-D table indexed along axis 0 (embedding) has a rule";
  const n = c.attrs.indices.length;
  const per = rowsPerSample(n, batch);
  if (typeof per === "string") return per;
  return new IndexRowsUse(c.attrs.indices, asMatrix(dy, n, table.shape[1]!), batch, table.shape[0]!, table.shape[1]!);
};

/**
 * A parameter broadcast into an elementwise op whose other operand is batched: `g_i` is the
 * op's input gradient for sample `i` summed down to the parameter's shape.
 */
function broadcastRule(term: (c: PerSampleCtx<OpAttrs<"add">>, dy: Tensor, k: number) => Tensor): PerSampleRule<OpAttrs<"add">> {
  return (c, dy, k, batch) => {
    const p = c.x[k]!;
    if (dy.ndim === 0 || dy.shape[0] !== batch) return `its output ${T.fmt(dy.shape)} does not have the batch (${batch}) first`;
    if (p.ndim > dy.ndim || (p.ndim === dy.ndim && p.shape[0] !== 1)) return `the parameter ${T.fmt(p.shape)} is not broadcast over the batch axis`;
    const full = [...Array<number>(dy.ndim - p.ndim).fill(1), ...p.shape];
    const size = p.size;
    return new MaterializedUse(batch, size, () => asMatrix(sumToShape(term(c, dy, k), [batch, ...full.slice(1)]), batch, size).slice());
  };
}

/**
 * The per-sample rules by op name: `perSampleRules[op]` maps a recorded op, one of its inputs (a
 * parameter) and the op's output gradient to that input's per-sample contribution.
 *
 * @throws never when read; a rule returns a string (the reason) instead of throwing when its op
 * was used in a way it does not cover.
 * @example
 * ```ts
 * const use = perSampleRules.linear({ x: [x, w, b], y, attrs: { activation: "none" } }, dy, 1, 32);
 * ```
 */
export const perSampleRules: { readonly [K in PerSampleOp]: PerSampleRule<OpAttrs<K>> } = {
  linear: linearRule,
  matmul: matmulRule,
  conv2d: conv2dRule,
  conv1d: conv1dRule,
  indexSelect: indexSelectRule,
  add: broadcastRule((_c, dy) => dy), // y = a + b ⇒ ∂y/∂b = 1
  sub: broadcastRule((_c, dy, k) => (k === 0 ? dy : T.neg(dy))), // y = a − b ⇒ ∂y/∂b = −1
  mul: broadcastRule((c, dy, k) => T.mul(dy, c.x[1 - k]!)), // y = a·b ⇒ ∂y/∂b = a
};

/**
 * The per-sample rule of `op`, or undefined.
 *
 * @throws never.
 * @example
 * ```ts
 * perSampleRuleOf("linear"); // the rule; perSampleRuleOf("exp") → undefined
 * ```
 */
export function perSampleRuleOf(op: string): PerSampleRule<unknown> | undefined {
  return Object.hasOwn(perSampleRules, op) ? (perSampleRules[op as PerSampleOp] as PerSampleRule<unknown>) : undefined;
}

/**
 * Ops that mix the samples of a batch in training (their per-sample gradients are not defined):
 * `perSampleGrads` refuses a graph containing one.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * BATCH_MIXING_OPS.has("batchNorm"); // true
 * ```
 */
export const BATCH_MIXING_OPS: ReadonlySet<OpName> = new Set<OpName>(["batchNorm"]);
