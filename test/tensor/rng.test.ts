/**
 * @file The seeded RNG (`Rng`, `rand`, `randn`, `randint`, `manualSeed`, `Rng.fillUniform`,
 * `Rng.fillNormal`): determinism, fixed-seed snapshots cross-checked against an independent BigInt
 * implementation of xoshiro128**, and distribution sanity checks. (The other creation functions:
 * create.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor, defaultRng, manualSeed, rand, randint, randn } from "@tapegrad/tensor";

/** Independent xoshiro128** (BigInt arithmetic) with the seeding the package documents. */
class RefXoshiro {
  private s: bigint[];
  constructor(seed: number) {
    const M = 0xffffffffn;
    let x = BigInt(seed) & M; // seeds here are small non-negative integers (hi word 0)
    const next = (): bigint => {
      x = (x + 0x9e3779b9n) & M;
      let z = x;
      z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M;
      z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M;
      return (z ^ (z >> 16n)) & M;
    };
    this.s = [next(), next(), next(), next()];
  }
  nextUint32(): number {
    const M = 0xffffffffn;
    const rotl = (v: bigint, k: bigint) => ((v << k) | (v >> (32n - k))) & M;
    const [s0, s1, s2, s3] = this.s as [bigint, bigint, bigint, bigint];
    const result = (rotl((s1 * 5n) & M, 7n) * 9n) & M;
    const t = (s1 << 9n) & M;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    this.s = [n0, n1, n2 ^ t, rotl(n3, 11n)];
    return Number(result);
  }
}

