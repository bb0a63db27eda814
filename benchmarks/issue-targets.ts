/**
 * @file The issues' measurable targets, checked against one run (a Markdown table, printed after
 * the ratio table):
 *
 * - issue 16: a DP-SGD step at batch 256 costs ≤ 3× the non-private step of the same model (the
 *   `dp-step` topic's private record against its non-private partner, same backend and threads).
 * - issue 14: int8 GEMM throughput ≥ 1.5× the float32 GEMM's, same shape, same run (GOP/s of
 *   the `int8-gemm` topic; the 1-thread wasm int8 record against the float32 record of its shape,
 *   backend, thread count and SIMD mode; the 2-thread ratio is shown beside it).
 * - issue 13: elementwise throughput against tfjs-wasm (1 thread, GB/s: add, mul, relu
 *   contiguous ≥ 1.0×, broadcast add ≥ 0.7×, exp, tanh, sigmoid ≥ 1.0×, sum ≥ 1.0×) and the MLP
 *   step's time against jax-js (≤ 0.55× its time, 1 thread) and torch (1 thread ≤ 1.8× torch's
 *   1-thread time; 2 threads ≤ 1.2× torch's time, judged against torch at 2 threads, with the
 *   comparison against torch at 1 thread printed beside it). `pnpm train --json`'s target is not
 *   measured by the bench.
 * - issue 12: speed-ups over tfjs-wasm (MLP step ≥ 10× on 1 thread, ≥ 16× on 2; clipGradNorm
 *   ≥ 3.5×; heap flat over 10,000 steps).
 * - issue 6: absolute matmul numbers.
 *
 * Each target takes the best matching tapegrad record of the run (the 1-thread targets: any
 * non-`js` backend at 1 thread), once per SIMD mode measured: a target is only "met" in the mode
 * whose record meets it. Peers are compared in the same run; a target whose peer did not run
 * (e.g. torch not installed) shows `—`.
 */
import { num, speedup, table } from "./report.js";
import { f32CaseName, INT8_SHAPES, int8CaseName } from "./int8-gemm.js";
import { dpCaseName, plainCaseName } from "./dp.js";
import { higherIsBetter, type ResultRecord } from "./types.js";

interface TargetRow {
  target: string;
  records: ResultRecord[];
  /** Whether a record meets the target (undefined: its peer was not measured). */
  check: (r: ResultRecord) => boolean | undefined;
  /** How a record is shown. */
  show: (r: ResultRecord) => string;
}

/** The check of issue 14, 13, 12 and 6's targets on `results` (one table per SIMD mode measured). */
export function issueTargets(results: readonly ResultRecord[], opts: { memoryRequested: boolean }): string {
  const modes = [...new Set(results.filter((r) => r.library === "tapegrad").map((r) => r.simd ?? "plain"))].sort((a, b) => (a === "plain" ? -1 : b === "plain" ? 1 : 0));
  const peers = results.filter((r) => r.library !== "tapegrad");
  if (modes.length <= 1) return targetTable(results.filter((r) => r.library === "tapegrad"), peers, opts, modes[0] ?? "plain");
  // js records have no relaxed mode: they count for every mode
  // the memory topic runs once (in the first mode): the other tables point to it
  const memMode = results.find((r) => r.library === "tapegrad" && r.bench === "memory")?.simd ?? "plain";
  return modes
    .map((m) => targetTable(results.filter((r) => r.library === "tapegrad" && ((r.simd ?? "plain") === m || r.backend === "js")), peers, { ...opts, memoryMode: memMode }, m))
    .join("\n\n");
}

const plural = (n: number) => `${n} thread${n === 1 ? "" : "s"}`;
const plain = (r: ResultRecord) => `${num(r.value)} ${r.unit} (${r.backend}, ${plural(r.threads)})`;

