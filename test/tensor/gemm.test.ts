/**
 * @file The pure TypeScript GEMM kernel (`gemmTs`) against a naive float64 reference: seeded
 * random shapes (odd sizes, k not a multiple of the tile, sizes that cross the MC/KC/NC blocks),
 * every operand layout the `GemmFn` contract allows (row-major, transposed, negative and zero
 * strides, offsets, ldc > n), overwrite and accumulate, and what must stay untouched.
 */
import { describe, expect, it } from "vitest";
import { Rng, gemmTs } from "@tapegrad/tensor";

/** A strided m×k (or k×n) operand over a buffer with junk around it. */
interface Operand {
  data: Float32Array;
  off: number;
  rs: number;
  cs: number;
}

type Layout = "row" | "col" | "negrow" | "negcol" | "padded" | "bcast";
const LAYOUTS: readonly Layout[] = ["row", "col", "negrow", "negcol", "padded", "bcast"];

/** Fills `rows × cols` values (uniform in [-1, 1), times `scale(i)` per row) in `layout`. */
function operand(
  rng: Rng, rows: number, cols: number, layout: Layout, scale: (i: number) => number = () => 1,
): Operand {
  const pad = 3;
  const ld = layout === "padded" ? cols + 5 : cols;
  const size = layout === "bcast" ? cols : layout === "col" || layout === "negcol" ? rows * cols : rows * ld;
  const data = new Float32Array(size + 2 * pad);
  for (let i = 0; i < data.length; i++) data[i] = 1e6 * (rng.random() - 0.5); // junk
  let op: Operand;
  switch (layout) {
    case "row": case "padded": op = { data, off: pad, rs: ld, cs: 1 }; break;
    case "col": op = { data, off: pad, rs: 1, cs: rows }; break;
    case "negrow": op = { data, off: pad + (rows - 1) * cols, rs: -cols, cs: 1 }; break;
    case "negcol": op = { data, off: pad + (cols - 1) * rows, rs: 1, cs: -rows }; break;
    case "bcast": op = { data, off: pad, rs: 0, cs: 1 }; break;
  }
  for (let i = 0; i < (layout === "bcast" ? 1 : rows); i++) {
    for (let j = 0; j < cols; j++) data[op.off + i * op.rs + j * op.cs] = (2 * rng.random() - 1) * scale(i);
  }
  return op;
}

const at = (x: Operand, i: number, j: number): number => x.data[x.off + i * x.rs + j * x.cs]!;

interface Case {
  m: number;
  n: number;
  k: number;
  a: Operand;
  b: Operand;
  accumulate: boolean;
}

/**
 * Runs gemmTs on a C with junk around and between rows, then checks every entry against the
 * float64 sum: |got - ref| <= 1e-6·(|c0| + Σ_p |a||b|), i.e. float32 rounding of the result and
 * of the per-K-panel partial sums, and that nothing outside C (nor A, B) changed.
 */
function check({ m, n, k, a, b, accumulate }: Case, rng: Rng): void {
  const strides = `a=${JSON.stringify([a.rs, a.cs])} b=${JSON.stringify([b.rs, b.cs])}`;
  const label = `m=${m} n=${n} k=${k} ${strides} acc=${accumulate}`;
  const cOff = 2, ldc = n + (m % 3);
  const c = new Float32Array(cOff + m * ldc + 4);
  for (let i = 0; i < c.length; i++) c[i] = rng.random() - 0.5;
  const c0 = c.slice(), a0 = a.data.slice(), b0 = b.data.slice();
  gemmTs(m, n, k, a.data, a.off, a.rs, a.cs, b.data, b.off, b.rs, b.cs, c, cOff, ldc, accumulate);
  const inC = (x: number): boolean => x >= cOff && x < cOff + m * ldc && (x - cOff) % ldc < n;
  for (let x = 0; x < c.length; x++) if (!inC(x) && !Object.is(c[x], c0[x])) expect.fail(`${label}: c[${x}] outside C changed`);
  for (let x = 0; x < a0.length; x++) if (!Object.is(a.data[x], a0[x])) expect.fail(`${label}: A changed`);
  for (let x = 0; x < b0.length; x++) if (!Object.is(b.data[x], b0[x])) expect.fail(`${label}: B changed`);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const init = accumulate ? c0[cOff + i * ldc + j]! : 0;
      let ref = init, mag = Math.abs(init);
      for (let p = 0; p < k; p++) {
        const t = at(a, i, p) * at(b, p, j);
        ref += t;
        mag += Math.abs(t);
      }
      const got = c[cOff + i * ldc + j]!;
      if (!(Math.abs(got - ref) <= 1e-6 * mag + 1e-30)) {
        expect.fail(`${label}: C[${i},${j}] = ${got}, want ${ref} (scale ${mag})`);
      }
    }
  }
}

