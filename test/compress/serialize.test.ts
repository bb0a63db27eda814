/**
 * @file Compressed-model serialization: bit-exact round trips of every encoding (dense / bitmask /
 * CSR float32, int8 per-tensor and per-channel, dense and pruned), the real byte sizes and the
 * automatic bitmask-vs-CSR choice at 50/80/95 % sparsity, `fp32Bytes`, and that every truncation,
 * byte flip and inconsistent header is rejected with a clear `decodeModel` error.
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor } from "@tapegrad/tensor";
import {
  crc32, decodeModel, dequantize, encodeModel, entryQTensor, entryTensor, fp32Bytes, qtensorEntry, quantizePerChannel, quantizePerTensor, tensorEntry,
  type DecodedEntry, type DecodedInt8Entry, type ModelEntry,
} from "@tapegrad/compress";

const bitsOf = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** A [rows, cols] float32 matrix with exactly `round(sparsity·n)` zeros at random positions (no zeros otherwise). */
function prunedMatrix(rows: number, cols: number, sparsity: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const n = rows * cols;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rng.random() + 0.01) * (rng.random() < 0.5 ? -1 : 1);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  rng.shuffle(order);
  const zeros = Math.round(sparsity * n);
  for (let i = 0; i < zeros; i++) data[order[i]!] = 0;
  return data;
}

/** Rebuilds a file with a modified JSON header (lengths and CRC recomputed), to test the validation behind the CRC. */
function withHeader(bytes: Uint8Array, edit: (h: any) => void, payloadEdit?: (payload: Uint8Array) => void): Uint8Array {
  const hLen = u32(bytes, 8), pLen = u32(bytes, 12);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + hLen)));
  const payload = bytes.slice(align(16 + hLen, 8), align(16 + hLen, 8) + pLen);
  edit(header);
  payloadEdit?.(payload);
  const hb = new TextEncoder().encode(JSON.stringify(header));
  const start = align(16 + hb.length, 8);
  const out = new Uint8Array(start + payload.length + 4);
  out.set(bytes.subarray(0, 16));
  const dv = new DataView(out.buffer);
  dv.setUint32(8, hb.length, true);
  dv.setUint32(12, payload.length, true);
  out.set(hb, 16);
  out.set(payload, start);
  dv.setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

/** A small model with every encoding in it. */
function smallModel(): ModelEntry[] {
  const special = new Float32Array([0, -0, 1.5, -2.25, Infinity, -Infinity, 1e-45, -3.4028234663852886e38, 0, 7]);
  return [
    { name: "dense", dtype: "float32", shape: [2, 5], data: special, layout: "dense" },
    { name: "pruned", dtype: "float32", shape: [4, 6], data: prunedMatrix(4, 6, 0.75, 1), layout: "sparse" },
    { name: "signed", dtype: "float32", shape: [8], data: new Float32Array([0, -0, 0, 3, 0, -0, 0, 0]), layout: "sparse" },
    { name: "q.pt", dtype: "qint8", shape: [3, 4], data: Int8Array.from([-128, 127, 0, 5, -1, 0, 0, 0, 9, 0, 0, -7]), scales: new Float32Array([0.0125]), zeroPoints: [0], layout: "dense" },
    { name: "q.pc", dtype: "quint8", shape: [2, 3, 2], data: Uint8Array.from([3, 3, 0, 255, 3, 3, 10, 9, 9, 9, 9, 128]), scales: new Float32Array([0.5, 0.25, 2]), zeroPoints: new Int32Array([3, 9, 0]), axis: 1, layout: "sparse" },
    { name: "scalar", dtype: "float32", shape: [], data: new Float32Array([-0]) },
    { name: "empty", dtype: "float32", shape: [0, 3], data: new Float32Array(0), layout: "sparse" },
  ];
}

function expectSame(d: DecodedEntry, e: ModelEntry): void {
  expect(d.name).toBe(e.name);
  expect(d.dtype).toBe(e.dtype);
  expect(d.shape).toEqual([...e.shape]);
  if (e.dtype === "float32") expect(bitsOf(d.data as Float32Array)).toEqual(bitsOf(e.data));
  else {
    const q = d as DecodedInt8Entry;
    expect(q.data).toBeInstanceOf(e.dtype === "qint8" ? Int8Array : Uint8Array);
    expect(Array.from(q.data)).toEqual(Array.from(e.data));
    expect(bitsOf(q.scales)).toEqual(bitsOf(e.scales));
    expect(Array.from(q.zeroPoints)).toEqual(Array.from(e.zeroPoints));
    expect(q.axis).toBe(e.axis ?? null);
  }
}

