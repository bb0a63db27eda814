/**
 * @file Property tests of the gradient-clipping invariants (packages/optim): `clipGradNorm` for
 * p ∈ {1, 2, 3, ∞} on 1–4 gradient tensors with magnitudes from 1e-3 to 1e3, and `clipGradValue`:
 * - the reported total norm is the float64 p-norm and the coefficient is torch's min(1, M/(n+1e-6));
 * - post-clip total norm ≤ maxNorm·(1 + 1e-6);
 * - direction preserved: every element is exactly fround(g·coef) (one common factor; cosine 1);
 * - idempotent with eps = 0 (torch's formula without its +1e-6, and optax's): clipping again
 *   changes no element by more than 1 ulp; with torch's default +1e-6 a clipped gradient's norm
 *   n' satisfies n' + 1e-6 > M, so a second clip shrinks it again, by at most 1e-6/M relative
 *   (PyTorch behaves the same: not a bug, a property of the formula) — checked as such;
 * - scale-equivariant: clip(c·g, c·M) = c·clip(g, M) bit for bit for c a power of two with
 *   eps = 0 (every step is then exact scaling), and for any c > 0 with the default eps within the
 *   bound the eps term and float32 rounding allow;
 * - gradients whose norm is below the threshold are bit-identical after clipping;
 * - clipGradValue bounds every element, sets out-of-range ones exactly to the bound and leaves
 *   in-range ones bit-identical;
 * - the optimizer stages (`.transform`) give the same bits as the functions.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Rng, Tensor } from "@tapegrad/tensor";
import { applyTransform, clipCoefficient, clipGradNorm, clipGradValue } from "@tapegrad/optim";
import { EPS32, runs, seedArb, shapeArb } from "./arbitraries.js";

/** 1–4 gradient tensors with normal values times 10^u, u ∈ [-3, 3] (per tensor). */
const gradsArb = fc.record({
  shapes: fc.array(shapeArb(0, 3, 5), { minLength: 1, maxLength: 4 }),
  scales: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 4, maxLength: 4 }),
  seed: seedArb,
});

function makeGrads({ shapes, scales, seed }: { shapes: number[][]; scales: number[]; seed: number }): Tensor[] {
  const rng = new Rng(seed);
  return shapes.map((s, i) => {
    const n = s.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let k = 0; k < n; k++) d[k] = rng.normal() * 10 ** scales[i]!;
    return new Tensor(d, s);
  });
}

const copy = (gs: readonly Tensor[]): Tensor[] => gs.map((g) => new Tensor(g.toFloat32Array().slice(), g.shape));
const flat = (gs: readonly Tensor[]): Float32Array => {
  const out = new Float32Array(gs.reduce((n, g) => n + g.size, 0));
  let o = 0;
  for (const g of gs) {
    out.set(g.toFloat32Array(), o);
    o += g.size;
  }
  return out;
};

/** The float64 p-norm of all elements together (independent of the engine's normOf). */
function pnorm(xs: Float32Array, p: number): number {
  if (p === Infinity) return xs.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  let s = 0;
  for (const x of xs) s += Math.abs(x) ** p;
  return s ** (1 / p);
}

/** Distance in float32 ulps (same sign assumed; 0 for equal values). */
function ulps(a: number, b: number): number {
  const fa = new Float32Array([a, b]);
  const ia = new Int32Array(fa.buffer);
  return Math.abs(ia[0]! - ia[1]!);
}

const maxNormArb = fc.double({ min: -3, max: 3, noNaN: true }).map((e) => Math.fround(10 ** e));
const pArb = fc.constantFrom(1, 2, 3, Infinity);

