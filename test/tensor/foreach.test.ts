/**
 * @file The `foreach*` primitives over lists of float32 arrays — `foreachSumSquares`,
 * `foreachScale` and `foreachMap` with map kernels — give the same bits whichever way they run:
 * the pure-TS set or the wasm set, arrays in persistent storage placed in wasm memory or plain JS
 * arrays (or both in one list), 1 or 2 threads for large lists; on data with NaN, ±Infinity, ±0,
 * subnormals and huge values. `foreachMap` is checked against a direct per-element JS reference of
 * each kernel's formula (lengths 0..9 and 1000+ cover the SIMD tail), and its argument checks.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  Rng, allocate, dispose, foreachMap, foreachScale, foreachSumSquares, isInKernelMemory, jsKernels, mapKernel, numThreads, setNumThreads,
  threadsReady, useKernels, wasmKernels, wasmStatus, type Expr, type KernelSet, type MapKernel,
} from "@tapegrad/tensor";
import { SUMSQ_CHUNK } from "../../packages/tensor/src/kernels/vector.js";
import { mapModuleBytes } from "../../packages/tensor/src/wasm/map-emitter.js";
import { currentPool } from "../../packages/tensor/src/wasm/threads/pool.js";
import { VEC_THREAD_MIN } from "../../packages/tensor/src/wasm/vector.js";

const fround = Math.fround;
const wasmSet = wasmKernels();
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -3e-39, 1.1754942e-38, 3.4e38, 1e20, -1e20];
const placedArrays: Float32Array[] = [];

afterAll(() => {
  for (const x of placedArrays) dispose(x);
});

/** Runs `fn` with `set` pinned, then restores the previous selection. */
function onSet<T>(set: KernelSet, fn: () => T): T {
  const prev = useKernels(set);
  try {
    return fn();
  } finally {
    useKernels(prev);
  }
}

/** The kernel sets to compare: js always, wasm where available. */
const SETS: KernelSet[] = wasmSet ? [jsKernels, wasmSet] : [jsKernels];

/** Seeded values (scaled normals); with `special`, special values every 7th element. */
function values(n: number, seed: number, special = false, scale = 3): Float32Array {
  const rng = new Rng(seed), x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal() * scale;
  if (special) for (let i = 3, k = seed; i < n; i += 7, k++) x[i] = SPECIAL[k % SPECIAL.length]!;
  return x;
}

/**
 * A copy of `x` in persistent storage allocated with the wasm set (so placed in wasm memory); a
 * plain copy where wasm is unavailable.
 */
function placed(x: Float32Array): Float32Array {
  if (!wasmSet) return x.slice();
  const p = onSet(wasmSet, () => allocate(x.length, { persistent: true }));
  if (!isInKernelMemory(p)) expect.fail(`persistent storage of ${x.length} floats was not placed in wasm memory`);
  p.set(x);
  placedArrays.push(p);
  return p;
}

/** How arrays are stored for a run: all plain, all placed, or alternating. */
type Placement = "plain" | "placed" | "mixed";
const PLACEMENTS: Placement[] = wasmSet ? ["plain", "placed", "mixed"] : ["plain"];

function store(xs: readonly Float32Array[], how: Placement, salt = 0): Float32Array[] {
  return xs.map((x, i) => (how === "placed" || (how === "mixed" && (i + salt) % 2 === 0) ? placed(x) : x.slice()));
}

/** Releases the placed arrays of `xs` now (they are many and large in some tests). */
function release(xs: readonly Float32Array[]): void {
  for (const x of xs) {
    const i = placedArrays.indexOf(x);
    if (i >= 0) dispose(placedArrays.splice(i, 1)[0]!);
  }
}

const bitsOf = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/**
 * Asserts identical float32 bit patterns; with `anyNaN`, a NaN matches any NaN. Map kernels are
 * compared that way: the sign of a NaN can differ between paths (see "NaN bits" below).
 */
