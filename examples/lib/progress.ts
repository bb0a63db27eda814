/**
 * @file A one-line progress bar for terminal runs (Node-only). Quiet when stdout is not a TTY
 * (CI logs, pipes): then only the final line of each run is printed.
 */

/** Formats seconds as `1m05s` / `12.3s`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, "0")}s`;
}

/**
 * A progress bar: `label [#####.....] 50% 500/1000 loss 0.1234 · 1.2s`.
 *
 * @example
 * ```ts
 * const bar = new Progress("rnn seed 0", 1500);
 * for (let i = 0; i < 1500; i++) bar.update(i + 1, `loss ${loss.toFixed(4)}`);
 * bar.done("final loss 0.0312");
 * ```
 */
export class Progress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(private readonly label: string, private readonly total: number, private readonly width = 24) {
    this.tty = Boolean(process.stdout.isTTY) && process.env.CI !== "true";
  }

  /** Redraws (at most every 100 ms) with `done` of `total` steps and a status text. */
  update(done: number, status = ""): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(frac * this.width);
    const bar = "#".repeat(filled) + ".".repeat(this.width - filled);
    const elapsed = (now - this.start) / 1000;
    const line = `${this.label} [${bar}] ${String(Math.round(frac * 100)).padStart(3)}% ${done}/${this.total} ${status} · ${formatSeconds(elapsed)}`;
    process.stdout.write(`\r${line.slice(0, (process.stdout.columns ?? 120) - 1).padEnd(Math.min(line.length, (process.stdout.columns ?? 120) - 1))}\x1b[K`);
  }

  /** Ends the bar with a final message (always printed, TTY or not). */
  done(message = ""): number {
    const seconds = (performance.now() - this.start) / 1000;
    const line = `${this.label}: ${message} (${formatSeconds(seconds)})`;
    if (this.tty) process.stdout.write(`\r${line}\x1b[K\n`);
    else console.log(line);
    return seconds;
  }
}
