/**
 * @file Finite-difference gradient checking: compares the engine's vector-Jacobian products with
 * central differences of the forward function, element by element.
 *
 * For an `f` with a non-scalar output a random cotangent `v` (seeded) turns it into the scalar
 * `L = Σ f(x) ⊙ v`. Each input element is moved by `±eps` in float32 (the denominator uses the
 * actually representable step), so the default tolerances are chosen for float32 forward passes.
 */
import { Rng, Tensor, randn } from "@tapegrad/tensor";
import { Var, noGrad } from "./var.js";
import { gradients } from "./functional.js";

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-3). */
  eps?: number;
  /** Relative tolerance (default 1e-2). */
  rtol?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Seed of the random cotangent for non-scalar outputs (default 0). */
  seed?: number;
  /** Which inputs to check (default all). */
  check?: readonly number[];
}

/** One mismatch found by {@link gradcheck}. */
export interface GradcheckMismatch {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

/** Result of {@link gradcheck}. */
export interface GradcheckResult {
  ok: boolean;
  /** Largest `|analytic − numeric| / (atol + rtol·|numeric|)`; ≤ 1 passes. */
  worst: number;
  mismatches: GradcheckMismatch[];
  /** Human-readable summary. */
  message: string;
}

/**
 * Checks the gradients of `f` at `inputs` against central finite differences. Mismatches are
 * reported in the result, not thrown.
 *
 * @throws whatever `f` (or its backward pass) throws; {TypeError} when `f` does not return a Var
 * or an entry of `opts.check` is not an input index; {Error} for an input tensor released by
 * `dispose()`.
 * @example
 * ```ts
 * const r = gradcheck((x, y) => mul(x, y), [randn([3, 1]), randn([2])]);
 * r.ok; // true
 * ```
 */
export function gradcheck(f: (...xs: Var[]) => Var, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-3;
  const rtol = opts.rtol ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  if (typeof f !== "function") throw new TypeError(`gradcheck: f must be a function (got ${f === null ? "null" : typeof f})`);
  if (!Array.isArray(inputs)) throw new TypeError(`gradcheck: inputs must be an array of Tensors (got ${inputs === null ? "null" : typeof inputs})`);
  inputs.forEach((t, i) => { if (!(t instanceof Tensor)) throw new TypeError(`gradcheck: inputs[${i}] must be a Tensor (got ${t === null ? "null" : typeof t})`); });
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps <= 0) throw new RangeError(`gradcheck: eps must be a finite number > 0 (got ${String(eps)})`);
  for (const [name, tol] of [["rtol", rtol], ["atol", atol]] as const) {
    if (typeof tol !== "number" || !Number.isFinite(tol) || tol < 0) throw new RangeError(`gradcheck: ${name} must be a finite number >= 0 (got ${String(tol)})`);
  }
  const base = inputs.map((t) => t.clone());
  const vars = base.map((t) => new Var(t, true));
  const out = f(...vars);
  const v = randn(out.shape, new Rng(opts.seed ?? 0));
  const analytic = out.requiresGrad ? gradients(out, vars, v) : base.map((t) => new Tensor(new Float32Array(t.size), t.shape));
  const dot = (xs: Tensor[]): number =>
    noGrad(() => {
      const y = f(...xs.map((t) => new Var(t, false))).value.toFloat32Array();
      const w = v.toFloat32Array();
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
      return s;
    });
  const mismatches: GradcheckMismatch[] = [];
  let worst = 0;
  const which = opts.check ?? inputs.map((_, i) => i);
  for (const i of which) {
    const data = base[i]!.data;
    const an = analytic[i]!.toFloat32Array();
    for (let k = 0; k < data.length; k++) {
      const x0 = data[k]!;
      data[k] = x0 + eps;
      const up = data[k]!;
      const fp = dot(base);
      data[k] = x0 - eps;
      const dn = data[k]!;
      const fm = dot(base);
      data[k] = x0;
      const numeric = (fp - fm) / (up - dn);
      const err = Math.abs(an[k]! - numeric) / (atol + rtol * Math.abs(numeric));
      if (!(err <= 1)) mismatches.push({ input: i, index: k, analytic: an[k]!, numeric });
      if (err > worst || Number.isNaN(err)) worst = Number.isNaN(err) ? Infinity : err;
    }
  }
  const ok = mismatches.length === 0;
  const first = mismatches.slice(0, 3).map((m) => `input ${m.input}[${m.index}]: analytic ${m.analytic} vs numeric ${m.numeric}`);
  const message = ok ? `gradcheck passed (worst ratio ${worst.toFixed(3)})` : `gradcheck failed: ${mismatches.length} mismatches; ${first.join("; ")}`;
  return { ok, worst, mismatches, message };
}
