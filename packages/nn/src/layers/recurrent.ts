/**
 * @file Recurrent layers with PyTorch's weight layout and gate order, so weights are
 * interchangeable with `torch.nn.RNN`/`LSTM`/`GRU`:
 *
 * - per layer k: `weight_ih_lk` `[G·H, in]`, `weight_hh_lk` `[G·H, H]`, `bias_ih_lk`, `bias_hh_lk`
 *   `[G·H]`, with G = 1 (RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: r, z, n);
 * - RNN: `h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)` (or relu);
 * - LSTM: `i,f,o = σ(·)`, `g = tanh(·)`, `c' = f⊙c + i⊙g`, `h' = o⊙tanh(c')`;
 * - GRU: `r,z = σ(·)`, `n = tanh(x W_inᵀ + b_in + r⊙(h W_hnᵀ + b_hn))`, `h' = (1−z)⊙n + z⊙h`;
 * - inputs are time-major `[T, B, in]` (or `[B, T, in]` with `batchFirst`); all weights start
 *   `U(−1/√H, 1/√H)`;
 * - `bidirectional`: each layer also runs a reverse-time cell with parameters `weight_ih_lk_reverse`
 *   etc. (registered after the forward cell's, as torch does); the layer's output concatenates the
 *   forward and reverse hidden states on the feature axis (`[T, B, 2H]`, the next layer's input),
 *   and the final states are `[numLayers·2, B, H]` with index `2k` forward and `2k+1` reverse.
 *
 * The input projection `x W_ihᵀ + b_ih` of all time steps is one matmul; only the recurrent part
 * runs step by step.
 *
 * Internally the sequence is batch-major `[B, T, feat]` whatever the input layout, so every
 * `linear` recorded here has sample-major rows (row r belongs to sample ⌊r / k⌋, k = rows / B):
 * per-example gradient rules (DP-SGD, Opacus's batch_first convention) rely on that grouping.
 */
import { Rng, ShapeError, defaultRng, zeros } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import type { Var, VarLike } from "@tapegrad/autograd";
import { Module } from "../module.js";
import { uniform } from "../init.js";

/** Options shared by RNN, LSTM and GRU. */
export interface RecurrentOptions {
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  /** Dropout on the outputs of each layer but the last (training mode only). */
  dropout?: number;
  /** Also run each layer backwards in time and concatenate both directions (default false). */
  bidirectional?: boolean;
  rng?: Rng;
}

/**
 * Output of a recurrent layer: all hidden states of the last layer (`[T, B, D·H]`), and final
 * states `[L·D, B, H]` (D = 2 when bidirectional, else 1).
 */
export interface RecurrentOutput {
  output: Var;
  h: Var;
  /** LSTM only: final cell states. */
  c?: Var;
}

type Kind = "rnn" | "lstm" | "gru";
const GATES: Record<Kind, number> = { rnn: 1, lstm: 4, gru: 3 };

