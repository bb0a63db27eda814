/**
 * @file Opacus's `RDPAccountant`: a history of (σ, q, steps) phases, consecutive identical steps
 * merged, and the ε spent for a δ over the RDP orders (default `DEFAULT_ALPHAS`).
 */
import { computeRdp, getPrivacySpent, type PrivacySpent } from "./rdp.js";
import { checkDelta, checkNoiseMultiplier, checkOrders, checkSampleRate } from "./validate.js";

/**
 * Opacus `RDPAccountant.DEFAULT_ALPHAS`: `1 + x/10` for x = 1..99, then 12, 13, ..., 63 (151 orders).
 *
 * @example
 * ```ts
 * DEFAULT_ALPHAS[0];   // 1.1
 * DEFAULT_ALPHAS.at(-1); // 63
 * ```
 * @throws never (a frozen array: writes throw in strict mode).
 */
export const DEFAULT_ALPHAS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, k) => 1 + (k + 1) / 10),
  ...Array.from({ length: 52 }, (_, k) => 12 + k),
]);

/** One phase of the accountant's history: `steps` consecutive steps with the same σ and q. */
export interface AccountantPhase {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

/** The serializable state of an {@link RDPAccountant} (Opacus `state_dict`). */
export interface AccountantState {
  mechanism: "rdp";
  history: AccountantPhase[];
}

/**
 * Rényi-DP accountant for DP-SGD, matching Opacus `RDPAccountant`.
 *
 * @example
 * ```ts
 * const acc = new RDPAccountant();
 * for (let t = 0; t < 2250; t++) acc.step({ noiseMultiplier: 1.5, sampleRate: 0.04 });
 * acc.history;            // [{ noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250 }]
 * acc.getEpsilon(1e-5);   // 7.3291111714…
 * ```
 * @throws {RangeError} from its methods on bad input (σ < 0, q outside [0, 1], δ outside (0, 1)).
 */
export class RDPAccountant {
  /** The same as the module's {@link DEFAULT_ALPHAS}. */
  static readonly DEFAULT_ALPHAS = DEFAULT_ALPHAS;
  /** The phases so far, oldest first (consecutive identical steps merged). */
  history: AccountantPhase[] = [];
  /**
   * One step's RDP at the default orders per (σ, q) seen: a phase's RDP is `steps ×` it (the
   * same product `computeRdp` forms), so reporting ε after every step costs O(orders), not a
   * series per order.
   */
  private readonly unitRdp = new Map<string, Float64Array>();

  /**
   * The mechanism name (`"rdp"`), as Opacus `RDPAccountant.mechanism()`.
   *
   * @example
   * ```ts
   * RDPAccountant.mechanism(); // "rdp"
   * ```
   * @throws never.
   */
  static mechanism(): "rdp" {
    return "rdp";
  }

  /**
   * Records one step with noise multiplier σ and sample rate q, merging it into the last phase when
   * both are equal.
   *
   * @example
   * ```ts
   * acc.step({ noiseMultiplier: 1.1, sampleRate: 256 / 60000 });
   * ```
   * @throws {RangeError} when σ < 0 or q is outside [0, 1].
   */
  step(args: { noiseMultiplier: number; sampleRate: number }): void {
    if (args === null || typeof args !== "object") throw new TypeError(`RDPAccountant.step: expected { noiseMultiplier, sampleRate } (got ${args === null ? "null" : typeof args})`);
    const { noiseMultiplier, sampleRate } = args;
    checkNoiseMultiplier("RDPAccountant.step", noiseMultiplier);
    checkSampleRate("RDPAccountant.step", sampleRate);
    const last = this.history[this.history.length - 1];
    if (last && last.noiseMultiplier === noiseMultiplier && last.sampleRate === sampleRate) last.steps += 1;
    else this.history.push({ noiseMultiplier, sampleRate, steps: 1 });
  }

