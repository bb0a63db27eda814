/**
 * @file Quick probe of the WebAssembly kernels (not a benchmark.js suite): GEMM GFLOP/s at
 * 64..1024 on 1 and 2 threads, with operands in plain JS arrays (copied in and out per call) and
 * in persistent storage, i.e. wasm memory (read and written in place); the MLP step's matmul
 * shapes; the pool's hand-off latency; sum of squares / norm-and-scale over 10 tensors / 10M
 * floats, persistent vs plain JS, on 1 and 2 threads; and the whole MLP step through nn/optim on
 * 1 and 2 threads.
 *
 * Every number is the median (and best) of several timed rounds: the machine is noisy, so the
 * load average is printed before and after.
 *
 * @example
 * ```sh
 * npx tsx --conditions=source benchmarks/wasm-probe.ts            # everything
 * npx tsx --conditions=source benchmarks/wasm-probe.ts gemm 512    # GEMM at one size
 * npx tsx --conditions=source benchmarks/wasm-probe.ts mlp | clip | latency | step
 * node --experimental-wasm-relaxed-simd --import tsx --conditions=source benchmarks/wasm-probe.ts
 * ```
 */
import { loadavg } from "node:os";
import * as A from "@tapegrad/autograd";
import { Linear, ReLU, Sequential } from "@tapegrad/nn";
import { SGD, clipGradNorm } from "@tapegrad/optim";
import {
  Rng, allocate, dispose, foreachScale, foreachSumSquares, gemmTs, gemmWasmOn, initWasmSync, randn, setNumThreads, threadsReady, wasmStatus,
} from "@tapegrad/tensor";

const ROUNDS = 9;

/** `n` floats in persistent storage (wasm memory with the wasm kernels). */
const heapAlloc = (n: number) => allocate(n, { persistent: true });
const heapFree = (x: Float32Array) => void dispose(x);

/** Clip by global norm with the generic primitives (norm, then scale); returns the norm before. */
function clipByNorm(xs: readonly Float32Array[], maxNorm: number): number {
  const norm = Math.sqrt(foreachSumSquares(xs));
  const coef = Math.fround(maxNorm / (norm + 1e-6));
  if (coef < 1) foreachScale(xs, coef);
  return norm;
}

/**
 * Median and best of `ROUNDS` rounds of `fn` repeated for at least `ms` each; returns ms per call,
 * and `cpu`: process CPU time (all threads, user + system) per call in ms over all rounds — on a
 * shared machine wall time includes waiting for a core, CPU time does not.
 */
function time(fn: () => void, ms = 150): { median: number; best: number; cpu: number } {
  fn();
  const per: number[] = [];
  const c0 = process.cpuUsage();
  let calls = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    let it = 0;
    do {
      fn();
      it++;
    } while (performance.now() - t0 < ms);
    per.push((performance.now() - t0) / it);
    calls += it;
  }
  const c = process.cpuUsage(c0);
  per.sort((a, b) => a - b);
  return { median: per[ROUNDS >> 1]!, best: per[0]!, cpu: (c.user + c.system) / 1000 / calls };
}