describe("crc32", () => {
  it("matches the IEEE check value and handles every length", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new TextEncoder().encode("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339);
    const b = new TextEncoder().encode("xx123456789yy");
    expect(crc32(b, 2, 11)).toBe(0xcbf43926);
    expect(() => crc32(b, 5, 40)).toThrow(/crc32: range \[5, 40\) is not inside the 13 bytes/);
  });
});

describe("encodeModel / decodeModel round trip", () => {
  it("restores every encoding bit-exactly (−0, ±Infinity, denormals), with metadata, and reports the encodings", () => {
    const entries = smallModel();
    const meta = { arch: "mlp", layers: [{ kind: "linear", in: 6, out: 4 }, { kind: "relu" }], act: { scale: 0.02, zeroPoint: 128 } };
    const bytes = encodeModel(entries, meta);
    const out = decodeModel(bytes);
    expect(out.meta).toEqual(meta);
    expect(out.entries.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    out.entries.forEach((d, i) => expectSame(d, entries[i]!));
    expect(out.entries.map((e) => e.encoding)).toEqual(["dense", expect.stringMatching(/^(bitmask|csr)$/), expect.stringMatching(/^(bitmask|csr)$/), "dense", expect.stringMatching(/^(bitmask|csr)$/), "dense", expect.stringMatching(/^(bitmask|csr)$/)]);
    expect(Object.is((out.entries[5]!.data as Float32Array)[0], -0)).toBe(true);
    // −0 is a stored value by default: the "signed" tensor keeps 3 of its 8 elements
    const signed = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + u32(bytes, 8)))).tensors[2];
    expect(signed.nnz).toBe(3);
  });

  it("treats −0 as zero with signedZeros: false (decodes as +0, stores fewer values)", () => {
    const data = new Float32Array([0, -0, 0, 3, 0, -0, 0, -1]);
    const keep = decodeModel(encodeModel([{ name: "w", dtype: "float32", shape: [8], data, layout: "sparse" }]));
    const drop = decodeModel(encodeModel([{ name: "w", dtype: "float32", shape: [8], data, layout: "sparse", signedZeros: false }]));
    expect(bitsOf(keep.entries[0]!.data as Float32Array)).toEqual(bitsOf(data));
    expect(Array.from(drop.entries[0]!.data as Float32Array)).toEqual([0, 0, 0, 3, 0, 0, 0, -1]);
    expect(Object.is((drop.entries[0]!.data as Float32Array)[1], 0)).toBe(true);
    expect(drop.entries[0]!.bytes).toBeLessThan(keep.entries[0]!.bytes);
  });

  it("keeps the file layout: magic, version, lengths, 8-byte aligned payload, CRC of everything before it", () => {
    const bytes = encodeModel(smallModel(), { a: 1 });
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x54, 0x47, 0x43, 0x4d]);
    expect(u32(bytes, 4)).toBe(1);
    const start = align(16 + u32(bytes, 8), 8);
    expect(bytes.length).toBe(start + u32(bytes, 12) + 4);
    expect(u32(bytes, bytes.length - 4)).toBe(crc32(bytes, 0, bytes.length - 4));
  });

  it("never modifies its inputs, and decoded arrays do not alias the file", () => {
    const entries = smallModel();
    const copies = entries.map((e) => Array.from(e.data));
    const bytes = encodeModel(entries);
    entries.forEach((e, i) => expect(Array.from(e.data)).toEqual(copies[i]));
    const decoded = decodeModel(bytes);
    const before = Array.from(decoded.entries[0]!.data);
    bytes.fill(0);
    expect(Array.from(decoded.entries[0]!.data)).toEqual(before);
  });

  it("accepts an ArrayBuffer and a Uint8Array at an odd offset", () => {
    const bytes = encodeModel(smallModel());
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    decodeModel(shifted.subarray(1)).entries.forEach((d, i) => expectSame(d, smallModel()[i]!));
    expect(decodeModel(bytes.slice().buffer).entries).toHaveLength(7);
  });
});

