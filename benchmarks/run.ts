/**
 * @file Entry point of `pnpm bench` (see README.md and `cli.ts`). Unless `preload.cjs` already
 * ran, re-runs itself in a child `node` with `--require preload.cjs` ahead of the same loader
 * flags (see the note there on why benchmark.js must load before tsx), then exits with its code.
 *
 * @example
 * ```sh
 * pnpm bench --json
 * ```
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

if ((globalThis as { __tapegradBenchPrepared?: boolean }).__tapegradBenchPrepared === true) {
  await import("./cli.js");
} else {
  const preload = fileURLToPath(new URL("./preload.cjs", import.meta.url));
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ["--require", preload, ...process.execArgv, self, ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  if (child.error !== undefined) throw child.error;
  process.exitCode = child.status ?? 1;
}
