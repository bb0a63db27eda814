/**
 * @file The `pnpm bench` command line: runs the registered topics on the available targets,
 * prints one line per measurement and, with `--json`, writes `benchmarks/results/latest.json`.
 * Started by `run.ts` (which makes sure benchmark.js was preloaded).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { formatRecord, runTopics, type RunOptions } from "./runner.js";
import { availableTargets } from "./targets.js";
import { TOPICS } from "./topics.js";

const HELP = `usage: pnpm bench [--json] [--filter REGEX] [--backend NAME[,NAME]] [--max-time SECONDS]
  --json          also write benchmarks/results/latest.json
  --filter RE     only cases whose name matches RE (e.g. "matmul (256|512)")
  --backend LIST  only these tapegrad kernel sets (e.g. js, wasm); default: all available
  --max-time S    seconds of sampling per case (default 2)`;

function parseArgs(argv: readonly string[]): { json: boolean; opts: RunOptions } {
  const opts: RunOptions = { maxTime: 2 };
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new TypeError(`bench: ${flag} needs a value\n${HELP}`);
      return v;
    };
    if (flag === "--json") json = true;
    else if (flag === "--filter") opts.filter = new RegExp(value());
    else if (flag === "--backend") opts.backends = value().split(",");
    else if (flag === "--max-time") opts.maxTime = Number(value());
    else if (flag === "--help" || flag === "-h") {
      console.log(HELP);
      process.exit(0);
    } else if (flag !== "--") {
      throw new TypeError(`bench: unknown argument ${JSON.stringify(argv[i])}\n${HELP}`);
    }
  }
  if (!(opts.maxTime > 0)) throw new TypeError("bench: --max-time must be a positive number of seconds");
  return { json, opts };
}

const { json, opts } = parseArgs(process.argv.slice(2));
const records = runTopics(TOPICS, availableTargets(), { ...opts, onResult: (r) => console.log(formatRecord(r)) });
if (json) {
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL("latest.json", dir);
  writeFileSync(file, JSON.stringify(records, null, 2) + "\n");
  console.error(`wrote ${file.pathname} (${records.length} records)`);
}