describe("adapters to and from Tensor / QTensor", () => {
  it("round-trips a strided Tensor and per-channel / per-tensor QTensors", () => {
    const t = new Tensor(Float32Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 0 : i - 6)), [3, 4]).transpose(0, 1);
    const w = new Tensor(Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * (i % 4 === 0 ? 0 : 1)), [3, 4]);
    const qc = quantizePerChannel(w, [0.01, 0.02, 0.005], [0, 0, 0], 0, "qint8");
    const qt = quantizePerTensor(w, 0.01, 128, "quint8");
    const bytes = encodeModel([tensorEntry("t", t, { layout: "sparse" }), qtensorEntry("qc", qc), qtensorEntry("qt", qt, { layout: "dense" })]);
    const [dt, dqc, dqt] = decodeModel(bytes).entries as [DecodedEntry, DecodedEntry, DecodedEntry];
    expect(entryTensor(dt).toArray()).toEqual(t.toArray());
    expect(dt.encoding).not.toBe("dense");
    expect(Array.from(dequantize(entryQTensor(dqc)).toFloat32Array())).toEqual(Array.from(dequantize(qc).toFloat32Array()));
    expect(Array.from(dequantize(entryQTensor(dqt)).toFloat32Array())).toEqual(Array.from(dequantize(qt).toFloat32Array()));
    expect((dqc as DecodedInt8Entry).axis).toBe(0);
    expect((dqt as DecodedInt8Entry).axis).toBe(null);
    expect(() => entryTensor(dqc)).toThrow('entryTensor: "qc" is qint8, not float32 (use entryQTensor)');
    expect(() => entryQTensor(dt)).toThrow('entryQTensor: "t" is float32, not qint8/quint8 (use entryTensor)');
  });
});