function expectSameBits(a: Float32Array, b: Float32Array, label: string, anyNaN = false): void {
  expect(a.length, `${label}: length`).toBe(b.length);
  const x = bitsOf(a), y = bitsOf(b);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i] && !(anyNaN && Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      expect.fail(`${label}: element ${i}: ${a[i]} (0x${x[i]!.toString(16)}) vs ${b[i]} (0x${y[i]!.toString(16)})`);
    }
  }
}

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

// ---------------------------------------------------------------------------------------------
// foreachMap: kernels and their per-element JS references

/**
 * A kernel with its scalars; `make(n, seed)`: one tuple of arrays; `ref(arrays, i, scalars)`: the
 * same formula for element `i`, in place (float64 math, stores rounded); `readOnly`: arrays the
 * kernel only reads (they must come back unchanged).
 */
interface MapCase {
  readonly kernel: MapKernel;
  readonly scalars: readonly number[];
  readonly make: (n: number, seed: number) => Float32Array[];
  readonly ref: (a: Float32Array[], i: number, s: readonly number[]) => void;
  readonly readOnly: readonly number[];
}

const sgdMomentum = mapKernel(
  "sgdMomentum",
  { arrays: ["p", "g", "b"], scalars: ["lr", "mu", "wd"] },
  ({ p, g, b }, { lr, mu, wd }) => {
    const g1 = g.add(wd.mul(p)).f32();
    const b1 = mu.mul(b).f32().add(g1).f32();
    return { b: b1, p: p.sub(lr.mul(b1)) };
  },
);

const adamLike = mapKernel(
  "adamLike",
  { arrays: ["p", "g", "m", "v", "vmax"], scalars: ["lr", "beta1", "beta2", "eps", "bc1", "bc2"] },
  ({ p, g, m, v, vmax }, { lr, beta1, beta2, eps, bc1, bc2 }) => {
    const m1 = beta1.mul(m).add(beta1.neg().add(1).mul(g)).f32(); // (1 − β1) is uniform: computed once per call
    const v1 = beta2.mul(v).add(beta2.neg().add(1).mul(g).mul(g)).f32();
    const vm = vmax.max(v1);
    const denom = vm.div(bc2).sqrt().add(eps);
    return { m: m1, v: v1, vmax: vm, p: p.sub(lr.mul(m1.div(bc1)).div(denom)) };
  },
);

const constants = mapKernel("constants", { arrays: ["x", "y", "z"], scalars: [] }, ({ x, y }) => ({
  y: x.mul(0.1).add(-0).max(-1e30).min(Infinity).add(y.abs().neg()),
  z: x.sub(0).mul(1e-40).div(3).add(0.1).f32().min(x.abs()),
}));

/** Only uniform values are stored: a scalar as it is, and a computed uniform. */
const uniformOnly = mapKernel("uniformOnly", { arrays: ["y", "z"], scalars: ["s"] }, (_, { s }) => ({ y: s, z: s.mul(0.1).sub(7) }));

/** Operations on float32 values only (the emitter may run them as f32x4 code), stored as they are. */
const float32Ops = mapKernel("float32Ops", { arrays: ["a", "b", "c", "d"], scalars: ["s"] }, ({ a, b, c, d }, { s }) => {
  const sum = a.add(b).f32();
  const q = a.mul(b).f32().div(c).f32();
  return { a: sum, b: q.sub(s).f32(), c: c.abs().sqrt().f32().neg(), d: a.min(b).abs().max(d.neg()) };
});

/** Reads x, never writes it. */
const axpy = mapKernel("axpy", { arrays: ["y", "x"], scalars: ["a"] }, ({ y, x }, { a }) => ({ y: y.add(a.mul(x)) }));

/** Every read before any write: both arrays read and written. */
const swapScaled = mapKernel("swapScaled", { arrays: ["a", "b"], scalars: ["c"] }, ({ a, b }, { c }) => ({ a: b.mul(c), b: a.min(b).abs() }));