abstract class RecurrentBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropoutP: number;
  readonly bidirectional: boolean;
  /** Number of directions D: 2 when bidirectional, else 1. */
  readonly numDirections: number;
  /**
   * Per cell `layer·D + direction`: the parameter names (`weight_ih_l0`, `weight_ih_l0_reverse`,
   * ...); forward reads `this[name]`.
   */
  protected readonly weights: { wih: string; whh: string; bih: string | null; bhh: string | null }[] = [];
  /** Per cell, the hidden-to-hidden weight and bias read once at the start of `run`. */
  private hh: { whh: Var; bhh: Var | null }[] = [];
  private readonly rng: Rng;

  constructor(protected readonly kind: Kind, inputSize: number, hiddenSize: number, opts: RecurrentOptions) {
    super();
    const name = kind.toUpperCase();
    if (!Number.isInteger(inputSize) || !Number.isInteger(hiddenSize) || inputSize <= 0 || hiddenSize <= 0) {
      throw new RangeError(`${name}: sizes must be positive integers (got ${inputSize}, ${hiddenSize})`);
    }
    const numLayers = opts.numLayers ?? 1, dropout = opts.dropout ?? 0;
    if (!Number.isInteger(numLayers) || numLayers < 1) throw new RangeError(`${name}: numLayers must be an integer >= 1 (got ${String(numLayers)})`);
    if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) throw new RangeError(`${name}: dropout must be in [0, 1) (got ${String(dropout)})`);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropoutP = dropout;
    if (opts.bidirectional !== undefined && typeof opts.bidirectional !== "boolean") throw new TypeError(`${name}: bidirectional must be a boolean (got ${String(opts.bidirectional)})`);
    this.bidirectional = opts.bidirectional ?? false;
    this.numDirections = this.bidirectional ? 2 : 1;
    this.rng = opts.rng ?? defaultRng;
    const g = GATES[kind] * hiddenSize;
    const k = 1 / Math.sqrt(hiddenSize);
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : hiddenSize * this.numDirections;
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = d === 1 ? "_reverse" : "";
        const names = { wih: `weight_ih_l${l}${sfx}`, whh: `weight_hh_l${l}${sfx}`, bih: `bias_ih_l${l}${sfx}`, bhh: `bias_hh_l${l}${sfx}` };
        const shapes = { wih: [g, inSize], whh: [g, hiddenSize], bih: [g], bhh: [g] };
        for (const key of ["wih", "whh", "bih", "bhh"] as const) {
          if (opts.bias === false && (key === "bih" || key === "bhh")) continue;
          // PyTorch's attribute (rnn.weight_ih_l0), read by forward so a parametrization (pruning) applies
          (this as unknown as Record<string, Var>)[names[key]] = this.addParameter(names[key], uniform(shapes[key], -k, k, { rng: this.rng }));
        }
        this.weights.push({ wih: names.wih, whh: names.whh, bih: opts.bias === false ? null : names.bih, bhh: opts.bias === false ? null : names.bhh });
      }
    }
  }

  /** Checks `[T, B, in]` (or batch-first) input; returns it batch-major `[B, T, in]`. */
  protected batchMajor(x: VarLike): Var {
    const v = this.checkedInput(x);
    return this.batchFirst ? v : A.transpose(v, 0, 1);
  }

  /** The batch size of a checked input. */
  protected batchSize(x: VarLike): number {
    return this.checkedInput(x).shape[this.batchFirst ? 0 : 1]!;
  }

  private checkedInput(x: VarLike): Var {
    const v = A.toVar(x, this.kind);
    if (v.ndim !== 3 || v.shape[2] !== this.inputSize) {
      throw new ShapeError(this.kind, `input must be ${this.batchFirst ? "[B, T, in]" : "[T, B, in]"} with in = ${this.inputSize}`, [v.shape]);
    }
    return v;
  }

  /** The initial state of every cell (`layer·D + direction`), from `[L·D, B, H]` or zeros. */
  protected initialState(h0: VarLike | undefined, batch: number, what: string): Var[] {
    const cells = this.numLayers * this.numDirections, H = this.hiddenSize;
    if (h0 === undefined) return Array.from({ length: cells }, () => A.constant(zeros([batch, H])));
    const v = A.toVar(h0, this.kind);
    if (v.ndim !== 3 || v.shape[0] !== cells || v.shape[1] !== batch || v.shape[2] !== H) {
      const dims = this.bidirectional ? "numLayers·2" : "numLayers";
      throw new ShapeError(this.kind, `${what} must be [${dims}, B, H] = [${cells},${batch},${H}]`, [v.shape]);
    }
    return Array.from({ length: cells }, (_, l) => A.select(v, 0, l));
  }

  /**
   * Runs every layer over the sequence (both directions when bidirectional); `step` advances cell
   * `layer·D + direction` by one time step. `finals` holds each cell's last state, cell order.
   * The sequence stays batch-major `[B, T, feat]` throughout (see the file comment): the input
   * projection's rows are ordered (b, t), and the step inputs and states are `[B, ·]`.
   */
  protected run(x: VarLike, states: Var[][], step: (cell: number, gi: Var, state: Var[]) => Var[]): { output: Var; finals: Var[][] } {
    let seq = this.batchMajor(x);
    const B = seq.shape[0]!, T = seq.shape[1]!, D = this.numDirections;
    const finals: Var[][] = [];
    this.hh = this.weights.map((w) => ({ whh: this.param(w.whh)!, bhh: this.param(w.bhh) }));
    for (let l = 0; l < this.numLayers; l++) {
      const dirOuts: Var[] = [];
      for (let d = 0; d < D; d++) {
        const cell = l * D + d;
        const w = this.weights[cell]!;
        const wih = this.param(w.wih)!;
        // input projection of all steps at once, sample-major rows: [B·T, in] · W_ihᵀ + b_ih
        // (the reshape copies only a transposed view: a time-major input, or a layer's output after dropout)
        const proj = A.reshape(A.linear(A.reshape(seq, [B * T, seq.shape[2]!]), wih, this.param(w.bih)), [B, T, wih.shape[0]!]);
        let state = states.map((s) => s[cell]!);
        const outs: Var[] = new Array<Var>(T);
        // the reverse cell reads the sequence from the end; its output at t is its state after x_t
        for (let i = 0; i < T; i++) {
          const t = d === 0 ? i : T - 1 - i;
          state = step(cell, A.select(proj, 1, t), state);
          outs[t] = state[0]!;
        }
        finals.push(state);
        dirOuts.push(T > 0 ? A.stack(outs, 1) : A.constant(zeros([B, 0, this.hiddenSize])));
      }
      seq = D === 1 ? dirOuts[0]! : A.concat(dirOuts, 2);
      // the mask is drawn over the time-major view, so a seeded rng gives the same mask as ever
      if (this.dropoutP > 0 && l < this.numLayers - 1) seq = A.transpose(A.dropout(A.transpose(seq, 0, 1), this.dropoutP, { training: this.training, rng: this.rng }), 0, 1);
    }
    return { output: this.batchFirst ? seq : A.transpose(seq, 0, 1), finals };
  }

  /** `h W_hhᵀ + b_hh` of cell `layer·D + direction`. */
  protected hidden(l: number, h: Var): Var {
    const w = this.hh[l]!;
    return A.linear(h, w.whh, w.bhh);
  }

  /** The current value of the attribute `name` (the effective value when it is parametrized). */
  private param(name: string | null): Var | null {
    return name === null ? null : (this as unknown as Record<string, Var>)[name]!;
  }

  protected gate(v: Var, k: number): Var {
    const H = this.hiddenSize;
    return A.slice(v, 1, k * H, (k + 1) * H);
  }

  protected override describe(): string {
    return `${this.inputSize}, ${this.hiddenSize}, numLayers=${this.numLayers}${this.bidirectional ? ", bidirectional=true" : ""}`;
  }
}