describe("sizes are real byte lengths; bitmask vs CSR is chosen per tensor", () => {
  const rows = 256, cols = 784, n = rows * cols;
  // expected section bytes (format: bitmask = ceil(n/8) + values; CSR = (rows+1)·w(nnz) + nnz·w(cols−1) + values)
  const w = (max: number) => (max <= 255 ? 1 : max <= 65535 ? 2 : 4);
  const bitmask = (nnz: number, vb: number) => Math.ceil(n / 8) + nnz * vb;
  const csr = (nnz: number, vb: number) => (rows + 1) * w(nnz) + nnz * w(cols - 1) + nnz * vb;
  const cases: [number, "bitmask" | "csr", "bitmask" | "csr"][] = [
    [0.5, "bitmask", "bitmask"],
    [0.8, "bitmask", "bitmask"],
    [0.95, "csr", "csr"],
  ];
  for (const [sparsity, floatChoice, int8Choice] of cases) {
    it(`at ${sparsity * 100} % sparsity: float32 → ${floatChoice}, int8 → ${int8Choice}, exact sizes`, () => {
      const data = prunedMatrix(rows, cols, sparsity, 7);
      const nnz = n - Math.round(sparsity * n);
      const q = new Int8Array(n);
      for (let i = 0; i < n; i++) q[i] = data[i] === 0 ? 0 : data[i]! > 0 ? 1 + (i % 127) : -1 - (i % 128);
      const entries: ModelEntry[] = [
        { name: "f", dtype: "float32", shape: [rows, cols], data },
        { name: "q", dtype: "qint8", shape: [rows, cols], data: q, scales: new Float32Array(rows).fill(0.01), zeroPoints: new Int32Array(rows), axis: 0 },
      ];
      const bytes = encodeModel(entries);
      const [f, qd] = decodeModel(bytes).entries as [DecodedEntry, DecodedEntry];
      expect(f.encoding).toBe(floatChoice);
      expect(qd.encoding).toBe(int8Choice);
      const fBytes = floatChoice === "bitmask" ? bitmask(nnz, 4) : csr(nnz, 4);
      expect(f.bytes).toBe(fBytes);
      expect(Math.min(bitmask(nnz, 4), csr(nnz, 4), 4 * n)).toBe(fBytes);
      const qSections = 4 * rows + rows; // scales + zero points
      const qBytes = (int8Choice === "bitmask" ? bitmask(nnz, 1) : csr(nnz, 1)) + qSections;
      expect(qd.bytes).toBe(qBytes);
      expectSame(f, entries[0]!);
      expectSame(qd, entries[1]!);
      // the file is the header plus the aligned sections plus the CRC, nothing estimated
      const payload = u32(bytes, 12);
      expect(payload).toBeGreaterThanOrEqual(fBytes + qBytes);
      expect(payload).toBeLessThanOrEqual(fBytes + qBytes + 4 * 8);
      expect(bytes.length).toBe(align(16 + u32(bytes, 8), 8) + payload + 4);
    });
  }

  it("forced layouts: dense keeps every element; auto picks dense when nothing is zero", () => {
    const data = prunedMatrix(16, 16, 0, 3);
    const auto = decodeModel(encodeModel([{ name: "w", dtype: "float32", shape: [16, 16], data }])).entries[0]!;
    expect(auto.encoding).toBe("dense");
    expect(auto.bytes).toBe(4 * 256);
    const sparse = decodeModel(encodeModel([{ name: "w", dtype: "float32", shape: [16, 16], data, layout: "sparse" }])).entries[0]!;
    expect(sparse.encoding).toBe("bitmask");
    expect(sparse.bytes).toBe(32 + 4 * 256);
  });

  it("a 95 %-pruned int8 model is under 10 % of its fp32 size (fp32Bytes = the dense float32 file)", () => {
    const data = prunedMatrix(rows, cols, 0.95, 11);
    const q = Int8Array.from(data, (v) => (v === 0 ? 0 : v > 0 ? 3 : -3));
    const entries: ModelEntry[] = [
      { name: "fc.weight", dtype: "qint8", shape: [rows, cols], data: q, scales: new Float32Array(rows).fill(0.02), zeroPoints: new Int32Array(rows), axis: 0 },
      { name: "fc.bias", dtype: "float32", shape: [rows], data: new Float32Array(rows).fill(0.5) },
    ];
    const meta = { arch: "linear" };
    const bytes = encodeModel(entries, meta);
    const dense = encodeModel([
      { name: "fc.weight", dtype: "float32", shape: [rows, cols], data, layout: "dense" },
      { name: "fc.bias", dtype: "float32", shape: [rows], data: new Float32Array(rows), layout: "dense" },
    ], meta);
    expect(fp32Bytes(entries, meta)).toBe(dense.length);
    expect(bytes.length / fp32Bytes(entries, meta)).toBeLessThan(0.1);
    expect(fp32Bytes({ "fc.weight": { shape: [rows, cols] }, "fc.bias": { shape: [rows] } } as never, meta)).toBe(dense.length);
    expect(fp32Bytes([])).toBe(encodeModel([]).length);
    expect(() => fp32Bytes([{ name: "a", shape: [2] }, { name: "a", shape: [3] }])).toThrow(/fp32Bytes: tensor 1 \("a"\): duplicate name/);
    expect(() => fp32Bytes([{ name: "a", shape: [2, -1] }])).toThrow(/fp32Bytes: tensor 0 \("a"\): shape must be an array of non-negative integers/);
  });
});