function targetTable(tg: readonly ResultRecord[], peers: readonly ResultRecord[], opts: { memoryRequested: boolean; memoryMode?: string }, mode: string): string {
  const pick = (f: (r: ResultRecord) => boolean) => tg.filter(f);
  const oneThread = (r: ResultRecord) => r.threads === 1 && r.backend !== "js";
  /** The peer's record of `r`'s case at `threads`. */
  const peer = (r: ResultRecord, library: string, threads: number) => peers.find((x) => x.library === library && x.threads === threads && x.bench === r.bench && x.name === r.name);

  // speed-ups over tfjs-wasm (1 thread: tfjs-wasm has no working 2-thread target in Node)
  const vsWasm = (r: ResultRecord) => {
    const o = peer(r, "tfjs-wasm", 1);
    return `${plain(r)}: ${o ? `${num(speedup(r, o))}× tfjs-wasm (${num(o.value)} ${o.unit})` : "no tfjs-wasm number"}`;
  };
  const atLeast = (k: number) => (r: ResultRecord) => {
    const o = peer(r, "tfjs-wasm", 1);
    return o ? speedup(r, o) >= k : undefined;
  };
  // time ratios (tapegrad's time / the peer's): at most k
  const timeRatio = (r: ResultRecord, library: string, threads: number) => {
    const o = peer(r, library, threads);
    return o ? { ratio: r.value / o.value, o } : undefined;
  };
  const showTime = (library: string, threads: number) => (r: ResultRecord) => {
    const t = timeRatio(r, library, threads);
    return t ? `${num(r.value)} ms = ${num(t.ratio)}× ${library} ${plural(threads)} (${num(t.o.value)} ms)` : `${num(r.value)} ms; no ${library} ${plural(threads)} number`;
  };
  const atMost = (k: number, library: string, threads: number) => (r: ResultRecord) => {
    const t = timeRatio(r, library, threads);
    return t ? t.ratio <= k : undefined;
  };

  const elementwise = (name: string, k: number): TargetRow => ({
    target: `#13 ${name} ≥ ${k.toFixed(1)}× tfjs-wasm (GB/s, 1 thread)`,
    records: pick((r) => r.bench === "elementwise" && r.name === name && oneThread(r)),
    check: atLeast(k),
    show: vsWasm,
  });
  const mlp = (r: ResultRecord) => r.bench === "mlp-step";
  const mm512 = (r: ResultRecord) => r.bench === "matmul" && r.size === 512;
  const clip = (r: ResultRecord) => r.bench === "clip-global-norm";
  // int8 GEMM against the float32 GEMM of the same shape, backend, threads and SIMD mode
  const f32Of = (r: ResultRecord, name: string) =>
    tg.find((x) => x.bench === "int8-gemm" && x.name === name && x.backend === r.backend && x.threads === r.threads && (x.simd ?? "plain") === (r.simd ?? "plain"));
  const ratioText = (r: ResultRecord, s: (typeof INT8_SHAPES)[number]) => {
    const f = f32Of(r, f32CaseName(s));
    return f ? `${num(r.value / f.value)}× float32 (${num(f.value)} GOP/s)` : "no float32 number";
  };
  // judged at 1 thread (2-thread numbers swing with the machine's load); the 2-thread ratio is shown beside it
  const int8Row = (s: (typeof INT8_SHAPES)[number]): TargetRow => ({
    target: `#14 int8 GEMM ${s.join("×")} ≥ 1.5× float32 GEMM (GOP/s, same run, 1 thread)`,
    records: pick((r) => r.bench === "int8-gemm" && r.name === int8CaseName(s) && oneThread(r)),
    check: (r) => {
      const f = f32Of(r, f32CaseName(s));
      return f ? r.value / f.value >= 1.5 : undefined;
    },
    show: (r) => {
      const two = tg.find((x) => x.bench === "int8-gemm" && x.name === r.name && x.backend === r.backend && x.threads === 2 && (x.simd ?? "plain") === (r.simd ?? "plain"));
      return `${plain(r)}: ${ratioText(r, s)}${two ? `; 2 threads: ${num(two.value)} GOP/s, ${ratioText(two, s)}` : ""}`;
    },
  });
  const cnn = (r: ResultRecord) => r.bench === "cnn-step";
  // issue 16: a private step against the non-private step of the same model, same run and target
  const plainOf = (r: ResultRecord, model: string) => tg.find((x) => x.bench === "dp-step" && x.name === plainCaseName(model) && x.backend === r.backend && x.threads === r.threads && (x.simd ?? "plain") === (r.simd ?? "plain"));
  const dpRow = (model: string, threads: number): TargetRow => ({
    target: `#16 private step (${model}, batch 256) ≤ 3× the non-private step, ${plural(threads)}`,
    records: pick((r) => r.bench === "dp-step" && r.name === dpCaseName(model) && r.threads === threads && r.backend !== "js"),
    check: (r) => {
      const p = plainOf(r, model);
      return p ? r.value / p.value <= 3 : undefined;
    },
    show: (r) => {
      const p = plainOf(r, model);
      return `${plain(r)}: ${p ? `${num(r.value / p.value)}× the non-private ${num(p.value)} ms` : "no non-private number"}`;
    },
  });
  const targets: TargetRow[] = [
    dpRow("mlp", 1),
    dpRow("mlp", 2),
    dpRow("cnn", 1),
    dpRow("cnn", 2),
    { target: "#15 CNN step (batch 64) ≥ 3× tfjs-wasm, 1 thread", records: pick((r) => cnn(r) && oneThread(r)), check: atLeast(3), show: vsWasm },
    { target: "#15 CNN step (batch 64) ≥ 3× tfjs-wasm, 2 threads", records: pick((r) => cnn(r) && r.threads === 2), check: atLeast(3), show: vsWasm },
    ...INT8_SHAPES.map(int8Row),
    elementwise("add 1M", 1),
    elementwise("mul 1M", 1),
    elementwise("relu 1M", 1),
    elementwise("add 1M broadcast", 0.7),
    elementwise("exp 1M", 1),
    elementwise("tanh 1M", 1),
    elementwise("sigmoid 1M", 1),
    elementwise("sum 1M", 1),
    { target: "#13 MLP step, 1 thread ≤ 0.55× jax-js's time", records: pick((r) => mlp(r) && oneThread(r)), check: atMost(0.55, "jax-js", 1), show: showTime("jax-js", 1) },
    { target: "#13 MLP step, 1 thread ≤ 1.8× torch's 1-thread time", records: pick((r) => mlp(r) && oneThread(r)), check: atMost(1.8, "torch", 1), show: showTime("torch", 1) },
    {
      target: "#13 MLP step, 2 threads ≤ 1.2× torch's time (met: vs torch 2 threads)",
      records: pick((r) => mlp(r) && r.threads === 2),
      check: atMost(1.2, "torch", 2),
      show: (r) => {
        const one = timeRatio(r, "torch", 1);
        return `${showTime("torch", 2)(r)}; vs torch 1 thread: ${one ? `${num(one.ratio)}× (${num(one.o.value)} ms, ≤ 1.2: ${one.ratio <= 1.2 ? "yes" : "no"})` : "no number"}`;
      },
    },
    { target: "#12 MLP step ≥ 10× tfjs-wasm, 1 thread", records: pick((r) => mlp(r) && oneThread(r)), check: atLeast(10), show: vsWasm },
    { target: "#12 MLP step ≥ 16× tfjs-wasm, 2 threads", records: pick((r) => mlp(r) && r.threads === 2), check: atLeast(16), show: vsWasm },
    { target: "#12 clipGradNorm 10M ≥ 3.5× tfjs-wasm, 1 thread", records: pick((r) => clip(r) && oneThread(r)), check: atLeast(3.5), show: vsWasm },
    { target: "#6 matmul 512×512, 1 thread ≥ 38 GFLOP/s", records: pick((r) => mm512(r) && oneThread(r)), check: (r) => r.value >= 38, show: plain },
    { target: "#6 matmul 512×512, 2 threads ≥ 70 GFLOP/s", records: pick((r) => mm512(r) && r.threads === 2), check: (r) => r.value >= 70, show: plain },
    { target: "#6 pure-TS matmul (512×512) ≥ 4 GFLOP/s", records: pick((r) => mm512(r) && r.backend === "js"), check: (r) => r.value >= 4, show: plain },
  ];
  const rows = targets.map(({ target, records, check, show }) => {
    if (records.length === 0) return [target, "not measured", "—"];
    const best = records.reduce((a, b) => (higherIsBetter(a.unit) ? (b.value > a.value ? b : a) : b.value < a.value ? b : a));
    const met = check(best);
    return [target, show(best), met === undefined ? "—" : met ? "yes" : "no"];
  });
  const mem = tg.filter((r) => r.bench === "memory");
  if (mem.length === 0) {
    const why = (cmd: string) => (!opts.memoryRequested ? `not run (${cmd})` : opts.memoryMode !== undefined && opts.memoryMode !== mode ? `run once, in SIMD ${opts.memoryMode}: see that table` : "not measured (failed)");
    rows.push(["#12 heap flat over a 10,000-step training run", why("pnpm bench --memory"), "—"]);
    rows.push(["#17 soak: memory flat over 100,000 training steps", why("pnpm bench --memory --memory-steps 100000"), "—"]);
  } else {
    for (const m of mem) {
      const steps = Number(m.size);
      const slope = Number(m.heapSlopeMBPer1kSteps);
      const measured = `${m.flat ? "flat" : "growing"} over ${steps} steps: heapUsed ${num(m.value)} MB at the end, slope ${slope >= 0 ? "+" : ""}${slope.toFixed(3)} MB/1k steps (${m.backend})`;
      rows.push(["#12 heap flat over a 10,000-step training run", measured, m.flat === true && steps >= 10_000 ? "yes" : "no"]);
      rows.push(["#17 soak: memory flat over 100,000 training steps", measured, steps < 100_000 ? "— (run with --memory-steps 100000)" : m.flat === true ? "yes" : "no"]);
    }
  }
  return `## targets of issues 17, 16, 15, 14, 13, 12 and 6 (this run, this machine; SIMD: ${mode})\n\n${table(["target", "measured", "met"], rows)}`;
}
