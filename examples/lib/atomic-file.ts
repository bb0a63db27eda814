/**
 * @file Node-only file helpers for checkpoints and model files: an atomic write (a temporary file
 * in the same directory, fsync, rename over the target, fsync of the directory), so a crash or a
 * full disk leaves either the old file or the new one, never a torn one. The bytes come from
 * `@tapegrad/io` (`saveTrainingState`, `encodeCheckpoint`, `writeSafetensors`), which does not
 * touch the file system and runs in the browser too.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Writes `bytes` to `path` atomically (temporary file + fsync + rename + directory fsync).
 *
 * @throws the file system's error (the temporary file is removed first).
 * @example
 * ```ts
 * writeFileAtomic("run/ckpt.safetensors", saveTrainingState(parts, { step }));
 * ```
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(tmp, "w", 0o644);
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    throw e;
  }
  try {
    const d = openSync(dir, "r");
    try {
      fsyncSync(d); // make the rename itself durable
    } finally {
      closeSync(d);
    }
  } catch {
    // some platforms cannot open or fsync a directory; the rename is still atomic
  }
}

/**
 * Reads a whole file as bytes.
 *
 * @throws the file system's error (e.g. ENOENT).
 * @example
 * ```ts
 * loadTrainingState(readFileBytes("run/ckpt.safetensors"), parts);
 * ```
 */
export function readFileBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
