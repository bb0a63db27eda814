/**
 * @file State dicts as PyTorch writes them: `encodeStateDict` turns a module's state dict into the
 * safetensors bytes `safetensors.torch.save_file` would produce for the same PyTorch module
 * (float32 tensors, and the integer buffers PyTorch keeps as int64 — BatchNorm's
 * `num_batches_tracked` — as I64; metadata `{"format": "pt"}`), and `decodeStateDict` reads any
 * safetensors state dict back as float32 tensors by name, ready for `Module.loadStateDict`.
 */
import { Tensor } from "@tapegrad/tensor";
import type { TensorInput } from "./encode.js";
import { writeSafetensors } from "./write.js";
import { readSafetensors } from "./read.js";
import { toTensor } from "./values.js";

/** Keys whose tensors PyTorch stores as int64 (BatchNorm's step counter). */
const INT64_SUFFIXES = ["num_batches_tracked"];

/** Options of {@link encodeStateDict}. */
export interface EncodeStateDictOptions {
  /** `__metadata__` (default `{"format": "pt"}`, what PyTorch's `save_file` writes). */
  metadata?: Record<string, string> | null;
}

/**
 * A state dict (`module.stateDict()`: name → Tensor, PyTorch's key names) as safetensors bytes a
 * PyTorch module of the same shape loads with `load_state_dict` (float32, int64 where PyTorch keeps
 * an integer buffer). Bytes only: write them with `fs` in Node or offer them as a download.
 *
 * @throws {TypeError} when `stateDict` is not an object of Tensors (naming the key); whatever
 * `writeSafetensors` throws for a bad name or metadata; {RangeError} for an int64 buffer holding a
 * value that is not an integer.
 * @example
 * ```ts
 * const bytes = encodeStateDict(model.stateDict());       // then, in PyTorch:
 * // model.load_state_dict(safetensors.torch.load_file("model.safetensors"))
 * ```
 */
export function encodeStateDict(stateDict: Readonly<Record<string, Tensor>>, opts: EncodeStateDictOptions = {}): Uint8Array {
  if (stateDict === null || typeof stateDict !== "object" || Array.isArray(stateDict)) throw new TypeError(`encodeStateDict: expected a state dict (name → Tensor) (got ${stateDict === null ? "null" : typeof stateDict})`);
  const entries = Object.entries(stateDict).map(([name, t]): [string, TensorInput] => {
    if (!(t instanceof Tensor)) throw new TypeError(`encodeStateDict: "${name}" must be a Tensor (got ${t === null ? "null" : typeof t})`);
    if (!INT64_SUFFIXES.some((s) => name === s || name.endsWith(`.${s}`))) return [name, t];
    return [name, { dtype: "I64", shape: [...t.shape], data: Array.from(t.toFloat32Array()) }];
  });
  return writeSafetensors(entries, { metadata: opts.metadata === undefined ? { format: "pt" } : opts.metadata });
}

/**
 * Reads a safetensors state dict (from PyTorch, JAX, Hugging Face or {@link encodeStateDict}) as
 * float32 Tensors by name, for `module.loadStateDict(...)` (which reports missing, unexpected and
 * mismatched keys as PyTorch does). Every stored dtype is converted (int64 counters, float16,
 * bfloat16, float64, …).
 *
 * @throws {SafetensorsError} for a malformed file (its `category` says which defect); {TypeError}
 * for a dtype without a numeric conversion (F8_*, U16, …).
 * @example
 * ```ts
 * const { missingKeys, unexpectedKeys } = model.loadStateDict(decodeStateDict(bytes), { strict: false });
 * ```
 */
export function decodeStateDict(bytes: Uint8Array): Record<string, Tensor> {
  return Object.fromEntries(readSafetensors(bytes).tensors.map((t) => [t.name, toTensor(t)]));
}