/**
 * Elman RNN with tanh (default) or relu.
 *
 * @throws {RangeError} from the constructor for sizes or `numLayers` that are not positive
 * integers, or `dropout` outside [0, 1); {TypeError} for a `nonlinearity` other than "tanh" and
 * "relu"; {ShapeError} from `forward` for a wrongly shaped input or initial state.
 * @example
 * ```ts
 * const rnn = new RNN(4, 16);
 * const { output, h } = rnn.forward(x); // x [T, B, 4] -> output [T, B, 16], h [1, B, 16]
 * const bi = new RNN(4, 16, { bidirectional: true, numLayers: 2 });
 * bi.forward(x); // output [T, B, 32], h [4, B, 16] (l0, l0_reverse, l1, l1_reverse)
 * ```
 */
export class RNN extends RecurrentBase {
  readonly nonlinearity: "tanh" | "relu";
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions & { nonlinearity?: "tanh" | "relu" } = {}) {
    super("rnn", inputSize, hiddenSize, opts);
    const f = opts.nonlinearity ?? "tanh";
    if (f !== "tanh" && f !== "relu") throw new TypeError(`RNN: nonlinearity must be "tanh" or "relu" (got ${JSON.stringify(f)})`);
    this.nonlinearity = f;
  }
  /**
   * Runs the sequence from `h0` (default zeros).
   *
   * @throws {ShapeError} for an input that is not 3-D with `inputSize` features, or an initial
   * state that is not `[numLayers·D, B, hiddenSize]` (D = 2 when bidirectional); {TypeError} for an input that is not a Var,
   * Tensor or number.
   * @example
   * ```ts
   * const { output, h } = new RNN(4, 16).forward(x, h0); // x [T, B, 4], h0 [1, B, 16]
   * ```
   */
  forward(x: VarLike, h0?: VarLike): RecurrentOutput {
    const B = this.batchSize(x);
    const h = this.initialState(h0, B, "h0");
    const act = this.nonlinearity === "relu" ? A.relu : A.tanh;
    const { output, finals } = this.run(x, [h], (l, gi, [hp]) => [act(A.add(gi, this.hidden(l, hp!)))]);
    return { output, h: A.stack(finals.map((f) => f[0]!), 0) };
  }
}

