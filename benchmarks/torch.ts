/**
 * @file The PyTorch peer (optional): torch is timed by a Python process running `torch_peer.py`,
 * started from the measuring process of each (topic, torch target) pair.
 *
 * - Python: `TAPEGRAD_BENCH_PYTHON` if set, else `/usr/bin/python3` (Debian's `python3-torch` lives
 *   there, not in a pyenv or venv Python). The parent (`cli.ts`) runs `torch_peer.py --probe` once
 *   ({@link findTorch}); without a Python that imports torch, the torch targets are skipped with
 *   one `#` line saying why and how to install it ({@link TORCH_INSTALL}), and nothing fails.
 * - Threads: the Python process gets `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS` and
 *   `MKL_NUM_THREADS` set to the target's thread count and calls `torch.set_num_threads` (torch's
 *   BLAS keeps its own thread pool); the script checks both counts before timing. It also gets
 *   `OMP_WAIT_POLICY=PASSIVE` (unless the environment sets it): Debian's torch runs its ops on a
 *   libgomp pool and its GEMMs on OpenBLAS's pthread pool, and with libgomp's default spinning
 *   the two pools busy-wait against each other on 2 cores (MLP step at 2 threads: 5.3 ms with the
 *   default, 1.9 ms passive, 2.1 ms on 1 thread, on the idle dev VM), so the default would
 *   understate torch at 2 threads.
 * - Inputs: the same seeded float32 values as the other libraries, written by the harness to one
 *   temporary binary file (plus a manifest of names, shapes and offsets) that the script reads
 *   with `torch.frombuffer`; removed afterwards.
 * - Timing: in Python, with the runner's method (warm-up, then the median of benchmark.js-like
 *   samples for `--max-time` seconds; see `torch_peer.py`); records are made here with
 *   {@link toRecord}, as for every other library.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { toRecord } from "./runner.js";
import type { Case, Probe, ProbeOptions, ResultRecord, TargetContext, TargetSpec } from "./types.js";

/** The Python with torch that measures, as found by {@link findTorch}. */
export interface TorchPeer {
  /** The command run (`TAPEGRAD_BENCH_PYTHON` or `/usr/bin/python3`). */
  python: string;
  /** `sys.executable` and `sys.version` of that Python. */
  executable: string;
  pythonVersion: string;
  /** `torch.__version__`. */
  torch: string;
  /** What runs torch's GEMM, e.g. `OpenBLAS 0.3.21 (core Cooperlake)`. */
  blas: string;
  /** Set when the BLAS is a slow reference implementation. */
  warning?: string;
}

/** How to get torch for the bench (printed when it is not found). */
export const TORCH_INSTALL = "install it with `apt-get install -y python3-torch libopenblas0-pthread` (Debian), or set TAPEGRAD_BENCH_PYTHON to a Python that has torch";

/** Environment variable through which the parent hands {@link TorchPeer} to measuring processes. */
export const TORCH_ENV = "TAPEGRAD_BENCH_TORCH";

const DEFAULT_PYTHON = "/usr/bin/python3";

/** libgomp's wait policy for torch: the environment's, else `PASSIVE` (see the file comment). */
const waitPolicy = () => process.env.OMP_WAIT_POLICY || "PASSIVE";
const SCRIPT = fileURLToPath(new URL("./torch_peer.py", import.meta.url));

/**
 * Looks for a Python that imports torch (`TAPEGRAD_BENCH_PYTHON`, else `/usr/bin/python3`) and
 * asks it which torch and BLAS it has (a second or two: it imports torch).
 *
 * @returns the peer, or a string saying why there is none.
 */