describe("clipGradNorm invariants", () => {
  it("reports the float64 norm and torch's coefficient; post-clip norm ≤ maxNorm·(1 + 1e-6); each element is fround(g·coef)", () => {
    fc.assert(
      fc.property(gradsArb, maxNormArb, pArb, (spec, maxNorm, p) => {
        const gs = makeGrads(spec);
        const before = flat(gs);
        const n = pnorm(before, p);
        const r = clipGradNorm(gs, maxNorm, { normType: p });
        expect(Math.abs(r.totalNorm - n)).toBeLessThanOrEqual(1e-12 * n);
        expect(r.coef).toBe(clipCoefficient(r.totalNorm, maxNorm));
        expect(r.coef).toBeLessThanOrEqual(1);
        const after = flat(gs);
        for (let i = 0; i < after.length; i++) {
          if (after[i] !== Math.fround(before[i]! * r.coef)) expect.fail(`element ${i}: ${after[i]} is not fround(${before[i]}·${r.coef})`);
        }
        expect(pnorm(after, p)).toBeLessThanOrEqual(maxNorm * (1 + 1e-6));
        if (r.clipped && n > 0) {
          // cosine with the original direction is 1 (in float64, up to the float32 products)
          let dot = 0;
          for (let i = 0; i < after.length; i++) dot += after[i]! * before[i]!;
          expect(dot / (pnorm(after, 2) * pnorm(before, 2))).toBeGreaterThanOrEqual(1 - 4 * EPS32);
          // and the norm really reached the threshold, as far as the +1e-6 of torch lets it
          expect(pnorm(after, p)).toBeGreaterThanOrEqual(maxNorm * (n / (n + 1e-6)) * (1 - 4 * EPS32));
        }
      }),
      runs(4100, 300),
    );
  });
  it("is idempotent with eps = 0 (and optax's c/n): a second clip moves no element by more than 1 ulp", () => {
    fc.assert(
      fc.property(gradsArb, maxNormArb, pArb, fc.constantFrom("torch" as const, "optax" as const), (spec, maxNorm, p, compat) => {
        const gs = makeGrads(spec);
        const opts = { normType: p, eps: 0, compat };
        clipGradNorm(gs, maxNorm, opts);
        const once = flat(gs);
        clipGradNorm(gs, maxNorm, opts);
        const twice = flat(gs);
        for (let i = 0; i < once.length; i++) if (ulps(once[i]!, twice[i]!) > 1) expect.fail(`element ${i}: ${once[i]} then ${twice[i]}`);
      }),
      runs(4101, 300),
    );
  });
  it("with torch's default eps = 1e-6 a second clip shrinks by at most eps/maxNorm (+ rounding), as in PyTorch", () => {
    // After a clip the norm is n' ≈ M·n/(n + ε), and n' + ε > M whenever n + ε > M, so torch's
    // coefficient M/(n' + ε) is below 1 again: 1 − coef₂ ≤ ε/M + 2^-23. Not idempotent by design.
    fc.assert(
      fc.property(gradsArb, maxNormArb, pArb, (spec, maxNorm, p) => {
        const gs = makeGrads(spec);
        clipGradNorm(gs, maxNorm, { normType: p });
        const once = flat(gs);
        clipGradNorm(gs, maxNorm, { normType: p });
        const twice = flat(gs);
        for (let i = 0; i < once.length; i++) {
          const tol = Math.abs(once[i]!) * (1e-6 / maxNorm + 3 * EPS32);
          if (!(Math.abs(once[i]! - twice[i]!) <= tol)) expect.fail(`element ${i}: ${once[i]} then ${twice[i]} (tol ${tol})`);
          expect(Math.abs(twice[i]!)).toBeLessThanOrEqual(Math.abs(once[i]!));
        }
      }),
      runs(4106, 300),
    );
  });
  it("is scale-equivariant bit for bit for powers of two with eps = 0", () => {
    fc.assert(
      fc.property(gradsArb, maxNormArb, pArb, fc.integer({ min: -20, max: 20 }), (spec, maxNorm, p, j) => {
        const c = 2 ** j;
        const gs = makeGrads(spec);
        const scaled = gs.map((g) => new Tensor(g.toFloat32Array().map((x) => x * c), g.shape)); // exact
        clipGradNorm(gs, maxNorm, { normType: p, eps: 0 });
        clipGradNorm(scaled, maxNorm * c, { normType: p, eps: 0 });
        const want = flat(gs).map((x) => x * c);
        expect(flat(scaled)).toEqual(want);
      }),
      runs(4102, 200),
    );
  });
  it("is scale-equivariant for any c > 0 within the float32 and eps bound", () => {
    fc.assert(
      fc.property(gradsArb, maxNormArb, fc.double({ min: -2, max: 2, noNaN: true }), (spec, maxNorm, e) => {
        const c = 10 ** e;
        const gs = makeGrads(spec);
        const scaled = gs.map((g) => new Tensor(g.toFloat32Array().map((x) => x * c), g.shape));
        const n = pnorm(flat(gs), 2);
        const nc = pnorm(flat(scaled), 2);
        clipGradNorm(gs, maxNorm);
        clipGradNorm(scaled, maxNorm * c);
        // exact coefficients of both sides; they differ only through torch's +1e-6 (and c·g rounding)
        const k1 = Math.min(1, (maxNorm * c) / (nc + 1e-6));
        const k2 = Math.min(1, maxNorm / (n + 1e-6));
        const a = flat(scaled);
        const b = flat(gs);
        for (let i = 0; i < a.length; i++) {
          const want = b[i]! * c;
          const tol = Math.abs(want) * (Math.abs(k1 / k2 - 1) + 6 * EPS32) + 1e-45;
          if (!(Math.abs(a[i]! - want) <= tol)) expect.fail(`element ${i}: clip(c·g) ${a[i]} vs c·clip(g) ${want} (c ${c}, tol ${tol})`);
        }
      }),
      runs(4103, 200),
    );
  });
  it("leaves gradients whose norm is below the threshold bit-identical", () => {
    fc.assert(
      fc.property(gradsArb, fc.double({ min: 1e-6, max: 10, noNaN: true }), pArb, (spec, margin, p) => {
        const gs = makeGrads(spec);
        const before = flat(gs);
        const maxNorm = (pnorm(before, p) + 1e-6) * (1 + margin);
        const r = clipGradNorm(gs, maxNorm, { normType: p });
        expect(r.clipped).toBe(false);
        expect(new Uint32Array(flat(gs).buffer)).toEqual(new Uint32Array(before.buffer));
      }),
      runs(4104, 200),
    );
  });
  it("clipGradNorm.transform gives the same bits as clipGradNorm", () => {
    fc.assert(
      fc.property(gradsArb, maxNormArb, pArb, (spec, maxNorm, p) => {
        const a = makeGrads(spec);
        const b = copy(a);
        const ra = clipGradNorm(a, maxNorm, { normType: p });
        const rb = applyTransform(clipGradNorm.transform(maxNorm, { normType: p }), b);
        expect(rb.clipped).toBe(ra.clipped);
        expect(flat(b)).toEqual(flat(a));
      }),
      runs(4105, 100),
    );
  });
});

