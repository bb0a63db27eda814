/**
 * @file Property tests of the broadcasting algebra (packages/tensor, autograd's `sumToShape`):
 * - `broadcastShapes` agrees with an independent NumPy-rule oracle, is commutative and
 *   associative, and the n-ary form equals folding the binary one (throwing on exactly the same
 *   inputs);
 * - `add(a, b)` is bit-identical to `add(broadcastTo(a, s), broadcastTo(b, s))`, on contiguous
 *   and strided operands;
 * - broadcasting `x` to `s` and summing back to `x.shape` (`sumToShape`) gives exactly
 *   `x · (size(s) / size(x))` (the partial sums j·x are exact in float64, so this is bit-exact);
 * - shapes that do not broadcast make every broadcasting op throw a `ShapeError` naming the op.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ShapeError, add, broadcastShapes, div, maximum, minimum, mul, sub, where, type Tensor } from "@tapegrad/tensor";
import * as AG from "@tapegrad/autograd";
import { broadcastShape, sizeOf } from "../helpers/reference.js";
import { broadcastFamilyArb, makeInput, runs, seedArb, shapeArb } from "./arbitraries.js";

/** Small dims in {1, 2, 3}, so random pairs are often incompatible and often compatible. */
const looseShape = shapeArb(0, 4, 3);

/** `broadcastShapes` as a value: the shape, or "throws" (checking the error names the op). */
function bs(...shapes: number[][]): number[] | "throws" {
  try {
    return broadcastShapes("prop", ...shapes);
  } catch (e) {
    expect(e).toBeInstanceOf(ShapeError);
    expect((e as ShapeError).op).toBe("prop");
    return "throws";
  }
}

function bits(t: Tensor): Uint32Array {
  return new Uint32Array(t.contiguous().toFloat32Array().slice().buffer);
}

describe("broadcastShapes algebra", () => {
  it("matches the NumPy-rule oracle and is commutative", () => {
    fc.assert(
      fc.property(looseShape, looseShape, (a, b) => {
        const want = broadcastShape(a, b);
        expect(bs(a, b)).toEqual(want ?? "throws");
        expect(bs(b, a)).toEqual(bs(a, b));
      }),
      runs(1701, 400),
    );
  });
  it("is associative, and the n-ary form equals the folded binary form", () => {
    fc.assert(
      fc.property(looseShape, looseShape, looseShape, (a, b, c) => {
        const ab = bs(a, b);
        const bc = bs(b, c);
        const left = ab === "throws" ? "throws" : bs(ab, c);
        const right = bc === "throws" ? "throws" : bs(a, bc);
        expect(left).toEqual(right);
        expect(bs(a, b, c)).toEqual(left);
      }),
      runs(1702, 400),
    );
  });
  it("a family built from a target broadcasts to (at most) that target, and exactly with the target itself", () => {
    fc.assert(
      fc.property(broadcastFamilyArb(3, 5, 4, 0), ({ target, shapes }) => {
        const got = broadcastShapes("prop", ...shapes);
        expect(got.length).toBeLessThanOrEqual(target.length);
        expect(broadcastShapes("prop", target, ...shapes)).toEqual(target);
      }),
      runs(1703, 300),
    );
  });
});