describe("Rng", () => {
  it("implements xoshiro128** exactly (checked against a BigInt implementation)", () => {
    for (const seed of [0, 1, 42, 123456, 4294967295]) {
      const a = new Rng(seed);
      const b = new RefXoshiro(seed);
      for (let i = 0; i < 1000; i++) expect(a.nextUint32(), `seed ${seed} draw ${i}`).toBe(b.nextUint32());
    }
  });

  it("matches a fixed-seed snapshot (platform-independence regression)", () => {
    const r = new Rng(0);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([
      3809008728, 1133695204, 53579671, 2891528803, 139681546,
    ]);
    const u = new Rng(42);
    expect([u.random(), u.random(), u.random(), u.random()]).toEqual([
      0.6606156826019287, 0.12688004970550537, 0.11170190572738647, 0.8149393796920776,
    ]);
    const g = new Rng(123);
    expect([g.normal(), g.normal(), g.normal(), g.normal()]).toEqual([
      1.673533527575862, -0.39129618901658536, 0.11294713813055852, -2.776713370343059,
    ]);
    expect(Array.from(randn([6], new Rng(42)).data)).toEqual([
      0.36039894819259644, -0.8372282385826111, -0.01350611262023449, 0.01095449086278677, 0.7639886736869812, -0.3512313663959503,
    ]);
    expect(Array.from(rand([4], new Rng(7)).data)).toEqual([0.23382771015167236, 0.5122323632240295, 0.4489145278930664, 0.1727151870727539]);
    expect(Array.from(randint(0, 10, [8], new Rng(3)).data)).toEqual([3, 9, 5, 5, 8, 8, 9, 9]);
  });

  it("normal() is Marsaglia's polar method on the documented uniforms (vs Math.log)", () => {
    const r = new Rng(5);
    const raw = new RefXoshiro(5);
    for (let i = 0; i < 200; ) {
      const u = raw.nextUint32() * 2 ** -31 - 1;
      const v = raw.nextUint32() * 2 ** -31 - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      expect(Math.abs(r.normal() - u * f)).toBeLessThan(1e-13);
      expect(Math.abs(r.normal() - v * f)).toBeLessThan(1e-13);
      i += 2;
    }
  });

  it("random() gives 24-bit floats in [0, 1) that are exact float32 values", () => {
    const r = new Rng(9);
    const ref = new RefXoshiro(9);
    for (let i = 0; i < 2000; i++) {
      const x = r.random();
      expect(x).toBe((ref.nextUint32() >>> 8) / 16777216);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      expect(Math.fround(x)).toBe(x);
    }
  });

  it("the same seed gives identical streams; different seeds differ", () => {
    const a = randn([50], new Rng(11)).toFloat32Array();
    const b = randn([50], new Rng(11)).toFloat32Array();
    const c = randn([50], new Rng(12)).toFloat32Array();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(new Rng(-5).nextUint32()).not.toBe(new Rng(5).nextUint32());
    expect(new Rng(2 ** 40 + 3).nextUint32()).not.toBe(new Rng(3).nextUint32());
    expect(new Rng(3.7).nextUint32()).toBe(new Rng(3).nextUint32());
  });

  it("seed() restarts the stream, including the cached normal", () => {
    const r = new Rng(1);
    const first = [r.normal(), r.normal(), r.normal()];
    r.seed(1);
    expect([r.normal(), r.normal(), r.normal()]).toEqual(first);
    r.normal(); // leaves a cached spare
    r.seed(1);
    expect(r.normal()).toBe(first[0]);
  });

  it("manualSeed reseeds the default generator", () => {
    manualSeed(2024);
    const a = randn([5]).toFloat32Array();
    const ua = rand([3]).toFloat32Array();
    manualSeed(2024);
    expect(Array.from(randn([5]).toFloat32Array())).toEqual(Array.from(a));
    expect(Array.from(rand([3]).toFloat32Array())).toEqual(Array.from(ua));
    defaultRng.seed(0);
  });

  it("rejects non-finite seeds", () => {
    expect(() => new Rng(NaN)).toThrow(/Rng: seed must be a finite number \(got NaN\)/);
    expect(() => new Rng(Infinity)).toThrow(TypeError);
  });

  it("int() is uniform, in range, and validates its bounds", () => {
    const r = new Rng(3);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70000; i++) {
      const v = r.int(-3, 4);
      expect(Number.isInteger(v)).toBe(true);
      counts[v + 3]!++;
    }
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500); // ~5 sigma
    expect(r.int(5, 6)).toBe(5);
    const big = r.int(0, 4294967296);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(4294967296);
    expect(() => r.int(3, 3)).toThrow(/Rng\.int: need integers low < high with high - low <= 2\^32 \(got 3, 3\)/);
    expect(() => r.int(0, 1.5)).toThrow(RangeError);
    expect(() => r.int(0, 2 ** 33)).toThrow(RangeError);
  });

  it("shuffle / permutation give permutations and are seeded", () => {
    const p = new Rng(4).permutation(20);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(Array.from(new Rng(4).permutation(20))).toEqual(Array.from(p));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(new Rng(1).permutation(0).length).toBe(0);
    const arr = [1, 2, 3, 4, 5];
    expect(new Rng(2).shuffle(arr)).toBe(arr);
    expect(arr.slice().sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it("fork() gives an independent, reproducible stream", () => {
    const a = new Rng(8);
    const c1 = a.fork();
    const b = new Rng(8);
    const c2 = b.fork();
    expect(c1.nextUint32()).toBe(c2.nextUint32());
    expect(a.nextUint32()).toBe(b.nextUint32());
    expect(new Rng(8).fork().nextUint32()).not.toBe(new Rng(8).nextUint32());
  });
});

describe("rand / randn / randint", () => {
  it("rand fills [low, high) with the right shape", () => {
    const t = rand([100, 10], new Rng(1), -2, 3);
    expect(t.shape).toEqual([100, 10]);
    const v = t.toFloat32Array();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThan(3);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.15);
    expect(rand([], new Rng(1)).shape).toEqual([]);
    expect(rand([0, 4], new Rng(1)).size).toBe(0);
  });

  it("randn has mean ~0 and std ~1 over 100k samples, and honours mean/std", () => {
    const v = randn([100000], new Rng(2024)).toFloat32Array();
    let s = 0;
    for (const x of v) s += x;
    const mu = s / v.length;
    let q = 0;
    let k4 = 0;
    for (const x of v) {
      q += (x - mu) ** 2;
      k4 += (x - mu) ** 4;
    }
    const sd = Math.sqrt(q / (v.length - 1));
    expect(Math.abs(mu)).toBeLessThan(0.015); // std error 0.0032
    expect(Math.abs(sd - 1)).toBeLessThan(0.01);
    expect(Math.abs(k4 / v.length / sd ** 4 - 3)).toBeLessThan(0.1); // Gaussian kurtosis
    let within1 = 0;
    for (const x of v) if (Math.abs(x - mu) < sd) within1++;
    expect(Math.abs(within1 / v.length - 0.6827)).toBeLessThan(0.01);
    const w = randn([20000], new Rng(3), 5, 0.5).toFloat32Array();
    const wm = w.reduce((a, b) => a + b, 0) / w.length;
    expect(Math.abs(wm - 5)).toBeLessThan(0.02);
  });

  it("randint gives integers in [low, high) covering the range", () => {
    const t = randint(-2, 3, [1000], new Rng(5));
    const v = Array.from(t.toFloat32Array());
    expect(v.every((x) => Number.isInteger(x) && x >= -2 && x < 3)).toBe(true);
    expect(new Set(v).size).toBe(5);
    expect(() => randint(3, 3, [2])).toThrow(/randint: need integers low < high \(got 3, 3\)/);
    expect(() => randint(0, 2.5, [2])).toThrow(RangeError);
    expect(() => randint(0, 2, [-1])).toThrow(/randint: sizes must be non-negative integers \(got \[-1\]\)/);
  });

  it("random fills reject bad shapes with their own names", () => {
    expect(() => rand([NaN])).toThrow(/rand: sizes must be non-negative integers \(got \[NaN\]\)/);
    expect(() => randn([2, 0.5])).toThrow(/randn: sizes must be non-negative integers \(got \[2,0\.5\]\)/);
  });

  it("consumes the generator so consecutive calls differ", () => {
    const r = new Rng(6);
    const a = randn([4], r).toFloat32Array();
    const b = randn([4], r).toFloat32Array();
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(randn([3], r)).toBeInstanceOf(Tensor);
  });
});

