/**
 * @file Quick probe of the WebAssembly kernels (not a benchmark.js suite): GEMM GFLOP/s at
 * 64..1024 for wasm vs pure TS (plus transposed operands and the packing/copy overhead), and
 * GB/s of the sum of squares and clip-by-global-norm over 10 tensors / 10M floats for
 * wasm-resident buffers vs copying into wasm vs plain JS.
 *
 * Every number is the median (and best) of several timed rounds: the machine is noisy.
 *
 * @example
 * ```sh
 * npx tsx --conditions=source benchmarks/wasm-probe.ts            # everything
 * npx tsx --conditions=source benchmarks/wasm-probe.ts gemm 512    # GEMM at one size
 * node --experimental-wasm-relaxed-simd --import tsx --conditions=source benchmarks/wasm-probe.ts
 * ```
 */
import { gemmTs, gemmWasm, initWasmSync, wasmStatus, type GemmFn } from "@tapegrad/tensor";
import { GEMM_BLOCKING } from "../packages/tensor/src/wasm/gemm.js";
import { scratchInstance } from "../packages/tensor/src/wasm/runtime.js";
import { WasmHeap, type ResidentArray } from "../packages/tensor/src/wasm/resident.js";

const ROUNDS = 7;

/** Median and best of `ROUNDS` rounds of `fn` repeated for at least `ms` each; returns ms per call. */
function time(fn: () => void, ms = 150): { median: number; best: number } {
  fn();
  const per: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    let it = 0;
    do {
      fn();
      it++;
    } while (performance.now() - t0 < ms);
    per.push((performance.now() - t0) / it);
  }
  per.sort((a, b) => a - b);
  return { median: per[ROUNDS >> 1]!, best: per[0]! };
}

function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

const fmt = (x: number, d = 1) => x.toFixed(d).padStart(6);

function gemmRate(fn: GemmFn, n: number, layout: "NN" | "TN" | "NT", ms: number): { median: number; best: number } {
  const a = randomArray(n * n, 1), b = randomArray(n * n, 2), c = new Float32Array(n * n);
  const [ars, acs] = layout === "TN" ? [1, n] : [n, 1];
  const [brs, bcs] = layout === "NT" ? [1, n] : [n, 1];
  const t = time(() => fn(n, n, n, a, 0, ars, acs, b, 0, brs, bcs, c, 0, n, false), ms);
  const flop = 2 * n ** 3;
  return { median: flop / t.median / 1e6, best: flop / t.best / 1e6 };
}

/**
 * Share of an n³ wasm GEMM spent outside the macro-kernel (staging, packing, copying C back):
 * each round times the full call and the macro-kernel alone (same blocking, pre-packed data)
 * back to back; returns the median over rounds of `1 − kernel/total` and the kernel's GFLOP/s.
 */
function overhead(n: number): { share: number; kernelRate: number } {
  const { MR, NR, KC, MC, NB, MB } = GEMM_BLOCKING;
  const a = randomArray(n * n, 1), b = randomArray(n * n, 2), c = new Float32Array(n * n);
  const full = () => gemmWasm(n, n, n, a, 0, n, 1, b, 0, n, 1, c, 0, n, false);
  full();
  const inst = scratchInstance()!;
  const kc = Math.min(KC, n), mb = Math.min(MB, Math.ceil(n / MR) * MR), nb = Math.min(NB, Math.ceil(n / NR) * NR);
  const pa = 0, pb = Math.min(MC, mb) * kc * 4, pc = pb + kc * nb * 4;
  inst.ensure(pc + mb * nb * 4);
  const k = inst.exports.gemm_block;
  // The driver's loops without staging, packing or copies (operands already "packed").
  const kernel = () => {
    for (let i0 = 0; i0 < n; i0 += MB) {
      const rowsPad = Math.ceil(Math.min(MB, n - i0) / MR) * MR;
      for (let j0 = 0; j0 < n; j0 += NB) {
        const colsPad = Math.ceil(Math.min(NB, n - j0) / NR) * NR;
        for (let p0 = 0; p0 < n; p0 += KC) {
          const depth = Math.min(KC, n - p0);
          for (let ic = 0; ic < rowsPad; ic += MC) k(pa, pb, pc + ic * colsPad * 4, Math.min(MC, rowsPad - ic), colsPad, depth, colsPad * 4, p0 === 0 ? 1 : 0);
        }
      }
    }
  };
  const shares: number[] = [], rates: number[] = [];
  for (let r = 0; r < 3 * ROUNDS; r++) {
    const reps = Math.max(1, Math.round(2e7 / n ** 3));
    let t0 = performance.now();
    for (let i = 0; i < reps; i++) kernel();
    const tk = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < reps; i++) full();
    const tf = performance.now() - t0;
    shares.push(1 - tk / tf);
    rates.push((2 * n ** 3 * reps) / tk / 1e6);
  }
  shares.sort((x, y) => x - y);
  rates.sort((x, y) => x - y);
  return { share: shares[shares.length >> 1]!, kernelRate: rates[rates.length >> 1]! };
}

