/**
 * @file The error of `Module.loadStateDict`: every problem of a state dict at once, in PyTorch's
 * words (`load_state_dict`'s "Missing key(s)", "Unexpected key(s)", "size mismatch for …").
 */
import { fmt } from "@tapegrad/tensor";

/** A key whose tensor has another shape than the module's (PyTorch's "size mismatch for …"). */
export interface SizeMismatch {
  key: string;
  /** The shape in the state dict (the checkpoint). */
  checkpoint: number[];
  /** The shape in the module. */
  model: number[];
}

/**
 * The error of {@link Module.loadStateDict}, listing every problem at once as PyTorch's
 * `load_state_dict` does: missing keys and unexpected keys (with `strict`) and size mismatches
 * (always). Nothing was loaded.
 *
 * @example
 * ```ts
 * try { model.loadStateDict(sd); } catch (e) { if (e instanceof StateDictError) console.log(e.sizeMismatches); }
 * ```
 * @throws never (an error class).
 */
export class StateDictError extends Error {
  constructor(
    readonly moduleName: string,
    readonly missingKeys: string[],
    readonly unexpectedKeys: string[],
    readonly sizeMismatches: SizeMismatch[],
  ) {
    const q = (keys: string[]) => keys.map((k) => JSON.stringify(k)).join(", ");
    const lines: string[] = [];
    if (missingKeys.length > 0) lines.push(`Missing key(s) in state_dict: ${q(missingKeys)}.`);
    if (unexpectedKeys.length > 0) lines.push(`Unexpected key(s) in state_dict: ${q(unexpectedKeys)}.`);
    for (const m of sizeMismatches) {
      lines.push(`size mismatch for ${m.key}: copying a param with shape ${fmt(m.checkpoint)} from checkpoint, the shape in current model is ${fmt(m.model)}.`);
    }
    super(`loadStateDict: Error(s) in loading state_dict for ${moduleName}:\n\t${lines.join("\n\t")}`);
    this.name = "StateDictError";
  }
}
