/**
 * @file The transcendental kernels (`map/math.ts`) against float64 `Math`: over float32 inputs
 * sampled across the whole range (every 4099th bit pattern, plus dense runs near 0, 1 and the
 * overflow and underflow thresholds), the error is at most 0.5 ulp + 10⁻⁵ ulp of the float64
 * reference (ulp of float32 at the reference; 2⁻¹⁴⁹ for denormal results) — sigmoid, float32
 * arithmetic for speed, 3 ulp and a relative error of 2.3·10⁻⁷ — and special values
 * are exactly `Math.fround` of the reference (for gelu′, with a zero near −0.75, an absolute
 * 10⁻¹⁵ besides). Erf, Φ and GELU are checked against an independent float64 `erfc`. Backends give the same bits (map-backends.test.ts),
 * so the pure-TS backend is measured here (and wasm spot-checked).
 */
import { describe, expect, it } from "vitest";
import { allocate, exp, log, mapKernel, sigmoid, softplus, tanh, tensor, wasmKernels, type Expr } from "@tapegrad/tensor";
import { jitBlock } from "../../packages/tensor/src/map/jit.js";
import { erfF, expF, geluF, geluGradF, geluTanhF, geluTanhGradF, log1pExpF, logF, sigmoidF, tanhF } from "../../packages/tensor/src/map/math.js";
import { erf } from "@tapegrad/tensor";
import { ulp32 } from "../helpers/ulp.js";

const F = new Float32Array(1), I = new Int32Array(F.buffer);

/** Inputs: a stride over all bit patterns, and dense runs around points of interest. */
function inputs(points: readonly number[]): Float32Array {
  const xs: number[] = [];
  for (let b = 0; b < 2 ** 32; b += 4099) {
    I[0] = b | 0;
    xs.push(F[0]!);
  }
  for (const p of points) {
    F[0] = p;
    const base = I[0]!;
    for (let d = -2000; d <= 2000; d++) {
      I[0] = base + d;
      xs.push(F[0]!);
    }
  }
  return Float32Array.from(xs);
}

/** erfc in float64: 1 − erf below 2 (no cancellation there), a continued fraction (200 terms) above. */
function erfc(u: number): number {
  if (u < 2) return 1 - erf(u);
  let f = u;
  for (let k = 200; k >= 1; k--) f = u + k / 2 / f;
  return Math.exp(-u * u) / Math.sqrt(Math.PI) / f;
}
/** Φ(x) = ½·erfc(−x/√2), from erfc(|x|/√2) on both sides. */
const phi = (x: number) => (x < 0 ? 0.5 * erfc(-x / Math.SQRT2) : 1 - 0.5 * erfc(x / Math.SQRT2));
const K = Math.sqrt(2 / Math.PI);
const tanhArg = (x: number) => Math.fround((x + x * x * x * 0.044715) * K);
const log1pExp = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
const CASES: [string, (x: Expr) => Expr, (x: number) => number, number[]][] = [
  ["exp", expF, Math.exp, [0, 1, -1, 88.72283, 88.7228, -87.33655, -103.27893, -103.97208, 1e-7]],
  ["log", logF, Math.log, [1, 0.5, 2, 1e-45, 1.1754942e-38, 3.4028235e38, 0.9999999, 1.0000001]],
  ["tanh", tanhF, Math.tanh, [0, 0.0625, -0.0625, 1e-5, 9.01, 20, -20]],
  ["sigmoid", sigmoidF, (x) => 1 / (1 + Math.exp(-x)), [0, -87.3, -103.3, -104, 16.6, 1e-7]],
  ["log1p(e^z)", log1pExpF, log1pExp, [0, -87.3, -103.3, 15, 20, 1e-7, -1e-7, 88.7]],
  ["erf", erfF, (x) => (Math.abs(x) < 2 ? erf(x) : (x < 0 ? -1 : 1) * (1 - erfc(Math.abs(x)))), [0, 0.84375, -0.84375, 1.25, 2.857, 3.9, 1e-9]],
  ["gelu", geluF, (x) => x * phi(x), [0, -1, 1, -5, -10, -13.9, 3, 1e-7]],
  ["gelu'", geluGradF, (x) => phi(x) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI), [0, -0.7518, -3, 3, -8]],
  ["gelu tanh", geluTanhF, (x) => 0.5 * x * (1 + Math.tanh(tanhArg(x))), [0, -1, 1, -3, 5, 1e-7]],
  ["gelu tanh'", geluTanhGradF, (x) => {
    const t = Math.tanh(tanhArg(x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * 0.044715 * x * x);
  }, [0, -1, 1, -2.4, 5]],
];
/** Functions computed in float32 arithmetic, with their stated bounds (ulp, and relative error for normal results) instead of 0.5 ulp + 1e-5. */
const F32_BOUND: Record<string, readonly [number, number]> = { sigmoid: [3, 2.3e-7] };
/** Functions with a zero crossing (gelu′'s near −0.75): an absolute floor of 1e-15 is allowed besides the ulp bound. */
const ABS_FLOOR: Record<string, number> = { "gelu'": 1e-15, "gelu tanh'": 1e-15 };