describe("encodeModel rejects bad entries", () => {
  const ok: ModelEntry = { name: "w", dtype: "float32", shape: [2, 2], data: new Float32Array(4) };
  const q = (over: Partial<ModelEntry>): ModelEntry => ({ name: "q", dtype: "qint8", shape: [2, 3], data: new Int8Array(6), scales: new Float32Array([0.1, 0.2]), zeroPoints: [0, 0], axis: 0, ...over } as ModelEntry);
  it("names the entry and the value", () => {
    expect(() => encodeModel([ok, ok])).toThrow(/encodeModel: entry 1 \("w"\): duplicate name/);
    expect(() => encodeModel([{ ...ok, data: new Float32Array(3) }])).toThrow(/encodeModel: entry 0 \("w"\): shape \[2,2\] has 4 elements but data has 3/);
    expect(() => encodeModel([{ ...ok, shape: [2, 1.5] }])).toThrow(/shape must be an array of non-negative integers \(got \[2,1.5\]\)/);
    expect(() => encodeModel([{ ...ok, data: new Float64Array(4) as never }])).toThrow(/float32 data must be a Float32Array \(got Float64Array\(4\)\)/);
    expect(() => encodeModel([{ ...ok, name: "" }])).toThrow(/encodeModel: entry 0: name must be a non-empty string/);
    expect(() => encodeModel([{ ...ok, layout: "csr" as never }])).toThrow(/layout must be "auto", "sparse" or "dense" \(got "csr"\)/);
    expect(() => encodeModel([{ ...ok, dtype: "int4" } as never])).toThrow(/dtype must be "float32", "qint8" or "quint8" \(got "int4"\)/);
    expect(() => encodeModel([q({ scales: new Float32Array([0.1, 0]) })])).toThrow(/encodeModel: entry 0 \("q"\): scale 1 must be finite and > 0 \(got 0\)/);
    expect(() => encodeModel([q({ scales: new Float32Array([0.1, NaN]) })])).toThrow(/scale 1 must be finite and > 0 \(got NaN\)/);
    expect(() => encodeModel([q({ scales: new Float32Array([0.1]) })])).toThrow(/scales must be a Float32Array of 2 \(shape\[0\]\)/);
    expect(() => encodeModel([q({ zeroPoints: [0, 128] })])).toThrow(/zero point 1 must be an integer in \[-128, 127\] for qint8 \(got 128\)/);
    expect(() => encodeModel([q({ dtype: "quint8", data: new Uint8Array(6), zeroPoints: [0, -1] } as never)])).toThrow(/zero point 1 must be an integer in \[0, 255\] for quint8 \(got -1\)/);
    expect(() => encodeModel([q({ axis: 2 })])).toThrow(/axis 2 is out of range for shape \[2,3\]/);
    expect(() => encodeModel([q({ data: new Uint8Array(6) })])).toThrow(/qint8 data must be an Int8Array \(got Uint8Array\(6\)\)/);
    expect(() => encodeModel({} as never)).toThrow(/encodeModel: entries must be an array/);
    expect(() => encodeModel([ok], { n: 1n })).toThrow(/encodeModel: meta is not JSON-serialisable/);
  });
  it("accepts a negative channel axis (normalised)", () => {
    const d = decodeModel(encodeModel([q({ axis: -2 })])).entries[0] as DecodedInt8Entry;
    expect(d.axis).toBe(0);
  });
});

