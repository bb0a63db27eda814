/**
 * @file `pnpm train --save FILE.safetensors`: the trained model's state dict as a safetensors file
 * PyTorch loads into the `nn.Sequential` of the same shape (keys `0.weight`, `0.bias`, …; F32, and
 * BatchNorm's `num_batches_tracked` as I64 like torch's; metadata `{"format":"pt"}`), written
 * atomically (`writeFileAtomic`: a crash never leaves half a file).
 */
import type { Module } from "@tapegrad/nn";
import { type TensorInput, writeSafetensors } from "@tapegrad/io";
import { writeFileAtomic } from "../lib/atomic-file.js";

/** The model's state dict as writer inputs, with torch's dtypes. */
export function stateDictTensors(model: Module): [string, TensorInput][] {
  return Object.entries(model.stateDict()).map(([name, t]): [string, TensorInput] => {
    if (!name.endsWith("num_batches_tracked")) return [name, t];
    const c = t.contiguous();
    return [name, { dtype: "I64", shape: [...t.shape], data: Array.from(c.data.subarray(c.offset, c.offset + c.size)) }];
  });
}

/** Writes `model`'s state dict to `path` atomically (temporary file, fsync, rename); returns the byte count. */
export function saveSafetensors(path: string, model: Module): number {
  const bytes = writeSafetensors(stateDictTensors(model), { metadata: { format: "pt" } });
  writeFileAtomic(path, bytes);
  return bytes.length;
}