const nonNeg = (x: Float32Array) => x.map((v) => Math.abs(v));

const MAP_CASES: MapCase[] = [
  {
    kernel: sgdMomentum,
    scalars: [0.01, 0.9, 1e-4],
    make: (n, s) => [values(n, s, true), values(n, s + 1, true), values(n, s + 2)],
    ref: ([p, g, b], i, [lr, mu, wd]) => {
      const g1 = fround(g![i]! + wd! * p![i]!);
      const b1 = fround(fround(mu! * b![i]!) + g1);
      b![i] = b1;
      p![i] = p![i]! - lr! * b1;
    },
    readOnly: [1],
  },
  {
    kernel: adamLike,
    scalars: [1e-3, 0.9, 0.999, 1e-8, 1 - 0.9 ** 3, 1 - 0.999 ** 3],
    make: (n, s) => [values(n, s, true), values(n, s + 1, true), values(n, s + 2, false, 0.1), nonNeg(values(n, s + 3, false, 0.01)), nonNeg(values(n, s + 4, true, 0.01))],
    ref: ([p, g, m, v, vmax], i, [lr, b1, b2, eps, bc1, bc2]) => {
      const gi = g![i]!;
      const m1 = fround(b1! * m![i]! + (-b1! + 1) * gi);
      const v1 = fround(b2! * v![i]! + (-b2! + 1) * gi * gi);
      const vm = Math.max(vmax![i]!, v1);
      const denom = Math.sqrt(vm / bc2!) + eps!;
      m![i] = m1;
      v![i] = v1;
      vmax![i] = vm;
      p![i] = p![i]! - (lr! * (m1 / bc1!)) / denom;
    },
    readOnly: [1],
  },
  {
    kernel: constants,
    scalars: [],
    make: (n, s) => [values(n, s, true), values(n, s + 1, true), values(n, s + 2)],
    ref: ([x, y, z], i) => {
      const xi = x![i]!, yi = y![i]!;
      y![i] = Math.min(Math.max(xi * 0.1 + -0, -1e30), Infinity) + -Math.abs(yi);
      z![i] = Math.min(fround(((xi - 0) * 1e-40) / 3 + 0.1), Math.abs(xi));
    },
    readOnly: [0],
  },
  {
    kernel: uniformOnly,
    scalars: [fround(2.5) + 1e-9],
    make: (n, s) => [values(n, s, true), values(n, s + 1)],
    ref: ([y, z], i, [s]) => void ((y![i] = s!), (z![i] = s! * 0.1 - 7)),
    readOnly: [],
  },
  {
    kernel: float32Ops,
    scalars: [fround(0.75)],
    make: (n, s) => [values(n, s, true), values(n, s + 1, true, 1e-38), values(n, s + 2, true), values(n, s + 3, true)],
    ref: ([a, b, c, d], i, [s]) => {
      const ai = a![i]!, bi = b![i]!, ci = c![i]!, di = d![i]!;
      const q = fround(fround(ai * bi) / ci);
      a![i] = fround(ai + bi);
      b![i] = fround(q - s!);
      c![i] = -fround(Math.sqrt(Math.abs(ci)));
      d![i] = Math.max(Math.abs(Math.min(ai, bi)), -di);
    },
    readOnly: [],
  },
  {
    kernel: axpy,
    scalars: [-0.37],
    make: (n, s) => [values(n, s, true), values(n, s + 1, true)],
    ref: ([y, x], i, [a]) => void (y![i] = y![i]! + a! * x![i]!),
    readOnly: [1],
  },
  {
    kernel: swapScaled,
    scalars: [-1.5],
    make: (n, s) => [values(n, s, true), values(n, s + 1, true)],
    ref: ([a, b], i, [c]) => {
      const ai = a![i]!, bi = b![i]!;
      a![i] = bi * c!;
      b![i] = Math.abs(Math.min(ai, bi));
    },
    readOnly: [],
  },
];

