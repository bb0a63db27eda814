/**
 * @file The bad-input catalogue (issue 17): every entry of `entries/*.ts` is a bad call to an export
 * of a package's public index; each must throw its typed error (never a plain `Error`, never an
 * `internal:` one) whose message names the function and matches the entry's pattern. Entries with
 * `knownGap` are reported as todo. The completeness check requires every function or class export
 * to have an entry or an exemption (`exempt.ts`), so a new export without one fails here.
 */
import { describe, expect, it } from "vitest";
import { PACKAGES, type BadCall, type PackageName } from "./types.js";
import { EXEMPT } from "./exempt.js";
import { namesFunction, runEntry } from "./run.js";
import { entries as tensor } from "./entries/tensor.js";
import { entries as autograd } from "./entries/autograd.js";
import { entries as optim } from "./entries/optim.js";
import { entries as nn } from "./entries/nn.js";
import { entries as compress } from "./entries/compress.js";
import { entries as privacy } from "./entries/privacy.js";
import { entries as io } from "./entries/io.js";

const CATALOGUE: Record<PackageName, BadCall[]> = { tensor, autograd, optim, nn, compress, privacy, io };

const MODULES: Record<PackageName, () => Promise<Record<string, unknown>>> = {
  tensor: () => import("@tapegrad/tensor"),
  autograd: () => import("@tapegrad/autograd"),
  optim: () => import("@tapegrad/optim"),
  nn: () => import("@tapegrad/nn"),
  compress: () => import("@tapegrad/compress"),
  privacy: () => import("@tapegrad/privacy"),
  io: () => import("@tapegrad/io"),
};

/**
 * The function and class exports of a module, by name; the members of a namespace export
 * (`export * as init`) count as `init.<name>`. Constants, enums and type-only exports are skipped.
 */
function callableExports(mod: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [name, value] of Object.entries(mod)) {
    if (typeof value === "function") out.set(name, value);
    else if (value !== null && typeof value === "object" && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "Module") {
      for (const [k, v] of Object.entries(value)) if (typeof v === "function") out.set(`${name}.${k}`, v);
    }
  }
  return out;
}

for (const pkg of PACKAGES) {
  describe(`bad-input catalogue: @tapegrad/${pkg}`, () => {
    for (const [i, entry] of CATALOGUE[pkg].entries()) {
      const title = `${entry.fn}${entry.name && entry.name !== entry.fn ? ` (${entry.name})` : ""}: ${entry.what} [#${i}]`;
      if (entry.knownGap !== undefined) {
        it.todo(`${title} — known gap: ${entry.knownGap}`);
        continue;
      }
      it(title, async () => {
        expect(entry.error, "entry needs an error class").toBeDefined();
        expect(entry.message, "entry needs a message pattern").toBeDefined();
        expect(entry.error, "a plain Error is not a typed error").not.toBe(Error);
        const o = await runEntry(entry);
        expect(o.threw, "the call must throw").toBe(true);
        expect(o.error).toBeInstanceOf(entry.error!);
        const message = o.message ?? "";
        expect(message.startsWith("internal:"), `an internal error for bad input: ${message}`).toBe(false);
        expect(namesFunction(message, entry.name ?? entry.fn), `message does not name ${entry.name ?? entry.fn}: ${message}`).toBe(true);
        expect(message).toMatch(entry.message!);
      });
    }

    it("has an entry or an exemption for every function and class export", async () => {
      const mod = await MODULES[pkg]();
      const covered = new Set(CATALOGUE[pkg].map((e) => e.fn));
      const exempt = EXEMPT[pkg];
      const missing: string[] = [];
      const callables = callableExports(mod);
      for (const name of callables.keys()) if (!covered.has(name) && !(name in exempt)) missing.push(name);
      expect(missing, `exports of @tapegrad/${pkg} with neither a catalogue entry nor an exemption`).toEqual([]);
      const stale = [...covered, ...Object.keys(exempt)].filter((n) => !callables.has(n));
      expect(stale, "catalogue names that are not function or class exports").toEqual([]);
    });
  });
}
