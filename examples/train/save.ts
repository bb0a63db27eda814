/**
 * @file `pnpm train --save FILE.safetensors`: the trained model's state dict as a safetensors file
 * PyTorch loads into the `nn.Sequential` of the same shape (keys `0.weight`, `0.bias`, …; F32, and
 * BatchNorm's `num_batches_tracked` as I64 like torch's; metadata `{"format":"pt"}`). Written to a
 * temporary file in the same directory, flushed, then renamed, so a crash never leaves half a file.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Module } from "@tapegrad/nn";
import { type TensorInput, writeSafetensors } from "@tapegrad/io";

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
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return bytes.length;
}