describe("transcendentals: ≤ 0.5 ulp + 1e-5 ulp of float64 (sigmoid: 3 ulp), special values as Math.fround", () => {
  for (const [name, fn, ref, points] of CASES) {
    it(name, () => {
      const k = mapKernel(`t-${name}`, { arrays: ["o", "x"], scalars: [] }, ({ x }) => ({ o: fn(x) }));
      const xs = inputs(points), os = new Float32Array(xs.length);
      expect(jitBlock(k, [os, xs], [0, 0], [1, 1], [0, 0], xs.length, 1, [])).toBe(true);
      let worst = 0, at = NaN, worstRel = 0;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i]!, r = ref(x), y = os[i]!, want = Math.fround(r);
        if (!Number.isFinite(want) || Number.isNaN(r)) {
          if (!(Object.is(y, want) || (Number.isNaN(want) && Number.isNaN(y)))) expect.fail(`${name}(${x}) = ${y}, Math.fround of float64 gives ${want}`);
          continue;
        }
        if (want === 0 && y !== 0) expect.fail(`${name}(${x}) = ${y}, float64 rounds to ${want}`);
        const err = Math.max(0, Math.abs(y - r) - (ABS_FLOOR[name] ?? 0)) / ulp32(r);
        if (err > worst) [worst, at] = [err, x];
        if (Math.abs(r) >= 2 ** -126) worstRel = Math.max(worstRel, Math.abs(y - r) / Math.abs(r));
      }
      const [ulps, rel] = F32_BOUND[name] ?? [0.5 + 1e-5, Infinity];
      expect(worst, `${name}: worst error ${worst} ulp at x = ${at}`).toBeLessThanOrEqual(ulps);
      expect(worstRel, `${name}: worst relative error`).toBeLessThanOrEqual(rel);
    });
  }

  it("special values", () => {
    const special = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3.4028235e38, -3.4028235e38, 89, -104, 88.72284, -103.97209];
    const x = tensor(special);
    const same = (got: Float32Array, f: (v: number) => number, label: string) =>
      special.forEach((v, i) => {
        const want = Math.fround(f(Math.fround(v)));
        if (!(Object.is(got[i], want) || (Number.isNaN(want) && Number.isNaN(got[i]!)))) expect.fail(`${label}(${v}): ${got[i]} vs ${want}`);
      });
    same(exp(x).toFloat32Array(), Math.exp, "exp");
    same(log(x).toFloat32Array(), Math.log, "log");
    same(tanh(x).toFloat32Array(), Math.tanh, "tanh");
    same(sigmoid(x).toFloat32Array(), (v) => (v === -Infinity ? 0 : 1 / (1 + Math.exp(-v))), "sigmoid");
    same(softplus(x).toFloat32Array(), (v) => (v > 20 ? v : Number.isNaN(v) ? NaN : log1pExp(v)), "softplus");
    expect(Object.is(tanh(tensor([-0])).item(), -0)).toBe(true);
    expect(exp(tensor([-103.97208])).item()).toBe(2 ** -149); // the smallest denormal
  });

  it.runIf(wasmKernels() !== undefined)("wasm (in place, 1M elements) gives the bits of the pure-TS backend", () => {
    const n = 1 << 20, w = wasmKernels()!;
    const x = allocate(n, { persistent: true }), o = allocate(n, { persistent: true }), o2 = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = (Math.sin(i * 12.9898) * 43758.5453 % 1) * 60;
    for (const [name, fn] of CASES) {
      const k = mapKernel(`w-${name}`, { arrays: ["o", "x"], scalars: [] }, ({ x: e }) => ({ o: fn(e) }));
      w.mapBlock(k, [o, x], [0, 0], [1, 1], [0, 0], n, 1, []);
      jitBlock(k, [o2, x], [0, 0], [1, 1], [0, 0], n, 1, []);
      for (let i = 0; i < n; i++) if (!Object.is(o[i], o2[i]) && !(Number.isNaN(o[i]!) && Number.isNaN(o2[i]!))) expect.fail(`${name}(${x[i]}): wasm ${o[i]}, js ${o2[i]}`);
    }
  });
});