function randomCase(rng: Rng, m: number, n: number, k: number): Case {
  const pick = (): Layout => LAYOUTS[rng.int(0, LAYOUTS.length)]!;
  return { m, n, k, a: operand(rng, m, k, pick()), b: operand(rng, k, n, pick()), accumulate: rng.random() < 0.5 };
}

describe("gemmTs against a float64 reference", () => {
  it("small and odd shapes, every layout, overwrite and accumulate", () => {
    const rng = new Rng(1);
    for (let t = 0; t < 300; t++) {
      check(randomCase(rng, rng.int(1, 24), rng.int(1, 24), rng.int(1, 40)), rng);
    }
  });

  it("shapes on the packed path, including edges of the 3×2 tile", () => {
    const rng = new Rng(2);
    for (let t = 0; t < 60; t++) {
      check(randomCase(rng, rng.int(2, 90), rng.int(4, 90), rng.int(4, 120)), rng);
    }
  });

  it("every layout pair on one odd packed shape", () => {
    const rng = new Rng(3);
    for (const la of LAYOUTS) {
      for (const lb of LAYOUTS) {
        for (const accumulate of [false, true]) {
          check({ m: 37, n: 29, k: 45, a: operand(rng, 37, 45, la), b: operand(rng, 45, 29, lb), accumulate }, rng);
        }
      }
    }
  });

  it("shapes crossing the MC (96), KC (256) and NC (512) blocks", () => {
    const rng = new Rng(4);
    const shapes: [number, number, number][] = [
      [65, 7, 257], [97, 515, 260], [130, 515, 9], [3, 514, 300], [129, 33, 513], [64, 512, 256], [67, 517, 259], [200, 9, 600],
    ];
    for (const [m, n, k] of shapes) check(randomCase(rng, m, n, k), rng);
  });

  it("thin (direct loops), shallow and tiny products", () => {
    const rng = new Rng(5);
    const shapes: [number, number, number][] = [
      [1, 1, 1], [1, 300, 70], [300, 1, 70], [1, 1, 1000], [50, 60, 1], [70, 80, 3], [2, 2, 2], [16, 16, 16],
    ];
    for (const [m, n, k] of shapes) check(randomCase(rng, m, n, k), rng);
  });

  it("k = 0 zeroes C unless accumulating; m = 0 or n = 0 writes nothing", () => {
    const c = new Float32Array([5, 5, 5, 5, 5, 5, 5]);
    gemmTs(2, 2, 0, new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 2, 1, c, 1, 3, true);
    expect(Array.from(c)).toEqual([5, 5, 5, 5, 5, 5, 5]);
    gemmTs(2, 2, 0, new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 2, 1, c, 1, 3, false);
    expect(Array.from(c)).toEqual([5, 0, 0, 5, 0, 0, 5]);
    gemmTs(0, 3, 4, new Float32Array(4), 0, 4, 1, new Float32Array(12), 0, 3, 1, c, 0, 3, false);
    gemmTs(3, 0, 4, new Float32Array(12), 0, 4, 1, new Float32Array(4), 0, 0, 1, c, 0, 0, false);
    expect(Array.from(c)).toEqual([5, 0, 0, 5, 0, 0, 5]);
  });

  it("sums each K panel in float64: 2^24 + 1 - 2^24 = 1 (float32 would give 0)", () => {
    const m = 8, n = 8, k = 130;
    const a = new Float32Array(m * k).fill(1);
    const b = new Float32Array(k * n);
    for (let j = 0; j < n; j++) {
      b[j] = 2 ** 24;
      b[n + j] = 1;
      b[129 * n + j] = -(2 ** 24);
    }
    const c = new Float32Array(m * n);
    gemmTs(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false);
    expect(Array.from(c)).toEqual(new Array(m * n).fill(1));
  });

  it("is accurate row by row when rows of A differ in scale by 1e4 (no normwise-only tricks)", () => {
    const rng = new Rng(6);
    const n = 512;
    const a = operand(rng, n, n, "row", (i) => (i < n / 2 ? 1e-4 : 1));
    const b = operand(rng, n, n, "row");
    const c = new Float32Array(n * n);
    gemmTs(n, n, n, a.data, a.off, a.rs, a.cs, b.data, b.off, b.rs, b.cs, c, 0, n, false);
    let worst = 0;
    const ref = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ref.fill(0);
      for (let p = 0; p < n; p++) {
        const av = at(a, i, p);
        for (let j = 0; j < n; j++) ref[j]! += av * at(b, p, j);
      }
      let err = 0, scale = 0;
      for (let j = 0; j < n; j++) {
        err = Math.max(err, Math.abs(c[i * n + j]! - ref[j]!));
        scale = Math.max(scale, Math.abs(ref[j]!));
      }
      worst = Math.max(worst, err / scale);
    }
    expect(worst).toBeLessThan(1e-6);
  });
});
