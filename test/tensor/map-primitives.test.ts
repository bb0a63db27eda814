/**
 * @file The map language's float32 primitives (`nearest floor ceil trunc copysign scalbn exponent
 * mantissa pow2`, conditions `gt ge lt le eq ne and or`) against their definitions, on every backend
 * (interpreter, compiled JS loop, wasm in place and staged, vector body and scalar tail), with
 * special values: ±0, ±Infinity, NaN, denormals, ties, overflow and underflow of `scalbn`.
 */
import { describe, expect, it } from "vitest";
import { allocate, mapKernel, wasmKernels, type Expr, type MapKernel } from "@tapegrad/tensor";
import { interpretBlock } from "../../packages/tensor/src/map/interpret.js";
import { jitBlock } from "../../packages/tensor/src/map/jit.js";

const wasm = wasmKernels();
const F = new Float32Array(1), I = new Int32Array(F.buffer);
const bits = (x: number) => ((F[0] = x), I[0]!);
const fromBits = (b: number) => ((I[0] = b), F[0]!);
const sameBits = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

const X = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 0.49999997, 1e-45, -1e-45, 1.1754942e-38, 1.17549435e-38, 3.4028235e38, -3.4028235e38,
  Infinity, -Infinity, NaN, 7.25, -7.75, 123456.5, 8388609, 16777217, 0.1, -0.3, 2 ** -130, 1.9999999, 100.5];
const N = [0, 1, -1, 3, -3, 127, 128, -126, -127, -149, -150, 200, -200, 254, 255, -252, -260, 1e9, -1e9, NaN, 2.7, -2.7, 63, -77, 5, -5, 30, -30, 10, 12];

const exactScalbn = (x: number, n: number) => {
  let k = Math.trunc(Math.fround(n));
  k = Number.isNaN(k) ? 0 : Math.min(254, Math.max(-252, k));
  const k1 = Math.floor(k / 2);
  return Math.fround(Math.fround(Math.fround(x) * 2 ** k1) * 2 ** (k - k1));
};
const roundHalfEven = (x: number) => {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

const CASES: [string, (x: Expr, n: Expr) => Expr, (x: number, n: number) => number][] = [
  ["nearest", (x) => x.nearest(), (x) => roundHalfEven(x)],
  ["floor", (x) => x.floor(), Math.floor],
  ["ceil", (x) => x.ceil(), Math.ceil],
  ["trunc", (x) => x.trunc(), Math.trunc],
  ["copysign", (x, n) => x.copysign(n), (x, n) => (Number.isNaN(n) ? Math.abs(x) : (n < 0 || Object.is(n, -0) ? -1 : 1) * Math.abs(x))],
  ["scalbn", (x, n) => x.scalbn(n), exactScalbn],
  ["exponent", (x) => x.exponent(), (x) => ((bits(x) >>> 23) & 255) - 127],
  ["mantissa", (x) => x.mantissa(), (x) => fromBits((bits(x) & 0x807fffff) | 0x3f800000)],
  // 2ⁿ for integral n in [−126, 127]; elsewhere the bits of fround(n + 0x1.8p23 + 127) shifted left by 23
  ["pow2", (_x, n) => n.pow2(), (_x, n) => {
    if (Number.isInteger(n) && n >= -126 && n <= 127) return 2 ** n;
    return fromBits(bits(Math.fround(n) + 12583039) << 23);
  }],
  ["pow2 of integers in range", (x) => x.exponent().max(-126).min(127).pow2(), (x) => 2 ** Math.max(-126, Math.min(127, ((bits(x) >>> 23) & 255) - 127))],
  ["exp2i", (x) => x.exp2i().mul(0.75), (x) => 0.75 * 2 ** roundHalfEven(Number.isNaN(x) ? 0 : Math.min(1023, Math.max(-1022, x)))],
  ["gt/ge/lt/le/eq/ne", (x, n) => x.gt(n).select(1, 0).add(x.ge(n).select(2, 0)).add(x.lt(n).select(4, 0)).add(x.le(n).select(8, 0)).add(x.eq(n).select(16, 0)).add(x.ne(n).select(32, 0)),
    (x, n) => (x > n ? 1 : 0) + (x >= n ? 2 : 0) + (x < n ? 4 : 0) + (x <= n ? 8 : 0) + (x === n ? 16 : 0) + (x !== n ? 32 : 0)],
  ["and/or", (x, n) => x.gt(0).and(n.gt(0)).select(1, 0).add(x.gt(0).or(n.gt(0)).select(2, 0)), (x, n) => (x > 0 && n > 0 ? 1 : 0) + (x > 0 || n > 0 ? 2 : 0)],
  ["select of float64 values", (x, n) => x.gt(n).select(x.mul(0.1), n.div(3)), (x, n) => Math.fround(x > n ? x * 0.1 : n / 3)],
];

type Runner = (k: MapKernel, a: Float32Array[], o: number[], s: number[], r: number[], n: number, m: number, sc: number[]) => void;
const RUNNERS: [string, Runner, boolean][] = [
  ["interpreter", interpretBlock, false],
  ["js loop", (k, a, o, s, r, n, m, sc) => void jitBlock(k, a, o, s, r, n, m, sc), false],
  ...(wasm ? ([["wasm staged", wasm.mapBlock, false], ["wasm in place", wasm.mapBlock, true]] as [string, Runner, boolean][]) : []),
];

describe("map-language primitives match their definitions on every backend", () => {
  for (const [name, body, ref] of CASES) {
    it(name, () => {
      const k = mapKernel(`prim-${name}`, { arrays: ["o", "x", "n"], scalars: [] }, ({ x, n }) => ({ o: body(x, n) }));
      // every x with every n: rows of 30 (7 vectors and a tail of 2)
      const xs = Float32Array.from(X.flatMap((x) => N.map(() => x))), ns = Float32Array.from(X.flatMap(() => N));
      for (const [label, runner, placed] of RUNNERS) {
        const put = (src: Float32Array) => {
          const a = allocate(src.length, { persistent: placed });
          a.set(src);
          return a;
        };
        const o = put(new Float32Array(xs.length)), x = put(xs), n = put(ns);
        runner(k, [o, x, n], [0, 0, 0], [1, 1, 1], [N.length, N.length, N.length], N.length, X.length, []);
        for (let i = 0; i < xs.length; i++) {
          const want = Math.fround(ref(xs[i]!, ns[i]!));
          if (!sameBits(o[i]!, want)) expect.fail(`${name} (${label}) x=${xs[i]} n=${ns[i]}: got ${o[i]}, expected ${want}`);
        }
      }
    });
  }
});
