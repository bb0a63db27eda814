/**
 * @file The `pnpm bench` command line (started by `run.ts`). This process measures nothing: for
 * every topic and target it starts a measuring process (`child.ts`), prints each measurement as it
 * arrives, and at the end prints the ratio table and the issues' targets and, with `--json`, writes
 * `benchmarks/results/latest.json`. It looks for torch once (`findTorch`) and drops the torch
 * targets, with one `#` line, when there is none.
 *
 * Measuring processes run with `--trace-protector-invalidation`; the parent counts V8's
 * "Invalidating protector cell ArrayBufferDetaching" lines to flag measurements taken after an
 * ArrayBuffer detach in the measuring thread (see README.md). tsx's loader thread always prints
 * one (it is a separate isolate); anything beyond that comes from the measuring thread.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { MESSAGE_PREFIX, type ChildJob, type ChildMessage } from "./protocol.js";
import { issueTargets } from "./issue-targets.js";
import { formatRecord, ratioTable } from "./report.js";
import { TARGETS } from "./targets.js";
import { TOPICS } from "./topics.js";
import { TORCH_ENV, TORCH_INSTALL, findTorch } from "./torch.js";
import { LIBRARIES, type Library, type ResultRecord, type TargetSpec, type Topic } from "./types.js";

const HELP = `usage: pnpm bench [options]
  --json             also write benchmarks/results/latest.json
  --filter RE        only cases whose name matches RE (e.g. "matmul (256|512)")
  --bench LIST       only these topics: ${TOPICS.map((t) => t.bench).join(",")}
  --library LIST     only these libraries: ${LIBRARIES.join(",")} (default: all;
                     torch only where a Python with torch is found)
  --backend LIST     only these tapegrad backends: wasm,js (default: both)
  --threads LIST     only targets with these thread counts (e.g. 1)
  --max-time S       seconds of sampling per case (default 1.5)
  --rounds N         run everything N times, interleaved; report the median of the rounds (default 1)
  --memory           also run the memory topic (a 10,000-step training run, about 2-4 minutes)
  --memory-steps N   steps of the memory run (default 10000)
  --simd MODE        plain (default: Node's own wasm features), relaxed (tapegrad's wasm targets
                     in processes started with --experimental-wasm-relaxed-simd: FMA in the GEMM,
                     for Node 20; Node >= 22 has relaxed SIMD by default) or both (tapegrad's wasm
                     targets in both modes, everything else once); records carry "simd"
  --relaxed-simd     same as --simd relaxed`;

interface CliOptions {
  json: boolean;
  filter?: RegExp;
  benches?: string[];
  libraries?: string[];
  backends?: string[];
  threads?: number[];
  maxTime: number;
  rounds: number;
  memory: boolean;
  memorySteps: number;
  simd: readonly SimdMode[];
}

/** How a measuring process is started: Node's defaults, or with `--experimental-wasm-relaxed-simd`. */
type SimdMode = "plain" | "relaxed";
const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";

function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = { json: false, maxTime: 1.5, rounds: 1, memory: false, memorySteps: 10_000, simd: ["plain"] };
  const list = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new TypeError(`bench: ${flag} needs a value\n${HELP}`);
      return v;
    };
    if (flag === "--json") o.json = true;
    else if (flag === "--filter") o.filter = new RegExp(value());
    else if (flag === "--bench") o.benches = list(value());
    else if (flag === "--library") o.libraries = list(value());
    else if (flag === "--backend") o.backends = list(value());
    else if (flag === "--threads") o.threads = list(value()).map(Number);
    else if (flag === "--max-time") o.maxTime = Number(value());
    else if (flag === "--rounds") o.rounds = Number(value());
    else if (flag === "--memory") o.memory = true;
    else if (flag === "--memory-steps") o.memorySteps = Number(value());
    else if (flag === "--relaxed-simd") o.simd = ["relaxed"];
    else if (flag === "--simd") {
      const v = value();
      if (v !== "plain" && v !== "relaxed" && v !== "both") throw new TypeError(`bench: --simd must be plain, relaxed or both (got ${JSON.stringify(v)})\n${HELP}`);
      o.simd = v === "both" ? ["plain", "relaxed"] : [v];
    }
    else if (flag === "--help" || flag === "-h") {
      console.log(HELP);
      process.exit(0);
    } else if (flag !== "--") {
      throw new TypeError(`bench: unknown argument ${JSON.stringify(argv[i])}\n${HELP}`);
    }
  }
  if (!(o.maxTime > 0)) throw new TypeError("bench: --max-time must be a positive number of seconds");
  if (!(Number.isInteger(o.rounds) && o.rounds >= 1)) throw new TypeError("bench: --rounds must be a positive integer");
  if (!(Number.isInteger(o.memorySteps) && o.memorySteps >= 10)) throw new TypeError("bench: --memory-steps must be an integer >= 10");
  for (const b of o.benches ?? []) if (!TOPICS.some((t) => t.bench === b)) throw new TypeError(`bench: unknown --bench ${b}\n${HELP}`);
  for (const l of o.libraries ?? []) if (!(LIBRARIES as readonly string[]).includes(l)) throw new TypeError(`bench: unknown --library ${l}\n${HELP}`);
  return o;
}