describe("Rng.fillUniform", () => {
  it("gives the sequence of random() and leaves the generator where random() would", () => {
    const a = new Rng(42), b = new Rng(42);
    const filled = a.fillUniform(new Float32Array(1001));
    for (let i = 0; i < filled.length; i++) expect(filled[i]).toBe(b.random());
    expect(a.random()).toBe(b.random());
    expect(a.nextUint32()).toBe(b.nextUint32());
  });
});

describe("Rng.fillNormal", () => {
  it("is N(0, std²): mean, std, tails and neighbour correlation on 2^18 samples; seeded and reproducible", () => {
    const K = 1 << 18, std = 0.5;
    const z = new Rng(3).fillNormal(new Float32Array(K), std);
    let s = 0, s2 = 0, c = 0, beyond2 = 0;
    for (let i = 0; i < K; i++) (s += z[i]!), (s2 += z[i]! * z[i]!), (beyond2 += Math.abs(z[i]!) > 2 * std ? 1 : 0);
    const mean = s / K, sd = Math.sqrt(s2 / K - mean * mean);
    for (let i = 0; i + 1 < K; i++) c += (z[i]! - mean) * (z[i + 1]! - mean);
    expect(Math.abs(mean)).toBeLessThan((5 * std) / Math.sqrt(K));
    expect(Math.abs(sd / std - 1)).toBeLessThan(5 / Math.sqrt(2 * K));
    expect(Math.abs(c / (K - 1) / (sd * sd))).toBeLessThan(5 / Math.sqrt(K));
    expect(Math.abs(beyond2 / K - 0.0455)).toBeLessThan(0.002); // P(|z| > 2σ) = 4.55 %
    expect(Array.from(new Rng(3).fillNormal(new Float32Array(9), std))).toEqual(Array.from(z.subarray(0, 9)));
    expect(Array.from(new Rng(4).fillNormal(new Float32Array(9), std))).not.toEqual(Array.from(z.subarray(0, 9)));
  });

  it("fills odd lengths and rejects a non-finite std", () => {
    const z = new Rng(1).fillNormal(new Float32Array(7));
    expect(z.every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
    expect(() => new Rng(1).fillNormal(new Float32Array(2), NaN)).toThrow(/Rng.fillNormal: std must be a finite number \(got NaN\)/);
  });
});
