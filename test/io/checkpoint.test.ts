/**
 * @file Checkpoint trees and bytes: every leaf kind and awkward number survives a round trip
 * bit-exactly, user keys starting with `$` are kept apart from the format's markers, values a
 * checkpoint cannot hold are named, and `loadTrainingState` refuses parts missing on either side
 * before restoring anything.
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor } from "@tapegrad/tensor";
import { Linear } from "@tapegrad/nn";
import { SGD } from "@tapegrad/optim";
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, loadTrainingState, readSafetensors, saveTrainingState, writeSafetensors } from "@tapegrad/io";

describe("encodeCheckpoint / decodeCheckpoint", () => {
  it("round-trips JSON, awkward numbers and every array kind bit-exactly", () => {
    const t = new Tensor(Float32Array.from([1.5, -0, NaN, Infinity]), [2, 2]);
    const tree = {
      step: 7, name: "run α", flags: [true, false, null], nums: [NaN, Infinity, -Infinity, -0, 0, 1e-310],
      $price: 3, nested: { $array: "not a marker", kind: "tensor", $number: "NaN" },
      t, f32: Float32Array.from([3, -0]), f64: Float64Array.from([Math.PI, -0]), i32: Int32Array.from([-5, 2 ** 31 - 1]), empty: new Float32Array(0),
      skipped: undefined,
    };
    const back = decodeCheckpoint(encodeCheckpoint(tree)) as Record<string, unknown>;
    expect(back.step).toBe(7);
    expect(back.name).toBe("run α");
    expect(back.flags).toEqual([true, false, null]);
    const nums = back.nums as number[];
    expect(Number.isNaN(nums[0])).toBe(true);
    expect(nums.slice(1, 3)).toEqual([Infinity, -Infinity]);
    expect(Object.is(nums[3], -0)).toBe(true);
    expect(Object.is(nums[4], 0)).toBe(true);
    expect(nums[5]).toBe(1e-310);
    expect(back.$price).toBe(3);
    expect(back.nested).toEqual({ $array: "not a marker", kind: "tensor", $number: "NaN" });
    expect(back.t).toBeInstanceOf(Tensor);
    expect((back.t as Tensor).shape).toEqual([2, 2]);
    expect(new Uint32Array((back.t as Tensor).toFloat32Array().buffer)).toEqual(new Uint32Array(t.toFloat32Array().buffer));
    expect(back.f32).toBeInstanceOf(Float32Array);
    expect(Object.is((back.f32 as Float32Array)[1], -0)).toBe(true);
    expect(Array.from(back.f64 as Float64Array)).toEqual([Math.PI, -0]);
    expect(back.i32).toBeInstanceOf(Int32Array);
    expect(Array.from(back.i32 as Int32Array)).toEqual([-5, 2 ** 31 - 1]);
    expect((back.empty as Float32Array).length).toBe(0);
    expect("skipped" in back).toBe(false);
  });

  it("names what a checkpoint cannot hold, and refuses other files", () => {
    expect(() => encodeCheckpoint({ a: { b: [1, () => 2] } } as never)).toThrow(/encodeCheckpoint: checkpoint\.a\.b\[1\] is a function/);
    expect(() => encodeCheckpoint({ m: new Map() } as never)).toThrow(/checkpoint\.m is a Map/);
    expect(() => encodeCheckpoint({ n: 10n } as never)).toThrow(/checkpoint\.n is a bigint/);
    const plain = writeSafetensors({ w: new Tensor(new Float32Array(2), [2]) }, { metadata: { format: "pt" } });
    expect(() => decodeCheckpoint(plain)).toThrow(/decodeCheckpoint: the file's metadata has no format "tapegrad.checkpoint" \(got "pt"\)/);
    const bytes = encodeCheckpoint({ x: 1 });
    const meta = readSafetensors(bytes).metadata!;
    const other = writeSafetensors({}, { metadata: { ...meta, version: "9" } });
    expect(() => decodeCheckpoint(other)).toThrow(/checkpoint version "9" is not supported/);
    const edited = writeSafetensors({}, { metadata: { ...meta, tree: '{"x":2}' } });
    try {
      decodeCheckpoint(edited);
      expect.fail("an edited tree must be refused");
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      expect((e as CheckpointError).reason).toBe("checksum");
    }
  });
});

describe("saveTrainingState / loadTrainingState", () => {
  const setup = () => {
    const model = new Linear(3, 2, { rng: new Rng(0) });
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    return { model, opt, rng: new Rng(5) };
  };

  it("restores the model, the optimizer and the generators, and returns the step and extra", () => {
    const a = setup();
    a.rng.random();
    const bytes = saveTrainingState({ model: a.model, optimizer: a.opt, rngs: { noise: a.rng } }, { step: 12, extra: { best: 0.5 } });
    const b = setup();
    b.model.weight.value.data.fill(0);
    const info = loadTrainingState(bytes, { model: b.model, optimizer: b.opt, rngs: { noise: b.rng } });
    expect(info).toEqual({ step: 12, extra: { best: 0.5 } });
    expect(Array.from(b.model.weight.value.toFloat32Array())).toEqual(Array.from(a.model.weight.value.toFloat32Array()));
    expect(b.rng.random()).toBe(a.rng.random());
  });

  it("refuses parts missing on either side, before restoring anything", () => {
    const a = setup();
    const bytes = saveTrainingState({ model: a.model, rngs: { noise: a.rng } }, { step: 1 });
    const b = setup();
    const before = Array.from(b.model.weight.value.toFloat32Array());
    expect(() => loadTrainingState(bytes, { model: b.model, optimizer: b.opt, rngs: { noise: b.rng, other: new Rng(1) } })).toThrow(
      "loadTrainingState: the checkpoint has no optimizer; the checkpoint has no rngs.other",
    );
    expect(() => loadTrainingState(bytes, { model: b.model })).toThrow("loadTrainingState: the checkpoint's rngs.noise was not given to restore it");
    expect(Array.from(b.model.weight.value.toFloat32Array())).toEqual(before);
    expect(() => saveTrainingState({}, { step: -1 })).toThrow(/saveTrainingState: step must be a non-negative integer \(got -1\)/);
    expect(() => loadTrainingState(encodeCheckpoint({ kind: "other" }), {})).toThrow(/not a training checkpoint \(kind "other"\)/);
  });
});
