/**
 * @file Exact resume: training 100 steps straight and training 50 steps, saving a checkpoint
 * (atomically, to a file), then loading it in a fresh process and training the last 50 give
 * bit-identical weights — for SGD with momentum and OneCycleLR, Adam with AutoClip and cosine
 * annealing, AdamW with ZClip and a functional schedule; the model has dropout and the loader
 * shuffles, and step 50 is in the middle of an epoch. Also: the checkpoint is a safetensors file
 * whose tensors other readers see, and a corrupted or truncated checkpoint is refused.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CheckpointError, decodeCheckpoint, loadTrainingState, readSafetensors } from "@tapegrad/io";

const ROOT = resolve(import.meta.dirname, "../..");
const SCRIPT = join(ROOT, "test/fixtures/resume-run.ts");
const dir = mkdtempSync(join(tmpdir(), "tapegrad-resume-"));

function run(...args: string[]): string {
  const res = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", SCRIPT, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  if (res.status !== 0) throw new Error(`resume-run ${args.join(" ")} failed (${res.status}): ${res.stderr}`);
  return res.stdout.trim();
}

describe("exact resume from a checkpoint in a fresh process", () => {
  for (const config of ["sgd", "adam-autoclip", "zclip"]) {
    it(`${config}: 100 steps straight = 50 + save + load + 50, bit for bit`, () => {
      const file = join(dir, `${config}.safetensors`);
      const straight = JSON.parse(run(config, "straight")) as { step: number; bits: string[] };
      run(config, "first", file);
      const resumed = JSON.parse(run(config, "second", file)) as { step: number; bits: string[] };
      expect(straight.step).toBe(100);
      expect(resumed.step).toBe(100);
      expect(resumed.bits).toEqual(straight.bits);
      // the file is plain safetensors: PyTorch's key names for the model, the metadata tags it
      const st = readSafetensors(new Uint8Array(readFileSync(file)));
      expect(st.metadata?.format).toBe("tapegrad.checkpoint");
      const tree = decodeCheckpoint(new Uint8Array(readFileSync(file))) as Record<string, unknown>;
      expect(Object.keys(tree.model as object)).toEqual(["0.weight", "0.bias", "3.weight", "3.bias"]);
      expect(tree.step).toBe(50);
      expect((tree.loaders as Record<string, { position: number }>).train.position).toBe(11); // 50 = 3·13 + 11
    }, 180_000);
  }

  it("a flipped byte or a truncated file is refused with the reason", () => {
    const good = new Uint8Array(readFileSync(join(dir, "sgd.safetensors")));
    const flipped = good.slice();
    flipped[flipped.length - 3]! ^= 0x10; // inside the last tensor's data
    expect(() => decodeCheckpoint(flipped)).toThrow(/decodeCheckpoint: checksum mismatch/);
    try {
      decodeCheckpoint(flipped);
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      expect((e as CheckpointError).reason).toBe("checksum");
    }
    expect(() => decodeCheckpoint(good.subarray(0, good.length - 5))).toThrow(/decodeCheckpoint: not a valid safetensors file \(truncated\)/);
    const path = join(dir, "corrupt.safetensors");
    writeFileSync(path, flipped);
    expect(() => loadTrainingState(new Uint8Array(readFileSync(path)), {})).toThrow(CheckpointError);
  });
});