/**
 * Long short-term memory (gate order i, f, g, o).
 *
 * @throws {RangeError} from the constructor for sizes or `numLayers` that are not positive
 * integers, or `dropout` outside [0, 1); {ShapeError} from `forward` for a wrongly shaped input
 * or initial state.
 * @example
 * ```ts
 * const lstm = new LSTM(8, 32, { numLayers: 2 });
 * const { output, h, c } = lstm.forward(x);
 * ```
 */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super("lstm", inputSize, hiddenSize, opts);
  }
  /**
   * Runs the sequence from `(h0, c0)` (default zeros).
   *
   * @throws {ShapeError} for an input that is not 3-D with `inputSize` features, or an initial
   * state that is not `[numLayers·D, B, hiddenSize]` (D = 2 when bidirectional); {TypeError} for an input that is not a Var,
   * Tensor or number.
   * @example
   * ```ts
   * const { output, h, c } = lstm.forward(x, { h0: state.h, c0: state.c }); // carry state across chunks
   * ```
   */
  forward(x: VarLike, state?: { h0?: VarLike; c0?: VarLike }): RecurrentOutput {
    const B = this.batchSize(x);
    const h = this.initialState(state?.h0, B, "h0");
    const c = this.initialState(state?.c0, B, "c0");
    const { output, finals } = this.run(x, [h, c], (l, gi, [hp, cp]) => {
      const gates = A.add(gi, this.hidden(l, hp!));
      const i = A.sigmoid(this.gate(gates, 0));
      const f = A.sigmoid(this.gate(gates, 1));
      const g = A.tanh(this.gate(gates, 2));
      const o = A.sigmoid(this.gate(gates, 3));
      const cn = A.add(A.mul(f, cp!), A.mul(i, g));
      return [A.mul(o, A.tanh(cn)), cn];
    });
    return { output, h: A.stack(finals.map((s) => s[0]!), 0), c: A.stack(finals.map((s) => s[1]!), 0) };
  }
}

/**
 * Gated recurrent unit (gate order r, z, n; PyTorch's placement of `b_hn` inside the reset).
 *
 * @throws {RangeError} from the constructor for sizes or `numLayers` that are not positive
 * integers, or `dropout` outside [0, 1); {ShapeError} from `forward` for a wrongly shaped input
 * or initial state.
 * @example
 * ```ts
 * const gru = new GRU(8, 32);
 * const { output, h } = gru.forward(x);
 * ```
 */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super("gru", inputSize, hiddenSize, opts);
  }
  /**
   * Runs the sequence from `h0` (default zeros).
   *
   * @throws {ShapeError} for an input that is not 3-D with `inputSize` features, or an initial
   * state that is not `[numLayers·D, B, hiddenSize]` (D = 2 when bidirectional); {TypeError} for an input that is not a Var,
   * Tensor or number.
   * @example
   * ```ts
   * const { output, h } = new GRU(8, 32, { batchFirst: true }).forward(x); // x [B, T, 8] -> output [B, T, 32]
   * ```
   */
  forward(x: VarLike, h0?: VarLike): RecurrentOutput {
    const B = this.batchSize(x);
    const h = this.initialState(h0, B, "h0");
    const { output, finals } = this.run(x, [h], (l, gi, [hp]) => {
      const gh = this.hidden(l, hp!);
      const r = A.sigmoid(A.add(this.gate(gi, 0), this.gate(gh, 0)));
      const z = A.sigmoid(A.add(this.gate(gi, 1), this.gate(gh, 1)));
      const n = A.tanh(A.add(this.gate(gi, 2), A.mul(r, this.gate(gh, 2))));
      return [A.add(A.mul(A.sub(1, z), n), A.mul(z, hp!))];
    });
    return { output, h: A.stack(finals.map((f) => f[0]!), 0) };
  }
}
