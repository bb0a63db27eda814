/**
 * @file Checkpoint bytes: a {@link Tree} in one safetensors file. The arrays are the file's
 * tensors (bit-exact, readable by any safetensors reader); the JSON skeleton, a format tag and a
 * CRC-32 over the arrays and the skeleton are its `__metadata__`. Decoding verifies the checksum,
 * so a corrupted or truncated checkpoint is refused rather than half-loaded. Bytes in, bytes out:
 * the same code runs in the browser; the Node CLI writes them atomically (`examples/lib`).
 */
import { crc32 } from "../crc32.js";
import { compareUtf8, writeSafetensors } from "../write.js";
import { readSafetensors } from "../read.js";
import { SafetensorsError } from "../errors.js";
import { type Tree, type TreeTensor, joinTree, splitTree } from "./tree.js";

/**
 * The `format` tag of a checkpoint's metadata.
 *
 * @example
 * ```ts
 * readSafetensors(bytes).metadata?.format === CHECKPOINT_FORMAT; // a checkpoint
 * ```
 * @throws never (a constant).
 */
export const CHECKPOINT_FORMAT = "tapegrad.checkpoint";
/**
 * The version this code writes and reads.
 *
 * @example
 * ```ts
 * CHECKPOINT_VERSION; // "1"
 * ```
 * @throws never (a constant).
 */
export const CHECKPOINT_VERSION = "1";

/**
 * Why a checkpoint was refused: `not_a_checkpoint` (a safetensors file without the tag), `version`,
 * `checksum` (the content does not match its CRC-32), `corrupt` (the file is not valid safetensors,
 * or its skeleton is not valid), `parts` (the checkpoint and the objects given to restore it do not
 * hold the same parts), with the message saying which; `fn` names the function that refused it.
 *
 * @example
 * ```ts
 * try { decodeCheckpoint(bytes); } catch (e) { if (e instanceof CheckpointError && e.reason === "checksum") … }
 * ```
 * @throws never (an error class).
 */
export class CheckpointError extends Error {
  constructor(readonly reason: "not_a_checkpoint" | "version" | "checksum" | "corrupt" | "parts", message: string, fn = "decodeCheckpoint") {
    super(`${fn}: ${message}`);
    this.name = "CheckpointError";
  }
}

const utf8 = new TextEncoder();

/** CRC-32 of the arrays (in UTF-8 name order: independent of the file's layout) and the skeleton. */
function checksum(arrays: readonly TreeTensor[], skeleton: string): string {
  let c = 0;
  for (const a of [...arrays].sort((x, y) => compareUtf8(x.name, y.name))) {
    c = crc32(utf8.encode(`${a.name}:${a.dtype}:${a.shape.join(",")};`), 0, undefined, c);
    c = crc32(a.bytes, 0, a.bytes.length, c);
  }
  return crc32(utf8.encode(skeleton), 0, undefined, c).toString(16).padStart(8, "0");
}

/**
 * Encodes a checkpoint tree (JSON with `Tensor`/`Float32Array`/`Float64Array`/`Int32Array`
 * leaves, see `splitTree`) as safetensors bytes with a checksum.
 *
 * @throws {TypeError} for a value a checkpoint cannot hold (named by its path).
 * @example
 * ```ts
 * const bytes = encodeCheckpoint({ step: 50, model: model.stateDict(), optimizer: opt.stateDict() });
 * ```
 */
export function encodeCheckpoint(tree: Tree): Uint8Array {
  const { skeleton, arrays } = splitTree(tree);
  const text = JSON.stringify(skeleton);
  const metadata = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, tree: text, crc32: checksum(arrays, text) };
  return writeSafetensors(arrays.map((a) => [a.name, { dtype: a.dtype, shape: a.shape, bytes: a.bytes }] as const), { metadata });
}

/**
 * Decodes and verifies checkpoint bytes (see {@link encodeCheckpoint}); the tree comes back with
 * the same leaves (`Tensor` as `Tensor`, typed arrays as their type, NaN/±Infinity/−0 numbers).
 *
 * @throws {CheckpointError} `decodeCheckpoint: …` for bytes that are not a valid safetensors file
 * (`corrupt`, with the reader's reason), not a checkpoint, another version, or a checksum mismatch.
 * @example
 * ```ts
 * const { step, model } = decodeCheckpoint(bytes) as { step: number; model: Record<string, Tensor> };
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array): Tree {
  let file;
  try {
    file = readSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError("corrupt", `not a valid safetensors file (${e.category}): ${e.message}`);
    throw e;
  }
  const m = file.metadata;
  if (m === null || m.format !== CHECKPOINT_FORMAT) throw new CheckpointError("not_a_checkpoint", `the file's metadata has no format "${CHECKPOINT_FORMAT}" (got ${JSON.stringify(m?.format ?? null)})`);
  if (m.version !== CHECKPOINT_VERSION) throw new CheckpointError("version", `checkpoint version ${JSON.stringify(m.version)} is not supported (this reads "${CHECKPOINT_VERSION}")`);
  if (typeof m.tree !== "string" || typeof m.crc32 !== "string") throw new CheckpointError("corrupt", "the metadata lacks the tree or the checksum");
  const arrays: TreeTensor[] = file.tensors.map((t) => {
    if (t.dtype !== "F32" && t.dtype !== "F64" && t.dtype !== "I32") throw new CheckpointError("corrupt", `array ${JSON.stringify(t.name)} has dtype ${t.dtype}`);
    return { name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.bytes };
  });
  const sum = checksum(arrays, m.tree);
  if (sum !== m.crc32) throw new CheckpointError("checksum", `checksum mismatch: the content hashes to crc32 ${sum}, the file records ${m.crc32} (the file is corrupted)`);
  let skeleton: unknown;
  try {
    skeleton = JSON.parse(m.tree);
  } catch (e) {
    throw new CheckpointError("corrupt", `the tree is not JSON: ${(e as Error).message}`);
  }
  try {
    return joinTree(skeleton, new Map(arrays.map((a) => [a.name, a])));
  } catch (e) {
    throw new CheckpointError("corrupt", (e as Error).message.replace(/^decodeCheckpoint: /, ""));
  }
}