const MAP_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1000, 1003, 4099, 8197];

/** The reference result of `c` on tuples `tuples` (copies). */
function mapReference(c: MapCase, tuples: readonly Float32Array[][]): Float32Array[][] {
  return tuples.map((arrays) => {
    const out = arrays.map((x) => x.slice());
    for (let i = 0; i < out[0]!.length; i++) c.ref(out, i, c.scalars);
    return out;
  });
}

/** `lists[k][t]` from tuples `[t][k]`. */
const toLists = (tuples: readonly Float32Array[][], k: number) => Array.from({ length: k }, (_, j) => tuples.map((t) => t[j]!));

describe("foreachMap against a per-element JS reference", () => {
  for (const c of MAP_CASES) {
    it(`${c.kernel.name}: lengths 0..9 and 1000+, every set and placement, the reference's bits`, () => {
      const k = c.kernel.numArrays;
      const tuples = MAP_LENGTHS.map((n, t) => c.make(n, 1000 + 10 * t));
      const ref = mapReference(c, tuples);
      for (const set of SETS) {
        for (const how of PLACEMENTS) {
          // mixed: alternate per tuple, and within a tuple (some operands placed, some not)
          const stored = tuples.map((arrays, t) => store(arrays, how, t));
          onSet(set, () => foreachMap(c.kernel, toLists(stored, k), c.scalars));
          stored.forEach((arrays, t) =>
            arrays.forEach((x, j) => expectSameBits(x, ref[t]![j]!, `${c.kernel.name} ${set.name} ${how} n=${x.length} array ${j}`, true)),
          );
          for (const j of c.readOnly) stored.forEach((arrays, t) => expectSameBits(arrays[j]!, tuples[t]![j]!, `read-only array ${j} changed`));
          release(stored.flat());
        }
      }
    });
  }

  it("the same array as two operands of a tuple (y ← y + a·y)", () => {
    const x = values(1003, 9, true);
    const want = x.map((v) => v + -0.37 * v);
    for (const set of SETS) {
      for (const how of PLACEMENTS) {
        const [y] = store([x], how);
        onSet(set, () => foreachMap(axpy, [[y!], [y!]], [-0.37]));
        expectSameBits(y!, want, `${set.name} ${how}`, true);
      }
    }
  });

  // NaN bits: every op but max gives the interpreter's NaN bits in wasm (SIMD body and scalar
  // tail, float64 and float32 code paths) for one quiet NaN operand of either sign, with payloads.
  // Not asserted (reported to the lead): max, where V8's SIMD max returns +NaN and Math.max / f64.max
  // −NaN on x86; two NaN operands of different signs (which one survives depends on operand order,
  // which V8's JIT may swap for `x + y` and `x * y`); and signaling NaN inputs, which neg/abs pass
  // through unquieted in f32x4 code while reading a Float32Array into a JS number quiets them.
  const NAN_OPS: [string, (x: Expr, y: Expr) => Expr][] = [
    ["add", (x, y) => x.add(y)], ["sub", (x, y) => x.sub(y)], ["mul", (x, y) => x.mul(y)], ["div", (x, y) => x.div(y)],
    ["min", (x, y) => x.min(y)], ["neg", (x) => x.neg()], ["abs", (x) => x.abs()], ["sqrt", (x) => x.sqrt()], ["f32", (x) => x.f32()],
    ["float64 add", (x, y) => x.mul(1.5).add(y)], ["float32 min", (x, y) => x.add(1).f32().min(y)], ["neg of float64", (x) => x.mul(0.1).neg()],
    ["inf-inf", (_x, y) => y.mul(Infinity).sub(y.mul(Infinity))], ["0/0", (x) => x.mul(0).div(0)],
  ];
  it.runIf(wasmSet !== undefined).each(NAN_OPS)("NaN bits of %s: wasm equals the interpreter", (name, f) => {
    const k = mapKernel(`nan-${name}`, { arrays: ["z", "x", "y"], scalars: [] }, ({ x, y }) => ({ z: f(x, y) }));
    const nans = [0x7fc00000, 0xffc00000, 0x7fc00123, 0xffc00456], others = [1, -1, 0, -0, Infinity, -Infinity, 3e-39];
    const n = 2 * nans.length * others.length + 3; // every combination, a SIMD body and a scalar tail
    const x = new Float32Array(n), y = new Float32Array(n);
    const xb = bitsOf(x), yb = bitsOf(y);
    for (let i = 0; i < n; i++) {
      const nan = nans[Math.floor(i / 2) % nans.length]!, other = others[Math.floor(i / (2 * nans.length)) % others.length]!;
      if (i % 2 === 0) (xb[i] = nan), (y[i] = other);
      else (x[i] = other), (yb[i] = nan);
    }
    const results = SETS.flatMap((set) =>
      PLACEMENTS.map((how) => {
        const [z, xs, ys] = store([new Float32Array(n), x, y], how);
        onSet(set, () => foreachMap(k, [[z!], [xs!], [ys!]], []));
        return [`${set.name} ${how}`, z!] as const;
      }),
    );
    for (const [label, z] of results) expectSameBits(z, results[0]![1], `${name}: ${label} vs ${results[0]![0]}`);
  });

  it.runIf(wasmSet !== undefined)("the emitted modules validate for plain and shared memories", () => {
    for (const c of MAP_CASES) {
      for (const classes of ["U", "G"].map((c1) => c1.repeat(c.kernel.numArrays))) {
        expect(WebAssembly.validate(mapModuleBytes(c.kernel, classes, false)), `${c.kernel.name} ${classes}`).toBe(true);
        expect(WebAssembly.validate(mapModuleBytes(c.kernel, classes, true)), `${c.kernel.name} ${classes}`).toBe(true);
      }
    }
  });
});

