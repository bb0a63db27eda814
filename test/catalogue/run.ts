/**
 * @file Runs one catalogue entry and reports what it threw (shared by the test and the table script).
 */
import type { BadCall } from "./types.js";

export interface Outcome {
  threw: boolean;
  error?: unknown;
  /** The thrown value's class name and message, when it threw an Error. */
  className?: string;
  message?: string;
}

export async function runEntry(entry: BadCall): Promise<Outcome> {
  try {
    const r = entry.call();
    if (r instanceof Promise) await r;
    return { threw: false };
  } catch (e) {
    if (e instanceof Error) return { threw: true, error: e, className: e.constructor.name, message: e.message };
    return { threw: true, error: e, className: typeof e, message: String(e) };
  }
}

/**
 * Whether `message` carries `name` as a word (`matmul:`, `Tensor.reshape:`, `SGD(...)`), ignoring
 * case: a layer may report through its op (`RNN` -> `rnn:`, `LayerNorm` -> `layerNorm:`).
 */
export function namesFunction(message: string, name: string): boolean {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^A-Za-z0-9_])${esc}([^A-Za-z0-9_]|$)`, "i").test(message);
}
