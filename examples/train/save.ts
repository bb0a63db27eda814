/**
 * @file `pnpm train --save FILE.safetensors`: the trained model's state dict as a safetensors file
 * PyTorch loads into the `nn.Sequential` of the same shape (keys `0.weight`, `0.bias`, …; F32, and
 * BatchNorm's `num_batches_tracked` as I64 like torch's; metadata `{"format":"pt"}`), written
 * atomically (`writeFileAtomic`: a crash never leaves half a file).
 */
import type { Module } from "@tapegrad/nn";
import { encodeStateDict } from "@tapegrad/io";
import { writeFileAtomic } from "../lib/atomic-file.js";

/** Writes `model`'s state dict to `path` atomically (temporary file, fsync, rename); returns the byte count. */
export function saveSafetensors(path: string, model: Module): number {
  const bytes = encodeStateDict(model.stateDict()); // PyTorch's dtypes and {"format": "pt"}
  writeFileAtomic(path, bytes);
  return bytes.length;
}
