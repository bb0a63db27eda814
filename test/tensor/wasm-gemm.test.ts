/**
 * @file The WebAssembly SIMD GEMM against a naive float64 reference: seeded random shapes
 * (odd sizes, tiles not filled, several K panels and N blocks), every operand layout
 * (row-major, transposed, strided, broadcast), offsets, `ldc > n`, accumulate on/off, k = 0,
 * operands and C in plain arrays or in persistent storage placed in wasm memory (read and written
 * in place, with guard elements around C), and batched use through the public `matmul` with the
 * wasm kernels active.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Rng, Tensor, allocate, dispose, gemmWasm, isInKernelMemory, kernels, matmul, randn, useKernels, wasmKernels, wasmStatus, zeros, type KernelSet,
} from "@tapegrad/tensor";
import { mainArena } from "../../packages/tensor/src/wasm/runtime.js";
import { fromTensor, refMatmul } from "../helpers/reference.js";

/** Error bound relative to Σ|a·b| (+|C₀|): float32 accumulation over K panels of 256. */
const REL = 4e-6;

type Layout = "rows" | "cols" | "strided" | "broadcast";

/** `len` floats in persistent storage (wasm memory: the wasm set is active) or in a plain array. */
const buffer = (len: number, placed: boolean) => (placed ? allocate(len, { persistent: true }) : new Float32Array(len));

/** An operand of logical shape r×c stored in `layout`, with a leading offset; returns data and strides. */
function operand(rng: Rng, r: number, c: number, layout: Layout, placed = false): { data: Float32Array; off: number; rs: number; cs: number } {
  const off = rng.int(0, 5);
  if (layout === "broadcast") {
    // every row is the same vector (row stride 0), as a broadcast view would be
    const data = buffer(off + c, placed);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    return { data, off, rs: 0, cs: 1 };
  }
  const [rs, cs] = layout === "rows" ? [c, 1] : layout === "cols" ? [1, r] : [2 * c + 1, 2];
  const data = buffer(off + Math.max(0, (r - 1) * rs + (c - 1) * cs + 1), placed);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, off, rs, cs };
}

function checkGemm(rng: Rng, m: number, n: number, k: number, la: Layout, lb: Layout, accumulate: boolean, placed = false): void {
  const A = operand(rng, m, k, la, placed);
  const B = operand(rng, k, n, lb, placed);
  const ldc = n + rng.int(0, 3);
  const cOff = rng.int(0, 4);
  const c = buffer(cOff + m * ldc + 2, placed);
  if (placed) for (const x of [A.data, B.data, c]) expect(isInKernelMemory(x)).toBe(true);
  for (let i = 0; i < c.length; i++) c[i] = rng.normal();
  const c0 = c.slice();
  gemmWasm(m, n, k, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, c, cOff, ldc, accumulate);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = accumulate ? c0[cOff + i * ldc + j]! : 0;
      let scale = Math.abs(s);
      for (let p = 0; p < k; p++) {
        const v = A.data[A.off + i * A.rs + p * A.cs]! * B.data[B.off + p * B.rs + j * B.cs]!;
        s += v;
        scale += Math.abs(v);
      }
      const err = Math.abs(c[cOff + i * ldc + j]! - s);
      worst = Math.max(worst, err / (scale || 1));
    }
  }
  const label = `m=${m} n=${n} k=${k} A=${la} B=${lb} acc=${accumulate} placed=${placed}`;
  expect(worst, label).toBeLessThanOrEqual(REL);
  // Nothing outside the m×n block of C may change (prefix, row gaps past n, suffix).
  for (let idx = 0; idx < c.length; idx++) {
    const r = Math.floor((idx - cOff) / ldc), col = (idx - cOff) % ldc;
    const inside = idx >= cOff && r < m && col < n;
    if (!inside && c[idx] !== c0[idx]) expect.fail(`${label}: wrote outside C at ${idx}`);
  }
  if (placed) for (const x of [A.data, B.data, c]) expect(dispose(x)).toBe(true);
}

