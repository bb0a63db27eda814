/**
 * @file A measuring process: runs one topic on one target and reports to the parent (`cli.ts`)
 * on stdout, one `@@bench {json}` message per line ({@link ChildMessage}). Started by the parent
 * as `node --trace-protector-invalidation [topic flags] --require preload.cjs <tsx flags> child.ts`
 * with the job in `TAPEGRAD_BENCH_JOB`; not meant to be run by hand.
 *
 * One process per (topic, target) keeps libraries from affecting each other: tfjs-wasm's memory
 * growth detaches ArrayBuffers, and so does tapegrad's non-shared wasm scratch memory, which would
 * slow the pure-TS kernels measured after it in the same process.
 */
import { measure } from "./runner.js";
import { TARGETS, startTarget } from "./targets.js";
import { TOPICS } from "./topics.js";
import { MESSAGE_PREFIX, type ChildJob, type ChildMessage } from "./protocol.js";
import type { ResultRecord } from "./types.js";

function send(m: ChildMessage): void {
  process.stdout.write(MESSAGE_PREFIX + JSON.stringify(m) + "\n");
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.TAPEGRAD_BENCH_JOB ?? "null") as ChildJob | null;
  if (job === null) throw new Error("child.ts is started by `pnpm bench` (TAPEGRAD_BENCH_JOB is missing)");
  if ((globalThis as { __tapegradBenchPrepared?: boolean }).__tapegradBenchPrepared !== true) {
    send({ type: "log", text: "warning: preload.cjs did not run; numbers may be slowed by an ArrayBuffer detach" });
  }
  const topic = TOPICS.find((t) => t.bench === job.topic);
  const spec = TARGETS.find((t) => t.id === job.target);
  if (!topic || !spec) throw new Error(`unknown topic ${job.topic} or target ${job.target}`);
  const ctx = await startTarget(spec);
  if (typeof ctx === "string") {
    send({ type: "unavailable", reason: ctx });
    return;
  }
  const simd = ctx.simd ?? "plain";
  if (job.relaxedSimd && simd !== "relaxed") {
    send({ type: "unavailable", reason: "relaxed SIMD is not in use even with --experimental-wasm-relaxed-simd (no WebAssembly relaxed SIMD in this engine?)" });
    ctx.dispose?.();
    return;
  }
  send({ type: "started", backend: ctx.backend, threads: ctx.threads, notes: ctx.notes, simd });
  const report = (record: ResultRecord) => send({ type: "record", record: { ...record, simd } });
  try {
    const filter = job.filter === undefined ? undefined : new RegExp(job.filter);
    const probe = topic.probes?.[spec.library];
    if (probe) {
      const opts = { memorySteps: job.memorySteps, maxTime: job.maxTime, ...(filter ? { filter } : {}), log: (text: string) => send({ type: "log", text }), report };
      for (const record of await probe.run(ctx, opts)) report(record);
      return;
    }
    const factory = topic.cases?.[spec.library];
    if (!factory) return;
    let cases;
    try {
      cases = await factory(ctx);
    } catch (e) {
      send({ type: "error", message: `${topic.bench} (${spec.id}): building the cases failed: ${describe(e)}` });
      return;
    }
    for (const c of cases) {
      if (filter && !filter.test(c.name)) continue;
      try {
        report(await measure(topic.bench, c, ctx, { maxTime: job.maxTime }));
      } catch (e) {
        send({ type: "error", message: `${c.name} (${spec.id}): ${describe(e)}` });
      }
    }
  } finally {
    ctx.dispose?.();
  }
}

try {
  await main();
} catch (e) {
  send({ type: "error", message: describe(e) });
  process.exitCode = 1;
}
// Helper threads (tapegrad's GEMM worker, tfjs) must not keep the process alive.
process.exit();