function fillRandom(out: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

const fmt = (x: number, d = 1) => x.toFixed(d).padStart(6);
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

/** GFLOP/s (median, best; per CPU-second) of an m×k·k×n product on `threads`, operands in the heap or not. */
function gemmRate(m: number, n: number, k: number, threads: number, heap: boolean, ms: number): { median: number; best: number; perCpu: number } {
  const alloc = (len: number, seed: number) => fillRandom(heap ? heapAlloc(len) : new Float32Array(len), seed);
  const a = alloc(m * k, 1), b = alloc(k * n, 2), c = alloc(m * n, 3);
  const t = time(() => gemmWasmOn(threads, m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false), ms);
  if (heap) for (const x of [a, b, c]) heapFree(x);
  const flop = 2 * m * n * k;
  return { median: flop / t.median / 1e6, best: flop / t.best / 1e6, perCpu: flop / t.cpu / 1e6 };
}

/** GFLOP/s (median) of the pure TS GEMM at n³. */
function tsRate(n: number): number {
  const a = fillRandom(new Float32Array(n * n), 1), b = fillRandom(new Float32Array(n * n), 2), c = new Float32Array(n * n);
  return (2 * n ** 3) / time(() => gemmTs(n, n, n, a, 0, n, 1, b, 0, n, 1, c, 0, n, false), 60).median / 1e6;
}

function probeGemm(sizes: number[]): void {
  console.log(`\nGEMM GFLOP/s, C = A·B, n×n×n, median (best) of ${ROUNDS} rounds; "plain" = JS arrays copied in/out, "heap" = persistent storage, in place`);
  console.log("(cpu: GFLOP per CPU-second of the process, all threads: 2t/1t of it is the parallel efficiency)");
  console.log("     n |  1t plain (best) |  1t heap (best)  |  2t plain (best) |  2t heap (best)  | cpu 1t heap | cpu 2t heap | pure TS");
  for (const n of sizes) {
    const ms = n >= 512 ? 250 : 120;
    const r = [gemmRate(n, n, n, 1, false, ms), gemmRate(n, n, n, 1, true, ms), gemmRate(n, n, n, 2, false, ms), gemmRate(n, n, n, 2, true, ms)];
    const ts = n <= 512 ? tsRate(n) : NaN;
    console.log(`${String(n).padStart(6)} | ${r.map((x) => `${fmt(x.median)} (${fmt(x.best)})`).join(" | ")} |   ${fmt(r[1]!.perCpu)}    |   ${fmt(r[3]!.perCpu)}    | ${Number.isNaN(ts) ? "   -" : fmt(ts)}`);
  }
}

function probeMlp(): void {
  // MLP 784-256-256-10 at batch 128: forward x·W1ᵀ etc., backward dW = dyᵀ·x and dx = dy·W.
  const shapes: [string, number, number, number][] = [
    ["fwd 1: 128×784·784×256", 128, 256, 784], ["fwd 2: 128×256·256×256", 128, 256, 256], ["fwd 3: 128×256·256×10", 128, 10, 256],
    ["dW1: 256×128·128×784", 256, 784, 128], ["dW2: 256×128·128×256", 256, 256, 128], ["dx2: 128×256·256×256", 128, 256, 256],
  ];
  console.log("\nMLP-step matmul shapes, µs per call, median (best); plain arrays / heap");
  console.log("shape                         |  1t plain      |  1t heap       |  2t plain      |  2t heap");
  for (const [label, m, n, k] of shapes) {
    const r = [gemmRate(m, n, k, 1, false, 100), gemmRate(m, n, k, 1, true, 100), gemmRate(m, n, k, 2, false, 100), gemmRate(m, n, k, 2, true, 100)];
    const us = (g: number) => (2 * m * n * k) / g / 1e3;
    console.log(`${label.padEnd(29)} | ${r.map((x) => `${fmt(us(x.median), 0)} (${fmt(us(x.best), 0)})`).join(" | ")}`);
  }
}

function probeLatency(): void {
  // Smallest product that still goes to 2 threads: the hand-off cost dominates.
  const m = 64, n = 64, k = 64;
  const a = fillRandom(heapAlloc(m * k), 1), b = fillRandom(heapAlloc(k * n), 2), c = heapAlloc(m * n);
  const one = time(() => gemmWasmOn(1, m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false), 100);
  const two = time(() => gemmWasmOn(2, m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false), 100);
  console.log(`\n64³ heap GEMM: 1 thread ${fmt(one.median * 1e3, 1)} µs (best ${fmt(one.best * 1e3, 1)}), 2 threads ${fmt(two.median * 1e3, 1)} µs (best ${fmt(two.best * 1e3, 1)})`);
}

async function probeClip(): Promise<void> {
  const sizes = Array.from({ length: 10 }, () => 1_000_000);
  const total = sizes.reduce((s, x) => s + x, 0), bytes = total * 4;
  console.log(`\nSum of squares / clip-by-global-norm over 10 tensors, ${total / 1e6}M floats (${bytes / 1e6} MB), ms`);
  const heap = sizes.map((n, i) => fillRandom(heapAlloc(n), 10 + i));
  const plain = heap.map((h) => h.slice());
  const row = (label: string, t: { median: number; best: number }, traffic = bytes) =>
    console.log(`${label.padEnd(46)} ${fmt(t.median, 2)} ms (best ${fmt(t.best, 2)})  ${fmt(traffic / t.median / 1e6)} GB/s`);
  for (const threads of [1, 2]) {
    setNumThreads(threads);
    await threadsReady();
    row(`sumsq, heap, ${threads} thread(s)`, time(() => foreachSumSquares(heap)));
    // Clipping that always triggers: each call clips to 0.999 × the current norm.
    let target = 0.999 * Math.sqrt(foreachSumSquares(heap));
    row(`clip (norm + scale), heap, ${threads} thread(s)`, time(() => {
      const before = clipByNorm(heap, target);
      if (!(before > target)) throw new Error("internal: clip did not trigger");
      target *= 0.999;
    }), 3 * bytes);
  }
  setNumThreads(1);
  row("sumsq, plain JS arrays", time(() => foreachSumSquares(plain)));
  let targetJs = 0.999 * Math.sqrt(foreachSumSquares(plain));
  row("clip (norm + scale), plain JS arrays", time(() => {
    clipByNorm(plain, targetJs);
    targetJs *= 0.999;
  }), 3 * bytes);
  const staging = heapAlloc(1_000_000);
  row("copy into heap + sumsq (per tensor)", time(() => {
    let s = 0;
    for (const p of plain) {
      staging.set(p);
      s += foreachSumSquares([staging]);
    }
    return s;
  }));
  for (const x of [...heap, staging]) heapFree(x);
}

/**
 * The issue's MLP step (784-256-256-10, batch 128: forward, cross-entropy, backward, clip by
 * global norm 1, SGD momentum 0.9) through the public nn/optim/autograd APIs, ms per step.
 */
async function probeMlpStep(): Promise<void> {
  const rng = new Rng(0);
  const model = new Sequential(new Linear(784, 256, { rng }), new ReLU(), new Linear(256, 256, { rng }), new ReLU(), new Linear(256, 10, { rng }));
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = randn([128, 784], rng), y = Int32Array.from({ length: 128 }, (_, i) => i % 10);
  const step = () => {
    opt.zeroGrad();
    A.crossEntropy(model.forward(x), y).backward();
    clipGradNorm(model.parameters(), 1);
    opt.step();
  };
  console.log("\nMLP step 784-256-256-10, batch 128 (fwd + bwd + clip + SGD), ms per step, median (best)");
  for (const threads of [1, 2]) {
    setNumThreads(threads);
    await threadsReady();
    for (let i = 0; i < 30; i++) step();
    const t = time(step, 300);
    console.log(`  ${threads} thread(s): ${fmt(t.median, 2)} (${fmt(t.best, 2)})`);
  }
}

const [what, size] = process.argv.slice(2);
console.log(`wasm: ${initWasmSync() ? "ready" : "unavailable"} ${JSON.stringify(wasmStatus())}; load average ${load()}`);
setNumThreads(2);
console.log(`threads ready: ${await threadsReady()}`);
if (!what || what === "gemm") probeGemm(size ? [Number(size)] : [64, 128, 256, 384, 512, 768, 1024]);
if (!what || what === "mlp") probeMlp();
if (!what || what === "latency") probeLatency();
if (!what || what === "clip") await probeClip();
if (!what || what === "step") await probeMlpStep();
console.log(`\nload average ${load()}`);