describe.runIf(wasmKernels() !== undefined)("gemmWasm", () => {
  let prev: KernelSet | null = null;
  beforeAll(() => {
    prev = useKernels(wasmKernels()!);
  });
  afterAll(() => {
    useKernels(prev);
  });

  it("is active and initialised", () => {
    expect(kernels().name).toBe("wasm");
    expect(wasmStatus().ready).toBe(true);
  });

  const layouts: Layout[] = ["rows", "cols", "strided"];
  for (const la of layouts) {
    for (const lb of [...layouts, "broadcast" as const]) {
      it(`random shapes, A ${la}, B ${lb}`, () => {
        const rng = new Rng(1000 + la.length * 31 + lb.length);
        for (let t = 0; t < 24; t++) {
          const big = t % 6 === 0;
          const m = rng.int(1, big ? 140 : 40);
          const n = rng.int(1, big ? 140 : 40);
          const k = rng.int(1, big ? 600 : 70);
          checkGemm(rng, m, n, k, la, lb, t % 2 === 1);
        }
      });
    }
  }

  for (const la of layouts) {
    it(`operands and C in wasm memory (persistent storage, read and written in place), A ${la}`, () => {
      const probe = allocate(1, { persistent: true });
      expect(isInKernelMemory(probe)).toBe(true);
      dispose(probe);
      const rng = new Rng(77 + la.length);
      for (const lb of [...layouts, "broadcast" as const]) {
        for (let t = 0; t < 10; t++) {
          const big = t % 5 === 0;
          checkGemm(rng, rng.int(1, big ? 140 : 40), rng.int(1, big ? 600 : 40), rng.int(1, big ? 300 : 70), la, lb, t % 2 === 1, true);
        }
      }
    });
  }

  it("persistent (wasm-placed) operands and output give the same bits as plain copies of them", () => {
    const rng = new Rng(31);
    for (const [m, n, k] of [[37, 29, 41], [128, 256, 300], [5, 1030, 17], [131, 9, 600]]) {
      const a = randn([m!, k!], rng), b = randn([k!, n!], rng);
      const plain = matmul(a, b).data;
      const out = zeros([m!, n!], { persistent: true });
      const pa = a.clone({ persistent: true });
      const bT = b.mT.clone({ persistent: true }); // B stored transposed in wasm memory, read as bT.mT
      for (const t of [out, pa, bT]) expect(isInKernelMemory(t.data)).toBe(true);
      matmul(pa, bT.mT, out);
      expect(Array.from(out.data)).toEqual(Array.from(plain));
      expect(Array.from(matmul(pa, bT.mT).data)).toEqual(Array.from(plain)); // placed operands, plain output
      for (const t of [out, pa, bT]) t.dispose();
    }
  });

  it("sizes around the tile and block edges", () => {
    const rng = new Rng(5);
    for (const [m, n, k] of [[1, 1, 2048], [3, 7, 97], [4, 8, 64], [5, 9, 255], [97, 95, 256], [96, 1024, 3], [100, 9, 257], [7, 1030, 40], [1030, 9, 20], [64, 64, 513], [9, 17, 4500], [5, 40, 2049], [13, 9, 2300]]) {
      checkGemm(rng, m!, n!, k!, "rows", "rows", false);
      checkGemm(rng, m!, n!, k!, "cols", "cols", true);
      checkGemm(rng, m!, n!, k!, "strided", "rows", true);
      checkGemm(rng, m!, n!, k!, "rows", "cols", true, true);
    }
  });

  it("k = 0 zeroes C (or leaves it when accumulating); m = 0 or n = 0 is a no-op", () => {
    const c = new Float32Array(12).fill(7);
    gemmWasm(3, 4, 0, new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 4, 1, c, 0, 4, true);
    expect(Array.from(c)).toEqual(new Array(12).fill(7));
    gemmWasm(3, 4, 0, new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 4, 1, c, 0, 4, false);
    expect(Array.from(c)).toEqual(new Array(12).fill(0));
    const d = new Float32Array(4).fill(3);
    gemmWasm(0, 4, 50, new Float32Array(0), 0, 50, 1, new Float32Array(200), 0, 4, 1, d, 0, 4, false);
    gemmWasm(4, 0, 50, new Float32Array(200), 0, 50, 1, new Float32Array(0), 0, 0, 1, d, 0, 0, false);
    expect(Array.from(d)).toEqual([3, 3, 3, 3]);
  });

  it("NaN and Infinity stay in their own rows and columns (padding never leaks)", () => {
    const m = 13, n = 11, k = 40;
    const a = new Float32Array(m * k).fill(1), b = new Float32Array(k * n).fill(1);
    a[5 * k + 3] = NaN; // row 5
    b[7 * n + 9] = Infinity; // column 9
    const c = new Float32Array(m * n);
    gemmWasm(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const v = c[i * n + j]!;
        if (i === 5) expect(v).toBeNaN();
        else if (j === 9) expect(v).toBe(Infinity);
        else expect(v).toBe(k);
      }
    }
  });

  it("reuses its scratch memory across calls (no growth, no new blocks in steady state)", () => {
    const rng = new Rng(9);
    checkGemm(rng, 200, 300, 300, "rows", "rows", false);
    const arena = mainArena()!;
    const size = arena.byteLength, blocks = arena.blocks;
    for (let t = 0; t < 3; t++) checkGemm(rng, 200, 300, 300, "cols", "rows", true);
    expect(arena.byteLength).toBe(size);
    expect(arena.blocks).toBe(blocks);
  });

  it("public matmul: 2-D, transposed views, 1-D operands and broadcast batches", () => {
    const rng = new Rng(42);
    const cases: [Tensor, Tensor][] = [
      [randn([37, 29], rng), randn([29, 41], rng)],
      [randn([29, 37], rng).mT, randn([41, 29], rng).mT],
      [randn([3, 5, 37, 29], rng), randn([29, 41], rng)],
      [randn([2, 1, 19, 33], rng), randn([3, 1, 33, 21], rng).transpose(0, 1)],
      [randn([4, 64, 48], rng), randn([4, 40, 48], rng).mT],
      [randn([300], rng), randn([300, 17], rng)],
      [randn([17, 300], rng), randn([300], rng)],
      [randn([120, 260], rng).slice(1, 0, 260, 2), randn([130, 50], rng)],
    ];
    for (const [a, b] of cases) {
      const got = matmul(a, b);
      const ref = refMatmul(fromTensor(a), fromTensor(b));
      expect(got.shape).toEqual(ref.shape);
      const data = got.contiguous().data;
      for (let i = 0; i < ref.data.length; i++) {
        const err = Math.abs(data[i]! - ref.data[i]!) / (ref.scale[i]! || 1);
        if (err > REL) expect.fail(`matmul ${JSON.stringify(a.shape)}·${JSON.stringify(b.shape)}: element ${i} off by ${err}`);
      }
    }
  });
});