describe("foreachMap and mapKernel argument checks", () => {
  const p = [new Float32Array(3), new Float32Array(2)], g = [new Float32Array(3), new Float32Array(2)], b = [new Float32Array(3), new Float32Array(2)];

  it("rejects lists and scalars that do not match the kernel, naming it, before writing anything", () => {
    const copies = () => [p, g, b].map((l) => l.map((x) => x.fill(1)));
    const check = (lists: Float32Array[][], scalars: number[], msg: RegExp) => {
      const arrays = copies();
      for (const set of SETS) {
        onSet(set, () => {
          expect(() => foreachMap(sgdMomentum, lists, scalars)).toThrow(RangeError);
          expect(() => foreachMap(sgdMomentum, lists, scalars)).toThrow(msg);
        });
      }
      for (const l of arrays) for (const x of l) expect(Array.from(x).every((v) => v === 1)).toBe(true);
    };
    check([p, g], [0.1, 0.9, 0], /^foreachMap\(sgdMomentum\): expected 3 lists of arrays \(got 2\)$/);
    check([p, g, b, b], [0.1, 0.9, 0], /expected 3 lists of arrays \(got 4\)/);
    check([p, g, b], [0.1, 0.9], /^foreachMap\(sgdMomentum\): expected 3 scalars \(got 2\)$/);
    check([p, g, [b[0]!]], [0.1, 0.9, 0], /^foreachMap\(sgdMomentum\): list 2 has 1 arrays for 2$/);
    check([p, [g[0]!, new Float32Array(5)], b], [0.1, 0.9, 0], /^foreachMap\(sgdMomentum\): array 1 of list 1 has 5 elements, expected 2$/);
  });

  it("no tuples: a no-op", () => {
    for (const set of SETS) onSet(set, () => foreachMap(sgdMomentum, [[], [], []], [0.1, 0.9, 0]));
  });

  it("mapKernel rejects unknown outputs and operands that are not expressions", () => {
    expect(() => mapKernel("bad", { arrays: ["x"], scalars: [] }, ({ x }) => ({ y: x }) as never)).toThrow(/mapKernel bad: "y" is not one of its arrays \(x\)/);
    expect(() => mapKernel("bad", { arrays: ["x"], scalars: [] }, () => ({ x: 1 as never }))).toThrow(/mapKernel bad: output "x" must be an Expr/);
    expect(() => mapKernel("bad", { arrays: ["x"], scalars: [] }, ({ x }) => ({ x: x.add("1" as never) }))).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Large lists on 2 threads

describe.runIf(wasmSet !== undefined && wasmStatus().shared)("large lists: 1 thread, 2 threads and the js set give the same bits", () => {
  const initialThreads = numThreads();
  afterAll(async () => {
    setNumThreads(initialThreads);
    if (initialThreads > 1) await threadsReady();
  });

  // Large enough for the pool: at least 2^18 floats and VEC_THREAD_MIN (the threshold) per list.
  const half = Math.max(1 << 17, VEC_THREAD_MIN / 2);
  const sizes = [half + 1, 17, SUMSQ_CHUNK * 5 + 3, half + 7];
  let inputs: Float32Array[][] | undefined; // made on first use (params and grads with special values)
  const lists = () => (inputs ??= [1, 10, 20, 30].map((seed, k) => sizes.map((n, i) => values(n, seed + i, k < 2))));

  /** Runs every primitive on fresh copies of the large lists, stored as `how` says. */
  function run(set: KernelSet, how: Placement) {
    const [ps, gs, bs, ys] = lists().map((xs, k) => store(xs, how, k)) as [Float32Array[], Float32Array[], Float32Array[], Float32Array[]];
    return onSet(set, () => {
      const hs = store(ys.map((y) => y.map((v) => v * 1e18)), how); // squares past float32's range
      const out = { sumsq: foreachSumSquares(gs), finite: foreachSumSquares(ys), huge: foreachSumSquares(hs), arrays: [] as Float32Array[] };
      release(hs);
      foreachScale(gs, fround(0.7));
      foreachScale(ys, 0.3);
      foreachMap(sgdMomentum, [ps, gs, bs], [0.01, 0.9, 1e-4]);
      foreachMap(axpy, [ys, bs], [-0.5]);
      out.arrays = [...ps, ...gs, ...bs, ...ys].map((x) => x.slice());
      release([...ps, ...gs, ...bs, ...ys]);
      return out;
    });
  }

  it("on placed arrays (the pool's path), plain arrays and the js set", async () => {
    setNumThreads(1);
    const one = run(wasmSet!, "placed");
    expect(one.sumsq).toBeNaN(); // the gradients hold NaN
    expect(Number.isFinite(one.finite)).toBe(true);
    expect(one.huge).toBeGreaterThan(1e40); // no overflow
    setNumThreads(2, { adaptive: false });
    expect(await threadsReady()).toBe(2);
    const runs = currentPool()!.runs;
    const two = run(wasmSet!, "placed");
    expect(currentPool()!.runs).toBeGreaterThanOrEqual(runs + 5); // the sums of squares and the scalings went to the pool
    const results = { two, twoMixed: run(wasmSet!, "mixed"), twoPlain: run(wasmSet!, "plain"), js: run(jsKernels, "plain") };
    for (const [label, r] of Object.entries(results)) {
      expect(Object.is(r.sumsq, one.sumsq), `${label} sumsq`).toBe(true);
      expect(r.finite, `${label} finite`).toBe(one.finite);
      expect(r.huge, `${label} huge`).toBe(one.huge);
      r.arrays.forEach((x, i) => expectSameBits(x, one.arrays[i]!, `${label} array ${i}`));
    }
  });
});