describe("clipGradValue invariants", () => {
  /** Bounds placed among the data: symmetric at |g_j|, or [g_j, g_k], so elements sit on, just inside and just outside them. */
  const boundsArb = fc.record({ j: fc.nat(), k: fc.nat(), symmetric: fc.boolean(), nudge: fc.constantFrom(0, 1, -1) });
  it("bounds every element, moves out-of-range ones exactly onto the bound, keeps in-range ones bit-identical", () => {
    fc.assert(
      fc.property(gradsArb, boundsArb, (spec, { j, k, symmetric, nudge }) => {
        const gs = makeGrads(spec);
        const before = flat(gs);
        fc.pre(before.length > 0);
        const a = before[j % before.length]!;
        const b = before[k % before.length]!;
        const shift = (x: number): number => x * (1 + nudge * EPS32); // on, just above or just below an element
        const bound = symmetric ? Math.abs(shift(a)) : { min: Math.min(shift(a), shift(b)), max: Math.max(shift(a), shift(b)) };
        const lo = Math.fround(typeof bound === "number" ? -bound : bound.min);
        const hi = Math.fround(typeof bound === "number" ? bound : bound.max);
        const r = clipGradValue(gs, bound);
        const after = flat(gs);
        let moved = 0;
        for (let i = 0; i < after.length; i++) {
          const x = before[i]!;
          const want = x > hi ? hi : x < lo ? lo : x;
          if (want !== x) moved++;
          if (!Object.is(after[i], want)) expect.fail(`element ${i}: ${x} clipped to ${after[i]}, expected ${want} in [${lo}, ${hi}]`);
        }
        expect(r.numClipped).toBe(moved);
        // the stage gives the same bits
        const again = makeGrads(spec);
        applyTransform(clipGradValue.transform(bound), again);
        expect(flat(again)).toEqual(after);
      }),
      runs(4200, 300),
    );
  });
});
