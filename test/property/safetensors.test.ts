/**
 * @file Property test of safetensors write → read identity (packages/io): random tensor names
 * (any Unicode, astral code points included), every dtype of the format as raw bytes (random
 * bytes; BOOL as 0/1; sub-byte F4/F6 with whole-byte sizes), shapes incl. 0-d and empty, float32
 * Tensors (contiguous or strided views, with ±0, ±Infinity and NaN among the values) and optional
 * `__metadata__` with Unicode keys and values. read(write(x)) must return exactly x: same names,
 * dtypes, shapes, bit-identical bytes, same metadata; and writing what was read gives the same
 * file again (the writer is canonical). For the engine dtypes (F64 … BOOL) the typed values
 * (`values`, bigint for I64, F16/BF16 widened to float32) written back as `{dtype, shape, data}`
 * give the same values again (Object.is per element) and, without NaNs, the same bytes.
 *
 * Signaling-NaN payloads are not generated here; test/io/write.test.ts checks that F32/F64 bit
 * patterns (signaling NaNs included) round-trip exactly (the writer and reader copy bytes).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Rng, Tensor } from "@tapegrad/tensor";
import { DTYPE_ORDER, ENGINE_DTYPES, dtypeBits, readSafetensors, toTensor, values, writeSafetensors, type Dtype, type EngineDtype } from "@tapegrad/io";
import { makeInput, runs, seedArb, shapeArb } from "./arbitraries.js";

/** Any well-formed Unicode string (no lone surrogates) of 1–8 code points, never "__metadata__". */
const nameArb = fc.string({ unit: "binary", minLength: 1, maxLength: 8 }).filter((s) => s !== "__metadata__");

function randomBytes(n: number, seed: number, bool: boolean): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => (bool ? rng.int(0, 2) : rng.int(0, 256)));
}

const rawArb = fc.record({ dtype: fc.constantFrom<Dtype>(...DTYPE_ORDER), shape: shapeArb(0, 3, 4, 0), seed: seedArb }).map(({ dtype, shape, seed }) => {
  // sub-byte dtypes need a whole number of bytes: pad the last dim (or make it 0-d/empty friendly)
  const bits = dtypeBits(dtype);
  let s = shape;
  const count = s.reduce((a, b) => a * b, 1);
  if ((count * bits) % 8 !== 0) s = [...s, 8 / gcd(8, bits)]; // count·(8/gcd)·bits is a multiple of 8
  const n = (s.reduce((a, b) => a * b, 1) * bits) / 8;
  return { kind: "raw" as const, dtype, shape: s, bytes: randomBytes(n, seed, dtype === "BOOL") };
});

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** float32 Tensors, some strided, with special values planted. */
const tensorArb = fc.record({ shape: shapeArb(0, 3, 4, 0), seed: seedArb, strided: fc.boolean(), special: fc.array(fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 3.4e38, 1e-45), { maxLength: 3 }) }).map(
  ({ shape, seed, strided, special }) => {
    const t = makeInput(shape, seed, strided);
    const c = t.contiguous().clone();
    special.forEach((v, i) => {
      if (c.size > 0) c.data[(i * 7) % c.size] = v;
    });
    return { kind: "tensor" as const, tensor: strided && c.ndim > 1 ? c.mT.contiguous().mT : c };
  },
);

const fileArb = fc.record({
  entries: fc.uniqueArray(fc.tuple(nameArb, fc.oneof(rawArb, tensorArb)), { minLength: 0, maxLength: 6, selector: ([n]) => n }),
  metadata: fc.option(fc.dictionary(fc.string({ unit: "binary", maxLength: 6 }), fc.string({ unit: "binary", maxLength: 10 }), { maxKeys: 4 }), { nil: null }),
});

const f32Bits = (t: Tensor): Uint32Array => new Uint32Array(t.contiguous().toFloat32Array().slice().buffer);