function probeGemm(sizes: number[]): void {
  console.log(`\nGEMM GFLOP/s, C = A·B, n×n×n, median (best) of ${ROUNDS} rounds`);
  console.log("     n |   wasm NN (best) | wasm TN | wasm NT | kernel only | pack+copy share | pure TS");
  for (const n of sizes) {
    const w = gemmRate(gemmWasm, n, "NN", 200);
    const tn = gemmRate(gemmWasm, n, "TN", 100);
    const nt = gemmRate(gemmWasm, n, "NT", 100);
    const o = overhead(n);
    const ts = n <= 512 ? gemmRate(gemmTs, n, "NN", 100).median : NaN;
    console.log(`${String(n).padStart(6)} | ${fmt(w.median)} (${fmt(w.best)}) | ${fmt(tn.median)}  | ${fmt(nt.median)}  | ${fmt(o.kernelRate)}      | ${fmt(100 * o.share)} %        | ${Number.isNaN(ts) ? "  (skipped)" : fmt(ts)}`);
  }
}

function probeReductions(): void {
  const sizes = Array.from({ length: 10 }, () => 1_000_000);
  const total = sizes.reduce((a, b) => a + b, 0);
  const bytes = total * 4;
  console.log(`\nSum of squares / clip-by-global-norm over 10 tensors, ${total / 1e6}M floats (${bytes / 1e6} MB)`);
  const heap = WasmHeap.create({ reserveBytes: bytes + 4096 })!;
  const resident: ResidentArray[] = sizes.map((n, i) => {
    const r = heap.alloc(n);
    r.data.set(randomArray(n, 10 + i));
    return r;
  });
  const plain = resident.map((r) => r.data.slice());
  const row = (label: string, t: { median: number; best: number }, traffic = bytes) =>
    console.log(`${label.padEnd(44)} ${fmt(t.median, 2)} ms (best ${fmt(t.best, 2)})  ${fmt(traffic / t.median / 1e6)} GB/s`);

  row("wasm sumsq, resident buffers", time(() => heap.sumOfSquares(resident)));
  const scratch = scratchInstance()!;
  row("copy into wasm + wasm sumsq", time(() => {
    const mem = scratch.ensure(1_000_000 * 4 + 64);
    let s = 0;
    for (const p of plain) {
      mem.set(p, 16);
      s += scratch.exports.sumsq(64, p.length);
    }
    return s;
  }));
  row("plain JS sumsq (float64 accumulator)", time(() => {
    let s = 0;
    for (const p of plain) for (let i = 0; i < p.length; i++) s += p[i]! * p[i]!;
    return s;
  }));
  row("plain JS sumsq (4 float64 accumulators)", time(() => {
    let s = 0;
    for (const p of plain) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = 0;
      for (; i + 4 <= p.length; i += 4) {
        s0 += p[i]! * p[i]!;
        s1 += p[i + 1]! * p[i + 1]!;
        s2 += p[i + 2]! * p[i + 2]!;
        s3 += p[i + 3]! * p[i + 3]!;
      }
      for (; i < p.length; i++) s0 += p[i]! * p[i]!;
      s += s0 + s1 + s2 + s3;
    }
    return s;
  }));
  // Clipping that always triggers: norm (read 40 MB) + scale (read and write 40 MB). Each call
  // clips to 0.999 × the current norm, so every call scales (values shrink by 0.1% per call,
  // far from denormals over a run).
  let target = 0.999 * Math.sqrt(heap.sumOfSquares(resident));
  row("clip (norm + scale), resident, wasm", time(() => {
    const before = heap.clipByGlobalNorm(resident, target);
    if (!(before > target)) throw new Error("internal: benchmark clip did not trigger");
    target *= 0.999;
  }), 3 * bytes);
  let targetJs = 0.999 * Math.sqrt(plain.reduce((acc, p) => acc + p.reduce((t, x) => t + x * x, 0), 0));
  row("clip (norm + scale), plain JS", time(() => {
    let s = 0;
    for (const p of plain) for (let i = 0; i < p.length; i++) s += p[i]! * p[i]!;
    const coef = targetJs / (Math.sqrt(s) + 1e-6);
    if (!(coef < 1)) throw new Error("internal: benchmark clip did not trigger");
    for (const p of plain) for (let i = 0; i < p.length; i++) p[i]! *= coef;
    targetJs *= 0.999;
  }), 3 * bytes);
}

const [what, size] = process.argv.slice(2);
console.log(`wasm: ${initWasmSync() ? "ready" : "unavailable"} ${JSON.stringify(wasmStatus())}`);
if (what !== "sumsq") probeGemm(size ? [Number(size)] : [64, 128, 256, 384, 512, 768, 1024]);
if (what !== "gemm") probeReductions();