function selectedTopics(o: CliOptions): Topic[] {
  return TOPICS.filter((t) => {
    if (o.benches) return o.benches.includes(t.bench) || (t.optIn === true && o.memory && t.bench === "memory");
    if (t.optIn && !(o.memory && t.bench === "memory")) return false;
    return o.filter === undefined || t.caseNames.some((n) => o.filter!.test(n));
  });
}

function selectedTargets(o: CliOptions): TargetSpec[] {
  return TARGETS.filter(
    (t) =>
      (o.libraries === undefined || o.libraries.includes(t.library)) &&
      (o.backends === undefined || t.library !== "tapegrad" || o.backends.includes(t.backend)) &&
      (o.threads === undefined || o.threads.includes(t.threads)),
  );
}

let relaxedFlagOk = false;
const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));
const PRELOAD = fileURLToPath(new URL("./preload.cjs", import.meta.url));
const INVALIDATION = /Invalidating protector cell ArrayBufferDetaching/;
/** Invalidations tsx's loader thread prints in every child (it runs in its own isolate). */
const LOADER_INVALIDATIONS = process.execArgv.some((a) => /tsx/.test(a) && /loader/.test(a)) ? 1 : 0;

interface ChildOutcome {
  started: boolean;
  unavailable?: string;
  records: ResultRecord[];
}

/** Node accepts `--experimental-wasm-relaxed-simd` (newer versions may drop the flag once the feature is on by default). */
function relaxedFlagAccepted(): boolean {
  return spawnSync(process.execPath, [RELAXED_FLAG, "-e", "0"], { stdio: "ignore" }).status === 0;
}

/** The simd modes a target runs in: tapegrad's wasm targets in each selected mode, the rest once. */
function modesOf(target: TargetSpec, o: CliOptions): SimdMode[] {
  if (target.library === "tapegrad" && target.backend !== "js") return [...o.simd];
  return [o.simd[0]!];
}

/** Runs one measuring process; prints what it reports as it arrives. */
function runChild(topic: Topic, target: TargetSpec, mode: SimdMode, o: CliOptions, onStart: (m: Extract<ChildMessage, { type: "started" }>) => void): Promise<ChildOutcome> {
  const relaxed = mode === "relaxed" && target.library === "tapegrad" && target.backend !== "js";
  const job: ChildJob = { topic: topic.bench, target: target.id, maxTime: o.maxTime, memorySteps: o.memorySteps, ...(o.filter ? { filter: o.filter.source } : {}), ...(relaxed ? { relaxedSimd: true } : {}) };
  const simdFlags = mode === "relaxed" && relaxedFlagOk ? [RELAXED_FLAG] : [];
  const args = ["--trace-protector-invalidation", ...simdFlags, ...(topic.nodeFlags ?? []), "--require", PRELOAD, ...process.execArgv, CHILD];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, TAPEGRAD_BENCH_JOB: JSON.stringify(job), TAPEGRAD_BENCH_PRELOAD: target.library },
  });
  const outcome: ChildOutcome = { started: false, records: [] };
  let invalidations = 0;
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    if (INVALIDATION.test(line)) {
      invalidations++;
      return;
    }
    if (!line.startsWith(MESSAGE_PREFIX)) {
      if (line.trim() !== "") console.log(`  | ${line}`);
      return;
    }
    const m = JSON.parse(line.slice(MESSAGE_PREFIX.length)) as ChildMessage;
    if (m.type === "started") {
      outcome.started = true;
      onStart(m);
    } else if (m.type === "unavailable") {
      outcome.unavailable = m.reason;
    } else if (m.type === "record") {
      // torch measures in Python: a detach in this Node process does not touch it
      const r = { ...m.record, detached: target.library !== "torch" && invalidations > LOADER_INVALIDATIONS };
      outcome.records.push(r);
      console.log(formatRecord(r));
    } else if (m.type === "log") {
      console.log(m.text);
    } else {
      console.log(`error: ${m.message}`);
    }
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== 0) console.log(`error: ${topic.bench} on ${target.id}: measuring process exited with ${signal ?? `code ${code}`}`);
      resolve(outcome);
    });
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** One record per measurement key: with several rounds, the one with the median value, all values kept. */
function aggregate(rounds: readonly ResultRecord[][]): ResultRecord[] {
  if (rounds.length === 1) return rounds[0]!;
  const groups = new Map<string, ResultRecord[]>();
  for (const round of rounds) {
    for (const r of round) {
      const key = [r.bench, r.library, r.backend, r.threads, r.name, r.simd ?? "plain"].join("|");
      const g = groups.get(key);
      if (g) g.push(r);
      else groups.set(key, [r]);
    }
  }
  return [...groups.values()].map((g) => {
    const values = g.map((r) => r.value);
    const m = median(values);
    const closest = g.reduce((best, r) => (Math.abs(r.value - m) < Math.abs(best.value - m) ? r : best));
    return { ...closest, value: m, roundValues: values, detached: g.some((r) => r.detached) };
  });
}