describe("safetensors write → read identity", () => {
  it("read(write(x)) returns the same names, dtypes, shapes, bytes and metadata; re-writing gives the same file", () => {
    fc.assert(
      fc.property(fileArb, ({ entries, metadata }) => {
        const input = entries.map(([name, e]) => [name, e.kind === "raw" ? { dtype: e.dtype, shape: e.shape, bytes: e.bytes } : e.tensor] as const);
        const bytes = writeSafetensors(input, { metadata });
        const file = readSafetensors(bytes);
        expect(file.metadata).toEqual(metadata);
        expect(file.tensors.map((t) => t.name).sort()).toEqual(entries.map(([n]) => n).sort());
        const byName = new Map(file.tensors.map((t) => [t.name, t]));
        for (const [name, e] of entries) {
          const got = byName.get(name)!;
          if (e.kind === "raw") {
            expect(got.dtype, name).toBe(e.dtype);
            expect(got.shape, name).toEqual(e.shape);
            expect(got.bytes, name).toEqual(e.bytes);
          } else {
            expect(got.dtype, name).toBe("F32");
            expect(got.shape, name).toEqual(e.tensor.shape);
            const back = toTensor(got);
            expect(back.shape).toEqual(e.tensor.shape);
            expect(f32Bits(back), name).toEqual(f32Bits(e.tensor));
          }
        }
        // canonical: writing what was read (as raw bytes) reproduces the file byte for byte
        const again = writeSafetensors(file.tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape, bytes: t.bytes }] as const), { metadata: file.metadata });
        expect(again).toEqual(bytes);
      }),
      runs(6100, 400),
    );
  });
});

/**
 * Plants edge patterns into every other element of `w` bytes (little-endian): 0, the sign bit
 * alone (−0, the most negative integer), all ones (−1, NaN), 1 in the lowest byte (the smallest
 * subnormal), and the largest finite float / integer below the sign bit.
 */
function withSpecials(bytes: Uint8Array, w: number, bool: boolean, seed: number): Uint8Array {
  if (bool) return bytes;
  const rng = new Rng(seed ^ 0xabc);
  for (let e = 0; e * w < bytes.length; e += 2) {
    const kind = rng.int(0, 5);
    for (let b = 0; b < w; b++) {
      const last = b === w - 1;
      bytes[e * w + b] = kind === 0 ? 0 : kind === 1 ? (last ? 0x80 : 0) : kind === 2 ? 0xff : kind === 3 ? (b === 0 ? 1 : 0) : last ? 0x7f : 0xff;
    }
  }
  return bytes;
}

const show = (x: number | bigint): string => (Object.is(x, -0) ? "-0" : typeof x === "bigint" ? `${x}n` : String(x));

describe("safetensors typed values round trip", () => {
  const valuesArb = fc.record({ dtype: fc.constantFrom<EngineDtype>(...ENGINE_DTYPES), shape: shapeArb(0, 3, 4, 0), seed: seedArb, name: nameArb });
  it("values(read(write({dtype, shape, data: values(x)}))) equals values(x), and the bytes too when there is no NaN", () => {
    fc.assert(
      fc.property(valuesArb, ({ dtype, shape, seed, name }) => {
        const n = (shape.reduce((a, b) => a * b, 1) * dtypeBits(dtype)) / 8;
        const raw = { name, dtype, shape, bytes: withSpecials(randomBytes(n, seed, dtype === "BOOL"), dtypeBits(dtype) / 8, dtype === "BOOL", seed) };
        const data = values(raw);
        const file = readSafetensors(writeSafetensors([[name, { dtype, shape, data }]]));
        const got = file.tensors[0]!;
        expect([got.name, got.dtype, got.shape]).toEqual([name, dtype, shape]);
        const back = values(got);
        expect(back.length).toBe(data.length);
        let nan = false;
        for (let i = 0; i < data.length; i++) {
          const a = data[i]!, b = back[i]!;
          if (typeof a === "number" && Number.isNaN(a)) nan = true;
          if (!Object.is(a, b)) expect.fail(`${dtype} element ${i}: wrote ${show(a)}, read ${show(b)}`);
        }
        if (!nan) expect(got.bytes).toEqual(raw.bytes);
      }),
      runs(6101, 400),
    );
  });
});
