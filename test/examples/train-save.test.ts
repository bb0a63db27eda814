/**
 * @file `pnpm train --save`: one tiny epoch on synthetic data, saved with the trainer's writer and
 * re-read with `readSafetensors`: PyTorch's Sequential keys (`0`, `3`, `6` with dropout in
 * between), F32, `{"format":"pt"}`, and every tensor equal to the model's state dict.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Rng, Tensor, randn } from "@tapegrad/tensor";
import { BatchNorm1d, Linear, Sequential } from "@tapegrad/nn";
import { readSafetensors, toFloat32, values } from "@tapegrad/io";
import { train } from "../../examples/train/trainer.js";
import { saveSafetensors } from "../../examples/train/save.js";

const dir = mkdtempSync(join(tmpdir(), "tapegrad-save-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 256 train / 64 test synthetic "images" with 10 classes. */
function synthetic(n: number, seed: number) {
  const rng = new Rng(seed);
  return { x: randn([n, 784], rng), y: Int32Array.from({ length: n }, (_, i) => i % 10) };
}

describe("pnpm train --save", () => {
  it("saves the trained MLP's state dict with PyTorch's keys and values", () => {
    const r = train({ train: synthetic(256, 1), test: synthetic(64, 2) }, { epochs: 1, hidden: [16, 8], dropout: 0.2, batchSize: 64, seed: 0 });
    const path = join(dir, "mlp.safetensors");
    const n = saveSafetensors(path, r.model);
    expect(readdirSync(dir)).toEqual(["mlp.safetensors"]); // the temporary file was renamed
    const bytes = new Uint8Array(readFileSync(path));
    expect(bytes.length).toBe(n);
    const f = readSafetensors(bytes);
    expect(f.metadata).toEqual({ format: "pt" });
    const sd = r.model.stateDict();
    expect(Object.keys(sd)).toEqual(["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"]);
    expect(f.tensors.map((t) => t.name).sort()).toEqual(Object.keys(sd).sort());
    for (const t of f.tensors) {
      expect(t.dtype).toBe("F32");
      expect(t.shape).toEqual(sd[t.name]!.shape);
      expect(toFloat32(t)).toEqual(sd[t.name]!.contiguous().data.slice(0, sd[t.name]!.size));
    }
    expect(f.tensors.find((t) => t.name === "0.weight")!.shape).toEqual([16, 784]);
  });
  it("writes BatchNorm's num_batches_tracked as I64, like torch", () => {
    const model = new Sequential(new Linear(3, 2, { rng: new Rng(0) }), new BatchNorm1d(2));
    model.forward(new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]));
    const path = join(dir, "bn.safetensors");
    saveSafetensors(path, model);
    const f = readSafetensors(new Uint8Array(readFileSync(path)));
    const nbt = f.tensors.find((t) => t.name === "1.num_batches_tracked")!;
    expect(nbt.dtype).toBe("I64");
    expect(nbt.shape).toEqual([]);
    expect(Array.from(values(nbt) as BigInt64Array)).toEqual([1n]);
    expect(f.tensors.map((t) => t.name).sort()).toEqual(["0.bias", "0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean", "1.running_var", "1.weight"]);
  });
});