function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? "unknown CPU"}, ${c.length} logical cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

function load(): string {
  return `load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} (1, 5, 15 min)`;
}

/**
 * Drops the torch targets, with one `#` line, when no Python with torch is found; otherwise hands
 * the peer to the measuring processes (so they need not look for it again).
 */
function withTorchPeer(targets: TargetSpec[], topics: readonly Topic[]): TargetSpec[] {
  if (!targets.some((t) => t.library === "torch") || !topics.some((t) => t.probes?.torch)) return targets;
  const peer = findTorch();
  if (typeof peer === "string") {
    console.log(`# torch: not measured: ${peer}; ${TORCH_INSTALL}`);
    return targets.filter((t) => t.library !== "torch");
  }
  process.env[TORCH_ENV] = JSON.stringify(peer);
  return targets;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const topics = selectedTopics(o);
  const started = Date.now();
  if (o.simd.includes("relaxed")) relaxedFlagOk = relaxedFlagAccepted();
  const simdNote = o.simd.includes("relaxed") ? `; simd ${o.simd.join("+")}${relaxedFlagOk ? ` (relaxed: ${RELAXED_FLAG})` : ` (${RELAXED_FLAG} not accepted by this Node: relaxed only where on by default)`}` : "";
  console.log(`# pnpm bench on ${machine()}; --max-time ${o.maxTime}${o.rounds > 1 ? `, ${o.rounds} rounds` : ""}${simdNote}; ${load()}`);
  const targets = withTorchPeer(selectedTargets(o), topics);
  const unavailable = new Map<string, string>();
  const described = new Set<string>();
  const rounds: ResultRecord[][] = [];
  for (let round = 1; round <= o.rounds; round++) {
    if (o.rounds > 1) console.log(`\n## round ${round} of ${o.rounds}`);
    const records: ResultRecord[] = [];
    for (const topic of topics) {
      if (topic.optIn && round > 1) continue; // the memory run is long: once is enough
      const covered = new Set<Library>();
      for (const target of targets) {
        for (const mode of modesOf(target, o)) {
          const id = `${target.id}${mode === "relaxed" ? " (relaxed SIMD)" : ""}`;
          if (unavailable.has(id)) continue;
          const supported = topic.probes?.[target.library] ?? topic.cases?.[target.library];
          if (!supported) continue;
          if (!topic.perBackend && covered.has(target.library)) continue;
          const outcome = await runChild(topic, target, mode, o, (m) => {
            if (described.has(id)) return;
            described.add(id);
            const threads = m.threads === 1 ? "1 thread" : `${m.threads} threads`;
            console.log(`# ${target.library} ${m.backend} (${threads}, simd ${m.simd}): ${m.notes.join("; ")}`);
          });
          if (outcome.unavailable !== undefined) {
            unavailable.set(id, outcome.unavailable);
            console.log(`# ${target.library} ${target.backend} (${target.threads} thread${target.threads === 1 ? "" : "s"}${mode === "relaxed" ? ", relaxed SIMD" : ""}): unavailable: ${outcome.unavailable}`);
            continue;
          }
          if (outcome.started) covered.add(target.library);
          records.push(...outcome.records);
        }
      }
    }
    rounds.push(records);
  }
  const results = aggregate(rounds);
  console.log(`# done in ${((Date.now() - started) / 1000).toFixed(0)} s; ${load()}`);
  console.log("");
  console.log(ratioTable(results, o.rounds));
  console.log("");
  console.log(issueTargets(results, { memoryRequested: topics.some((t) => t.bench === "memory") }));
  if (unavailable.size > 0) {
    console.log("");
    for (const [id, why] of unavailable) console.log(`unavailable: ${id}: ${why}`);
  }
  if (o.json) {
    const dir = new URL("./results/", import.meta.url);
    mkdirSync(dir, { recursive: true });
    const file = new URL("latest.json", dir);
    writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
    console.error(`wrote ${fileURLToPath(file)} (${results.length} records)`);
  }
}

await main();