describe("broadcasting ops", () => {
  it("add(a, b) is bit-identical to add(broadcastTo(a, s), broadcastTo(b, s)) (contiguous and strided)", () => {
    fc.assert(
      fc.property(broadcastFamilyArb(2, 4, 4, 0), seedArb, fc.boolean(), fc.boolean(), ({ target, shapes: [sa, sb] }, seed, stA, stB) => {
        const a = makeInput(sa!, seed, stA);
        const b = makeInput(sb!, seed + 1, stB);
        const s = broadcastShapes("prop", sa!, sb!);
        const direct = add(a, b);
        const expanded = add(a.broadcastTo(s), b.broadcastTo(s));
        expect(direct.shape).toEqual(s);
        expect(expanded.shape).toEqual(s);
        expect(bits(direct)).toEqual(bits(expanded));
        // and against the target: broadcasting both to the family's target also agrees
        const full = add(a.broadcastTo(target), b.broadcastTo(target));
        expect(bits(full)).toEqual(bits(add(direct.broadcastTo(target), 0)));
      }),
      runs(1704, 200),
    );
  });
  it("sumToShape(broadcastTo(x, s), x.shape) equals x times the replication count, bit for bit", () => {
    fc.assert(
      fc.property(broadcastFamilyArb(1, 5, 4), seedArb, fc.boolean(), ({ target, shapes: [sx] }, seed, strided) => {
        const x = makeInput(sx!, seed, strided);
        const reps = sizeOf(target) / sizeOf(sx!);
        const back = AG.sumToShape(x.broadcastTo(target), sx!);
        expect(back.shape).toEqual(sx);
        expect(bits(back)).toEqual(bits(mul(x, reps)));
      }),
      runs(1705, 200),
    );
  });
  it("the autograd gradient of broadcastTo is the same replication sum", () => {
    fc.assert(
      fc.property(broadcastFamilyArb(1, 4, 3), seedArb, ({ target, shapes: [sx] }, seed) => {
        const x = AG.variable(makeInput(sx!, seed, false));
        const [g] = AG.gradients(AG.sum(AG.broadcastTo(x, target)), [x]);
        const reps = sizeOf(target) / sizeOf(sx!);
        expect(Array.from(g!.toFloat32Array())).toEqual(new Array(sizeOf(sx!)).fill(reps));
      }),
      runs(1706, 100),
    );
  });
});

/** Two shapes that do not broadcast: equal except one aligned axis with distinct sizes > 1. */
const incompatibleArb = fc
  .tuple(shapeArb(1, 4, 3), fc.nat(), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }))
  .map(([base, k, d, delta, drop]) => {
    const axis = k % base.length;
    const a = base.slice();
    const b = base.slice();
    a[axis] = d;
    b[axis] = d + delta;
    // b may drop leading dims before the conflicting axis (still right-aligned on it)
    return { a, b: b.slice(Math.min(drop, axis)) };
  });

const TENSOR_OPS: [string, (a: Tensor, b: Tensor) => unknown][] = [
  ["add", add], ["sub", sub], ["mul", mul], ["div", div], ["maximum", maximum], ["minimum", minimum],
];

describe("incompatible shapes", () => {
  it("every broadcasting tensor op throws a ShapeError naming the op", () => {
    fc.assert(
      fc.property(incompatibleArb, fc.constantFrom(...TENSOR_OPS), fc.boolean(), ({ a, b }, [name, f], swap) => {
        const [x, y] = swap ? [makeInput(b, 1, false), makeInput(a, 2, false)] : [makeInput(a, 1, false), makeInput(b, 2, false)];
        let err: unknown;
        try {
          f(x, y);
        } catch (e) {
          err = e;
        }
        expect(err, `${name}(${JSON.stringify(x.shape)}, ${JSON.stringify(y.shape)}) did not throw`).toBeInstanceOf(ShapeError);
        expect((err as ShapeError).op).toBe(name);
        expect((err as ShapeError).message.startsWith(`${name}:`)).toBe(true);
      }),
      runs(1707, 200),
    );
  });
  it("where, broadcastTo and the autograd ops name themselves too", () => {
    fc.assert(
      fc.property(incompatibleArb, ({ a, b }) => {
        const x = makeInput(a, 1, false);
        const y = makeInput(b, 2, false);
        const cases: [string, () => unknown][] = [
          ["where", () => where(makeInput(a, 3, false), x, y)],
          ["add", () => AG.add(AG.variable(x), AG.variable(y))],
          ["mul", () => AG.mul(AG.variable(x), y)],
        ];
        for (const [name, f] of cases) {
          let err: unknown;
          try {
            f();
          } catch (e) {
            err = e;
          }
          expect(err, `${name} did not throw`).toBeInstanceOf(ShapeError);
          expect((err as ShapeError).op, String(err)).toBe(name);
        }
        let err: unknown;
        try {
          x.broadcastTo(b);
        } catch (e) {
          err = e;
        }
        // broadcasting a to b is impossible whenever a's conflicting axis is not 1
        expect(err).toBeInstanceOf(ShapeError);
        expect((err as ShapeError).message).toMatch(/^broadcastTo:/);
      }),
      runs(1708, 100),
    );
  });
});