export function findTorch(): TorchPeer | string {
  const python = process.env.TAPEGRAD_BENCH_PYTHON || DEFAULT_PYTHON;
  if (!process.env.TAPEGRAD_BENCH_PYTHON && !existsSync(DEFAULT_PYTHON)) return `no ${DEFAULT_PYTHON}`;
  const r = spawnSync(python, [SCRIPT, "--probe"], { encoding: "utf8", timeout: 120_000 });
  if (r.error) return `${python}: ${r.error.message}`;
  if (r.status !== 0) {
    if (/No module named ['"]?torch/.test(r.stderr)) return `${python} has no torch module`;
    const last = r.stderr.trim().split("\n").pop() ?? "";
    return `${python} ${SCRIPT} --probe exited with ${r.signal ?? `code ${r.status}`}${last ? `: ${last}` : ""}`;
  }
  const info = JSON.parse(r.stdout.trim().split("\n").pop()!) as { executable: string; python: string; torch: string; blas: string; warning: string | null };
  return { python, executable: info.executable, pythonVersion: info.python, torch: info.torch, blas: info.blas, ...(info.warning ? { warning: info.warning } : {}) };
}

/**
 * Starts a torch target in a measuring process: takes the parent's {@link TorchPeer} (or looks
 * for one). Nothing is imported here; each topic runs its own Python process.
 *
 * @returns the context, or a string saying why the target is unavailable here.
 */
export function startTorch(spec: TargetSpec): TargetContext | string {
  const handed = process.env[TORCH_ENV];
  const peer = handed ? (JSON.parse(handed) as TorchPeer) : findTorch();
  if (typeof peer === "string") return `${peer}: ${TORCH_INSTALL}`;
  const n = spec.threads;
  const notes = [
    `torch ${peer.torch} (Python ${peer.pythonVersion}, ${peer.executable})`,
    `BLAS: ${peer.blas}${peer.warning ? ` (WARNING: ${peer.warning})` : ""}`,
    `torch.set_num_threads(${n}), OMP/OPENBLAS/MKL_NUM_THREADS=${n} (checked), OMP_WAIT_POLICY=${waitPolicy()}`,
    "timed in Python like the runner (warm-up, median of >= 50 ms samples)",
    "inputs: the same seeded float32 values (through a temporary file)",
  ];
  return { ...spec, torch: peer, notes };
}

/** An input of a torch topic: its data and shape. */
export interface TorchInput {
  data: Float32Array | Int32Array;
  shape: readonly number[];
}

/** What a topic hands the Python side: its cases (names as in TypeScript), inputs and parameters. */
export interface TorchJob {
  cases: Pick<Case, "name" | "size" | "unit" | "work">[];
  inputs: Record<string, TorchInput>;
  /** Topic parameters (sizes, learning rate, ...), passed to the script as they are. */
  params?: Record<string, unknown>;
}

/** Writes every input into one file; returns the manifest the script reads it with. */
function writeInputs(file: string, inputs: Record<string, TorchInput>): { name: string; dtype: string; shape: number[]; offset: number; length: number }[] {
  const manifest = [];
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, { data, shape }] of Object.entries(inputs)) {
    if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`torch input ${name}: shape [${shape.join(", ")}] does not hold ${data.length} values`);
    manifest.push({ name, dtype: data instanceof Float32Array ? "float32" : "int32", shape: [...shape], offset, length: data.length });
    parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    offset += data.byteLength;
  }
  writeFileSync(file, Buffer.concat(parts));
  return manifest;
}

type PeerMessage =
  | { type: "record"; name: string; seconds: number; rme: number; samples: number; direct: boolean; reran: boolean }
  | { type: "error"; message: string };

/** Runs the script on one job; reports each record as it arrives. */
async function runPeer(bench: string, ctx: TargetContext, job: TorchJob, opts: ProbeOptions): Promise<void> {
  const cases = job.cases.filter((c) => !opts.filter || opts.filter.test(c.name));
  if (cases.length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), "tapegrad-bench-torch-"));
  try {
    const inputsFile = join(dir, "inputs.bin");
    const manifest = writeInputs(inputsFile, job.inputs);
    const threads = String(ctx.threads);
    const child = spawn(ctx.torch!.python, [SCRIPT], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, MKL_NUM_THREADS: threads, OMP_WAIT_POLICY: waitPolicy() },
    });
    child.stdin.end(JSON.stringify({ topic: bench, threads: ctx.threads, maxTime: opts.maxTime, cases, inputsFile, manifest, params: job.params ?? {} }));
    const stderr: string[] = [];
    createInterface({ input: child.stderr }).on("line", (l) => void stderr.push(l));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = JSON.parse(line) as PeerMessage;
      if (m.type === "error") {
        opts.log(`error: ${bench} (torch, ${ctx.threads} thread${ctx.threads === 1 ? "" : "s"}): ${m.message}`);
        return;
      }
      const c = cases.find((x) => x.name === m.name)!;
      opts.report(toRecord(bench, c, ctx, m));
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (c, s) => resolve([c, s]));
    });
    if (code !== 0) throw new Error(`${ctx.torch!.python} torch_peer.py exited with ${signal ?? `code ${code}`}${stderr.length ? `:\n${stderr.slice(-15).join("\n")}` : ""}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A topic's torch entry: `build` makes the job (inputs are built only when torch runs). */
export function torchProbe(bench: string, build: () => TorchJob): Probe {
  return {
    name: bench,
    run: async (ctx: TargetContext, opts: ProbeOptions): Promise<ResultRecord[]> => {
      await runPeer(bench, ctx, build(), opts);
      return [];
    },
  };
}