  /**
   * Total RDP of the history at each order.
   *
   * @example
   * ```ts
   * acc.getRdp([2, 4, 8]); // Float64Array(3)
   * ```
   * @throws {RangeError} when an order is <= 1 or a phase is invalid.
   */
  getRdp(orders: ArrayLike<number> = DEFAULT_ALPHAS): Float64Array {
    if (orders !== DEFAULT_ALPHAS) checkOrders("RDPAccountant.getRdp", orders);
    const total = new Float64Array(orders.length);
    for (const p of this.history) {
      if (orders === DEFAULT_ALPHAS && Number.isInteger(p.steps) && p.steps >= 0) {
        const key = `${p.noiseMultiplier}/${p.sampleRate}`;
        let unit = this.unitRdp.get(key);
        if (unit === undefined) this.unitRdp.set(key, (unit = computeRdp(p.sampleRate, p.noiseMultiplier, 1, orders)));
        for (let k = 0; k < total.length; k++) total[k] = total[k]! + unit[k]! * p.steps;
        continue;
      }
      const r = computeRdp(p.sampleRate, p.noiseMultiplier, p.steps, orders);
      for (let k = 0; k < total.length; k++) total[k] = total[k]! + r[k]!;
    }
    return total;
  }

  /**
   * (ε, best order) for δ over `orders` (default {@link DEFAULT_ALPHAS}); `{ epsilon: 0, bestAlpha: 0 }`
   * for an empty history, as Opacus.
   *
   * @example
   * ```ts
   * acc.getPrivacySpent(1e-5); // { epsilon: 7.3291…, bestAlpha: 3.9 }
   * ```
   * @throws {RangeError} when δ is outside (0, 1) or an order is <= 1.
   */
  getPrivacySpent(delta: number, orders?: ArrayLike<number>): PrivacySpent {
    checkDelta("RDPAccountant.getPrivacySpent", delta);
    if (this.history.length === 0) return { epsilon: 0, bestAlpha: 0 };
    const alphas = orders ?? DEFAULT_ALPHAS;
    return getPrivacySpent({ orders: alphas, rdp: this.getRdp(alphas), delta });
  }

  /**
   * ε spent for δ (see {@link RDPAccountant.getPrivacySpent}).
   *
   * @example
   * ```ts
   * acc.getEpsilon(1e-5); // 7.3291…
   * ```
   * @throws {RangeError} when δ is outside (0, 1) or an order is <= 1.
   */
  getEpsilon(delta: number, orders?: ArrayLike<number>): number {
    return this.getPrivacySpent(delta, orders).epsilon;
  }

  /**
   * Number of steps recorded (the sum over the history).
   *
   * @example
   * ```ts
   * acc.steps; // 2250
   * ```
   * @throws never.
   */
  get steps(): number {
    return this.history.reduce((n, p) => n + p.steps, 0);
  }

  /**
   * A copy of the state (Opacus `state_dict`).
   *
   * @example
   * ```ts
   * const saved = JSON.stringify(acc.stateDict());
   * ```
   * @throws never.
   */
  stateDict(): AccountantState {
    return { mechanism: "rdp", history: this.history.map((p) => ({ ...p })) };
  }

  /**
   * Restores a state from {@link RDPAccountant.stateDict}.
   *
   * @example
   * ```ts
   * const acc2 = new RDPAccountant();
   * acc2.loadStateDict(JSON.parse(saved));
   * ```
   * @throws {TypeError} when the state has no `history` array or is for another mechanism;
   * `RangeError` when a phase has σ < 0, q outside [0, 1] or a non-integer step count.
   */
  loadStateDict(state: AccountantState): void {
    if (!state || !Array.isArray(state.history)) throw new TypeError("RDPAccountant.loadStateDict: state.history must be an array");
    if (state.mechanism !== undefined && state.mechanism !== "rdp") {
      throw new TypeError(`RDPAccountant.loadStateDict: state is for mechanism ${JSON.stringify(state.mechanism)}, not "rdp"`);
    }
    const history = state.history.map((p, i) => {
      checkNoiseMultiplier(`RDPAccountant.loadStateDict (history[${i}])`, p.noiseMultiplier);
      checkSampleRate(`RDPAccountant.loadStateDict (history[${i}])`, p.sampleRate);
      if (!Number.isInteger(p.steps) || p.steps < 0) {
        throw new RangeError(`RDPAccountant.loadStateDict: history[${i}].steps must be a non-negative integer, got ${p.steps}`);
      }
      return { noiseMultiplier: p.noiseMultiplier, sampleRate: p.sampleRate, steps: p.steps };
    });
    this.history = history;
  }
}
