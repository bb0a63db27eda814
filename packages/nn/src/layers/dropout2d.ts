/**
 * @file `Dropout2d` (torch.nn.Dropout2d): channel-wise dropout. In training mode each whole
 * channel `(n, c)` of an `[N, C, H, W]` input is zeroed with probability `p` (seeded `Rng`) and
 * the kept channels are scaled by `1/(1−p)`; identity in eval mode.
 */
import { Rng, ShapeError, Tensor, defaultRng } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import type { Var, VarLike } from "@tapegrad/autograd";
import { Module } from "../module.js";

/**
 * Channel-wise dropout for `[N, C, H, W]` feature maps. A 3-D input is treated as `[N, C, L]`
 * (torch 1.13's behaviour for 3-D inputs to `dropout2d`): one draw per `(n, c)`. `p = 1` zeroes
 * everything.
 *
 * @throws {RangeError} from the constructor unless `0 <= p <= 1`; {ShapeError} from `forward`
 * for an input that is not 3-D or 4-D.
 * @example
 * ```ts
 * const drop = new Dropout2d(0.2, { rng: new Rng(7) });
 * const y = drop.forward(x); // x [N, C, H, W]: each (n, c) map is all zero or scaled by 1.25
 * ```
 */
export class Dropout2d extends Module {
  readonly p: number;
  private readonly rng: Rng;
  constructor(p = 0.5, opts: { rng?: Rng } = {}) {
    super();
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new RangeError(`Dropout2d: p must be in [0, 1] (got ${String(p)})`);
    this.p = p;
    this.rng = opts.rng ?? defaultRng;
  }
  /**
   * Drops whole channels in training mode; returns the input unchanged in eval mode or for
   * `p = 0`.
   *
   * @throws {ShapeError} for an input that is not 3-D or 4-D; {TypeError} for an input that is
   * not a Var, Tensor or number.
   * @example
   * ```ts
   * model.eval(); drop.forward(x); // x itself
   * ```
   */
  forward(x: VarLike): Var {
    const v = A.toVar(x, "Dropout2d");
    if (v.ndim !== 3 && v.ndim !== 4) throw new ShapeError("Dropout2d", "expected a 4-D [N, C, H, W] (or 3-D [N, C, L]) input", [v.shape]);
    if (!this.training || this.p === 0) return v;
    const n = v.shape[0]!, c = v.shape[1]!;
    const mask = this.rng.fillUniform(new Float32Array(n * c));
    const keep = this.p === 1 ? 0 : 1 / (1 - this.p);
    for (let i = 0; i < mask.length; i++) mask[i] = mask[i]! >= this.p ? keep : 0;
    const shape = v.ndim === 4 ? [n, c, 1, 1] : [n, c, 1];
    return A.mul(v, new Tensor(mask, shape));
  }
  protected override describe(): string {
    return `p=${this.p}`;
  }
}
