/**
 * @file PyTorch-compatible state dicts: `encodeStateDict` writes float32 tensors and BatchNorm's
 * `num_batches_tracked` as int64 with `{"format": "pt"}` (what `safetensors.torch.save_file` writes
 * for the same module), and `decodeStateDict` reads them back into a fresh module exactly.
 */
import { describe, expect, it } from "vitest";
import { Rng, randn } from "@tapegrad/tensor";
import { constant, noGrad } from "@tapegrad/autograd";
import { BatchNorm1d, Linear, ReLU, Sequential } from "@tapegrad/nn";
import { decodeStateDict, encodeStateDict, readSafetensors, values } from "@tapegrad/io";

const model = (seed: number) => new Sequential(new Linear(4, 6, { rng: new Rng(seed) }), new BatchNorm1d(6), new ReLU(), new Linear(6, 2, { rng: new Rng(seed + 1) }));

describe("encodeStateDict / decodeStateDict", () => {
  it("writes PyTorch's dtypes and metadata, and loads back bit for bit", () => {
    const a = model(0);
    noGrad(() => a.forward(constant(randn([8, 4], new Rng(5))))); // BatchNorm updates its buffers
    noGrad(() => a.forward(constant(randn([8, 4], new Rng(6)))));
    const bytes = encodeStateDict(a.stateDict());
    const file = readSafetensors(bytes);
    expect(file.metadata).toEqual({ format: "pt" });
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    expect(byName.get("1.num_batches_tracked")!.dtype).toBe("I64");
    expect(Array.from(values(byName.get("1.num_batches_tracked")!) as BigInt64Array)).toEqual([2n]);
    expect(byName.get("0.weight")!.dtype).toBe("F32");
    expect([...byName.keys()].sort()).toEqual(Object.keys(a.stateDict()).sort());
    const b = model(9);
    expect(b.loadStateDict(decodeStateDict(bytes))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [k, v] of Object.entries(a.stateDict())) expect(Array.from(b.stateDict()[k]!.toFloat32Array()), k).toEqual(Array.from(v.toFloat32Array()));
  });

  it("other metadata, and bad input named", () => {
    expect(readSafetensors(encodeStateDict(model(0).stateDict(), { metadata: null })).metadata).toBeNull();
    expect(() => encodeStateDict({ w: [1, 2] as never })).toThrow(/^encodeStateDict: "w" must be a Tensor \(got object\)/);
    expect(() => encodeStateDict(null as never)).toThrow(/^encodeStateDict: expected a state dict/);
    expect(() => decodeStateDict(new Uint8Array(4))).toThrow(/truncated/);
  });
});