describe("decodeModel rejects corrupted, truncated and inconsistent files", () => {
  const bytes = encodeModel(smallModel(), { arch: "tiny" });

  it("every truncation length errors", () => {
    for (let len = 0; len < bytes.length; len++) {
      expect(() => decodeModel(bytes.subarray(0, len)), `length ${len}`).toThrow(/^decodeModel: truncated/);
    }
    const payloadStart = align(16 + u32(bytes, 8), 8);
    expect(() => decodeModel(bytes.subarray(0, payloadStart + 10))).toThrow(`decodeModel: truncated (header says ${u32(bytes, 12)} payload bytes, 10 present)`);
    expect(() => decodeModel(bytes.subarray(0, 20))).toThrow(`decodeModel: truncated (header says ${u32(bytes, 8)} JSON header bytes, 4 present)`);
  });

  it("random byte flips are caught (CRC-32 mismatch in the header, payload and CRC)", () => {
    const rng = new Rng(123);
    for (let trial = 0; trial < 300; trial++) {
      const bad = bytes.slice();
      const at = 16 + rng.int(0, bad.length - 16);
      bad[at] ^= 1 + rng.int(0, 255);
      expect(() => decodeModel(bad), `flip at ${at}`).toThrow(/^decodeModel: CRC-32 mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
    }
    for (let at = 0; at < 16; at++) {
      const bad = bytes.slice();
      bad[at] ^= 0x40;
      expect(() => decodeModel(bad), `prefix flip at ${at}`).toThrow(/^decodeModel: /);
    }
  });

  it("names bad magic, version, trailing bytes and the input type", () => {
    const bad = bytes.slice();
    bad[0] = 0x50;
    expect(() => decodeModel(bad)).toThrow('decodeModel: not a tapegrad compressed model (magic bytes 50 47 43 4d, expected 54 47 43 4d "TGCM")');
    const v2 = bytes.slice();
    new DataView(v2.buffer).setUint32(4, 2, true);
    expect(() => decodeModel(v2)).toThrow("decodeModel: unsupported format version 2 (this build reads version 1)");
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(() => decodeModel(longer)).toThrow(`decodeModel: 3 unexpected bytes after the CRC-32 (the header describes ${bytes.length} bytes, got ${bytes.length + 3})`);
    expect(() => decodeModel([1, 2, 3] as never)).toThrow(/decodeModel: bytes must be a Uint8Array or ArrayBuffer/);
  });

  it("validates the header behind a valid CRC", () => {
    const cases: [string, (h: any) => void, RegExp][] = [
      ["unknown encoding", (h) => (h.tensors[0].encoding = "rle"), /tensor 0 \("dense"\): unknown encoding "rle"/],
      ["unknown dtype", (h) => (h.tensors[0].dtype = "float16"), /unknown dtype "float16"/],
      ["shape product vs data", (h) => Object.assign(h.tensors[0], { shape: [2, 6], nnz: 12 }), /section values has 40 bytes, but shape \[2,6\] with 12 stored elements needs 48/],
      ["shape product vs stored count", (h) => (h.tensors[0].shape = [2, 6]), /tensor 0 \("dense"\): stored element count 10 is not valid for 12 elements in dense encoding/],
      ["bad shape", (h) => (h.tensors[0].shape = [2, -5]), /shape must be an array of non-negative integers \(got \[2,-5\]\)/],
      ["offset out of bounds", (h) => (h.tensors[6].sections.mask[0] = 1 << 20), /section mask at payload offset 1048576 .* outside the \d+ payload bytes/],
      ["overlapping sections", (h) => (h.tensors[1].sections[Object.keys(h.tensors[1].sections)[0]][0] = 0), /overlaps an earlier section/],
      ["misaligned section", (h) => (h.tensors[0].sections.values[0] = 2), /section values at payload offset 2 .* misaligned/],
      ["nnz above n", (h) => (h.tensors[2].nnz = 9), /stored element count 9 is not valid for 8 elements/],
      ["missing section", (h) => delete h.tensors[3].sections.scales, /sections must be scales, zeroPoints, values for qint8 dense/],
      ["duplicate name", (h) => (h.tensors[1].name = "dense"), /tensor 1 \("dense"\): duplicate name/],
      ["bad axis", (h) => (h.tensors[4].axis = 3), /channel axis 3 is out of range for shape \[2,3,2\]/],
      ["no tensors", (h) => delete h.tensors, /the header must be an object with a "tensors" array/],
      ["huge tensor", (h) => (h.tensors[2].shape = [2 ** 29]), /more than the decoder's limit/],
    ];
    for (const [label, edit, msg] of cases) expect(() => decodeModel(withHeader(bytes, edit)), label).toThrow(msg);
  });

  it("validates sparse indices and int8 scales in the payload", () => {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + u32(bytes, 8))));
    const signed = header.tensors[2];
    expect(signed.encoding).toBe("bitmask");
    const extraBit = withHeader(bytes, () => {}, (p) => (p[signed.sections.mask[0]] |= 0x01));
    expect(() => decodeModel(extraBit)).toThrow(/tensor 2 \("signed"\): bitmask has more than 3 set bits, the header says 3 stored values/);
    const fewer = withHeader(bytes, () => {}, (p) => (p[signed.sections.mask[0]] &= ~0x08));
    expect(() => decodeModel(fewer)).toThrow(/bitmask has 2 set bits, the header says 3 stored values/);
    const q = header.tensors[3];
    const zeroScale = withHeader(bytes, () => {}, (p) => new DataView(p.buffer).setFloat32(q.sections.scales[0], -0.5, true));
    expect(() => decodeModel(zeroScale)).toThrow(/tensor 3 \("q.pt"\): scale 0 must be finite and > 0 \(got -0.5\)/);
    // a CSR tensor with a column index past the end
    const csrBytes = encodeModel([{ name: "c", dtype: "float32", shape: [64, 64], data: prunedMatrix(64, 64, 0.97, 5) }]);
    const c = JSON.parse(new TextDecoder().decode(csrBytes.subarray(16, 16 + u32(csrBytes, 8)))).tensors[0];
    expect(c.encoding).toBe("csr");
    const badCol = withHeader(csrBytes, () => {}, (p) => (p[c.sections.colIdx[0]] = 64));
    expect(() => decodeModel(badCol)).toThrow(/tensor 0 \("c"\): CSR column index 64 at position 0 \(row \d+\) is not below 64 columns/);
    const badPtr = withHeader(csrBytes, () => {}, (p) => (p[c.sections.rowPtr[0]] = 1));
    expect(() => decodeModel(badPtr)).toThrow(/CSR row pointer 0 is 1, expected 0/);
  });
});
