/**
 * @file Dev helper for the bad-input catalogue: runs the entries of one package that have neither
 * `error`/`message` nor `knownGap`, and writes the observed error class and an anchored pattern of
 * the observed message into their (one-line) source, when the error is acceptable (typed, names the
 * function, not `internal:`). Prints the others for a fix or a known gap.
 *
 * Usage: `tsx --conditions=source scripts/catalogue-fill.ts <entries> [--dry]`, where `<entries>` names
 * a file of `test/catalogue/entries/` that holds its entries one per line (a package, or for
 * `@tapegrad/tensor` one of `tensor-create`, `tensor-math`, `tensor-ops`; `tensor.ts` only joins them).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runEntry, namesFunction } from "../test/catalogue/run.js";
import type { BadCall } from "../test/catalogue/types.js";

const pkg = process.argv[2];
const dry = process.argv.includes("--dry");
const file = fileURLToPath(new URL(`../test/catalogue/entries/${pkg}.ts`, import.meta.url));
const { entries } = (await import(file)) as { entries: BadCall[] };
const lines = readFileSync(file, "utf8").split("\n");
const entryLines = lines.map((l, i) => (/^\s*\{ fn: /.test(l) ? i : -1)).filter((i) => i >= 0);
if (entryLines.length !== entries.length) {
  const hint = entryLines.length === 0 ? " (a file that joins other entry files: pass one of those)" : "";
  throw new Error(`catalogue-fill: ${pkg}.ts has ${entries.length} entries but ${entryLines.length} entry lines${hint}`);
}
const TYPED = new Set(["TypeError", "RangeError", "ShapeError", "NonFiniteGradientError", "StateDictError"]);
let filled = 0;
for (let i = 0; i < entries.length; i++) {
  const e = entries[i]!;
  if ((e.error && e.message) || e.knownGap) continue;
  const o = await runEntry(e);
  const name = e.name ?? e.fn;
  const msg = (o.message ?? "").split("\n")[0]!;
  let problem = "";
  if (!o.threw) problem = "did not throw";
  else if (!TYPED.has(o.className ?? "")) problem = `threw ${o.className}`;
  else if (msg.startsWith("internal:")) problem = "internal:";
  else if (!namesFunction(msg, name)) problem = `does not name ${name}`;
  if (problem) {
    console.log(`#${i} ${e.fn} [${e.what}] ${problem}: ${o.className ?? ""}: ${msg}`);
    continue;
  }
  const pat = msg.slice(0, 110).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const ln = entryLines[i]!;
  lines[ln] = lines[ln]!.replace(/\s*\},\s*$/, `, error: ${o.className}, message: /^${pat}/ },`);
  filled++;
}
if (!dry) writeFileSync(file, lines.join("\n"));
console.log(`${pkg}: filled ${filled} of ${entries.length}`);
