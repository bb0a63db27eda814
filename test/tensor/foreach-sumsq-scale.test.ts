/**
 * @file `foreachSumSquares` and `foreachScale` over lists of float32 arrays give the same bits
 * whichever way they run: the pure-TS set or the wasm set, arrays in persistent storage placed in
 * wasm memory or plain JS arrays (or both in one list); on data with NaN, ±Infinity, ±0,
 * subnormals and huge values. (`foreachMap`: foreach-map.test.ts; large lists on 2 threads:
 * foreach-threads.test.ts.)
 */
import { afterAll, describe, expect, it } from "vitest";
import { foreachScale, foreachSumSquares, jsKernels } from "@tapegrad/tensor";
import { SUMSQ_CHUNK } from "../../packages/tensor/src/kernels/vector.js";
import { PLACEMENTS, SETS, disposePlaced, expectSameBits, fround, onSet, release, store, values } from "../helpers/foreach.js";

afterAll(disposePlaced);

const SIZES = [0, 1, 7, 8, 9, 31, 33, 63, 64, 65, 4095, 4096, 4097, SUMSQ_CHUNK - 1, SUMSQ_CHUNK, SUMSQ_CHUNK + 1, 4 * SUMSQ_CHUNK + 5, 100_003];

describe("foreachSumSquares", () => {
  const xs = SIZES.map((n, i) => values(n, i));
  let ref = 0;
  for (const x of xs) for (let i = 0; i < x.length; i++) ref += x[i]! * x[i]!;
  const want = foreachSumSquares(xs);

  it("float64-grade accuracy (exact squares)", () => {
    expect(Math.abs(want - ref)).toBeLessThanOrEqual(1e-12 * ref);
    expect(foreachSumSquares([])).toBe(0);
    expect(foreachSumSquares([new Float32Array(0), new Float32Array(0)])).toBe(0);
    expect(foreachSumSquares([Float32Array.of(3), Float32Array.of(4)])).toBe(25);
  });

  for (const set of SETS) {
    for (const how of PLACEMENTS) {
      it(`${set.name} set, ${how} arrays: the same bits, for the list and for every array`, () => {
        onSet(set, () => {
          const stored = store(xs, how);
          expect(foreachSumSquares(stored)).toBe(want);
          for (let i = 0; i < xs.length; i++) expect(foreachSumSquares([stored[i]!]), `n=${xs[i]!.length}`).toBe(onSet(jsKernels, () => foreachSumSquares([xs[i]!])));
          release(stored);
        });
      });
    }
  }

  it("special values: NaN wins, ±Infinity gives Infinity, huge values do not overflow, subnormals count", () => {
    const big = fround(1e20) ** 2;
    const cases: [string, Float32Array, (s: number) => void][] = [
      ["1e20", Float32Array.of(1e20, 1e20), (s) => expect(s).toBe(2 * big)],
      ["±1e20 with tail", Float32Array.of(1e20, -1e20, 1e20, -1e20, 1e20, -1e20, 1e20, -1e20, 1e20), (s) => expect(s).toBe(9 * big)],
      ["max float32", Float32Array.of(3.4e38, -3.4e38), (s) => expect(s).toBe(2 * fround(3.4e38) ** 2)],
      ["NaN", Float32Array.of(1, NaN, 2), (s) => expect(s).toBeNaN()],
      ["NaN and Infinity", Float32Array.of(Infinity, NaN), (s) => expect(s).toBeNaN()],
      ["-Infinity", Float32Array.of(1, -Infinity, 2), (s) => expect(s).toBe(Infinity)],
      ["±0", Float32Array.of(0, -0, -0), (s) => expect(Object.is(s, 0)).toBe(true)],
      ["subnormals", Float32Array.of(1e-45, -3e-39, 1e-40), (s) => expect(s).toBe(fround(1e-45) ** 2 + fround(-3e-39) ** 2 + fround(1e-40) ** 2)],
    ];
    // long arrays with every kind of special value, NaN-free and with NaN
    const noNaN = values(3 * SUMSQ_CHUNK + 11, 5, true).map((v) => (Number.isNaN(v) || !Number.isFinite(v) ? 1e20 : v));
    cases.push(["long, huge and subnormal", noNaN, (s) => expect(Number.isFinite(s) && s > 1e76).toBe(true)]);
    cases.push(["long, all specials", values(3 * SUMSQ_CHUNK + 11, 6, true), (s) => expect(s).toBeNaN()]);
    const tiny = values(1000, 4, false, 1e-25); // float32 squares would underflow to 0
    let tinyRef = 0;
    for (const v of tiny) tinyRef += v * v;
    cases.push(["tiny", tiny, (s) => expect(Math.abs(s - tinyRef)).toBeLessThanOrEqual(1e-13 * tinyRef)]);
    for (const [label, x, check] of cases) {
      const results = SETS.flatMap((set) => PLACEMENTS.map((how) => onSet(set, () => foreachSumSquares(store([x, x], how)))));
      check(results[0]! / 2);
      for (const r of results) expect(Object.is(r, results[0]), `${label}: ${r} vs ${results[0]}`).toBe(true);
    }
  });
});

describe("foreachScale", () => {
  const FACTORS = [0.5, fround(0.3), 0.3, -3, 0, -0, 1e-30, 7.3e35, 1e-40, NaN, Infinity, -Infinity];
  const sizes = [0, 1, 3, 4, 5, 8, 17, 1000, 4095, 4096, 4099, SUMSQ_CHUNK + 3, 4 * SUMSQ_CHUNK + 5];

  for (const c of FACTORS) {
    it(`by ${Object.is(c, -0) ? "-0" : c}: fround(x·c) on every set and placement`, () => {
      const xs = sizes.map((n, i) => values(n, 100 + i, true));
      const ref = xs.map((x) => x.map((v) => fround(v * c)));
      for (const set of SETS) {
        for (const how of PLACEMENTS) {
          const stored = store(xs, how);
          onSet(set, () => foreachScale(stored, c));
          stored.forEach((x, i) => expectSameBits(x, ref[i]!, `${set.name} ${how} scale by ${c}, n=${x.length}`));
          release(stored);
        }
      }
    });
  }

  it("by 1 is skipped: the identity, NaN payloads and -0 included", () => {
    const x = Float32Array.of(NaN, -0, 1, -Infinity, 1e-45);
    new Uint32Array(x.buffer)[0] = 0x7fc00123; // a NaN with a payload
    for (const set of SETS) {
      for (const how of PLACEMENTS) {
        const [s] = store([x], how);
        onSet(set, () => foreachScale([s!], 1));
        expectSameBits(s!, x, `${set.name} ${how}`);
      }
    }
  });
});
