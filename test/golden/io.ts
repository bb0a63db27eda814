/**
 * @file Golden handler for `io/safetensors.json` (see `../shared/golden/io/README.md`): every
 * valid file is read and compared (names, dtypes, shapes, offsets, raw bytes, exact values,
 * metadata, header length), written back from its tensors in `writer.input_order` and compared
 * with the reference writer's size, sha256 and header; the MLP file is loaded into an
 * `nn.Sequential` and its forward compared with PyTorch's; every malformed file must raise a
 * `SafetensorsError` of its category. The `.safetensors` files are looked up beside the JSON file:
 * in `GOLDEN_DIR/io/`, or in `GOLDEN_DIR` itself when it points at the `io/` folder.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type SafeTensor, SafetensorsError, readSafetensors, toTensor, values, writeSafetensors } from "@tapegrad/io";
import { noGrad } from "@tapegrad/autograd";
import { Linear, type UnaryModule, ReLU, Sequential, Tanh } from "@tapegrad/nn";
import { goldenDir } from "./dir.js";
import { type CaseResult, type GTensor, type GoldenCase, type GoldenFile, type Tolerance, compareTensor, num, runCase, toTensor as goldenTensor } from "./schema.js";

interface GoldenTensor {
  name: string;
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
  nbytes: number;
  bytes_hex: string;
  values: GTensor;
  bits?: number[];
}

interface Layer {
  op: "linear" | "relu" | "tanh";
  weight?: string;
  bias?: string;
}

interface ValidCase extends GoldenCase {
  file: string;
  size: number;
  sha256: string;
  header_length: number;
  header: string;
  metadata: Record<string, string> | null;
  tensors: GoldenTensor[];
  writer: { input_order: string[]; metadata: Record<string, string> | null; size: number; sha256: string; header: string; same_as_file: boolean };
  model?: { module: string; layers: Layer[]; x: GTensor; output: GTensor; tolerance: Tolerance };
}

interface MalformedCase extends GoldenCase {
  file: string;
  category: string;
  description: string;
}

/** The folder holding the `.safetensors` files: `GOLDEN_DIR/io`, or `GOLDEN_DIR` itself. */
function ioDir(fileName: string): string {
  const root = goldenDir();
  const sub = join(root, "io");
  return existsSync(join(sub, fileName)) ? sub : root;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const ok = (name: string): CaseResult => ({ name, status: "passed" });
const fail = (name: string, message: string): CaseResult => ({ name, status: "failed", message });

/** Null when the decoded values equal the golden ones exactly (-0 keeps its sign, NaN matches NaN). */
function compareExact(t: SafeTensor, g: GoldenTensor): string | null {
  const v = values(t);
  const round = g.values.dtype === "float32" ? Math.fround : (x: number) => x; // float32 values are printed shortest
  const expected = g.values.data.map((x) => round(num(x)));
  if (v.length !== expected.length) return `${g.name}: ${v.length} values, expected ${expected.length}`;
  for (let i = 0; i < v.length; i++) {
    const a = v[i]!;
    if (typeof a === "bigint") {
      if (a !== BigInt(expected[i]!)) return `${g.name}[${i}]: ${a}, expected ${String(expected[i])}`;
    } else if (!Object.is(a, expected[i])) {
      return `${g.name}[${i}]: ${a}, expected ${String(expected[i])}`;
    }
  }
  if (g.bits) {
    const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
    for (let i = 0; i < g.bits.length; i++) if (dv.getUint16(2 * i, true) !== g.bits[i]) return `${g.name}: bits[${i}] differ`;
  }
  return null;
}

function compareRead(c: ValidCase, bytes: Uint8Array): string | null {
  if (bytes.length !== c.size || sha256(bytes) !== c.sha256) return `file ${c.file}: size/sha256 differ from the JSON (${bytes.length} bytes)`;
  const f = readSafetensors(bytes);
  if (f.headerLength !== c.header_length) return `header_length ${f.headerLength}, expected ${c.header_length}`;
  if (JSON.stringify(f.metadata) !== JSON.stringify(c.metadata)) return `metadata ${JSON.stringify(f.metadata)}, expected ${JSON.stringify(c.metadata)}`;
  const names = f.tensors.map((t) => t.name);
  if (JSON.stringify(names) !== JSON.stringify(c.tensors.map((t) => t.name))) return `tensors ${JSON.stringify(names)}, expected ${JSON.stringify(c.tensors.map((t) => t.name))}`;
  for (let k = 0; k < c.tensors.length; k++) {
    const t = f.tensors[k]!, g = c.tensors[k]!;
    if (t.dtype !== g.dtype) return `${g.name}: dtype ${t.dtype}, expected ${g.dtype}`;
    if (JSON.stringify(t.shape) !== JSON.stringify(g.shape)) return `${g.name}: shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(g.shape)}`;
    if (JSON.stringify(t.dataOffsets) !== JSON.stringify(g.data_offsets)) return `${g.name}: data_offsets ${JSON.stringify(t.dataOffsets)}, expected ${JSON.stringify(g.data_offsets)}`;
    if (t.bytes.length !== g.nbytes || hex(t.bytes) !== g.bytes_hex) return `${g.name}: raw bytes differ`;
    const m = compareExact(t, g);
    if (m) return m;
  }
  return null;
}

function compareWrite(c: ValidCase, tensors: SafeTensor[]): string | null {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const input = c.writer.input_order.map((n) => byName.get(n)!);
  const out = writeSafetensors(input, { metadata: c.writer.metadata });
  const n = Number(new DataView(out.buffer).getBigUint64(0, true));
  const header = new TextDecoder().decode(out.subarray(8, 8 + n));
  if (header !== c.writer.header) return `written header ${JSON.stringify(header)}, expected ${JSON.stringify(c.writer.header)}`;
  if (out.length !== c.writer.size || sha256(out) !== c.writer.sha256) return `written file: ${out.length} bytes, sha256 ${sha256(out)}; expected ${c.writer.size}, ${c.writer.sha256}`;
  return null;
}

/** Builds `model.layers` as a Sequential, loads the file's tensors by name and runs `model.x`. */
function compareModel(c: ValidCase, tensors: SafeTensor[]): string | null {
  const m = c.model!;
  if (m.module !== "torch.nn.Sequential") return `model.module ${m.module}: only torch.nn.Sequential is handled`;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const layers: UnaryModule[] = m.layers.map((l, i) => {
    if (l.op === "relu") return new ReLU();
    if (l.op === "tanh") return new Tanh();
    if (l.op !== "linear") throw new Error(`layer ${i}: unknown op ${String(l.op)}`);
    if (l.weight !== `${i}.weight` || l.bias !== `${i}.bias`) throw new Error(`layer ${i}: names ${l.weight}/${l.bias}, expected ${i}.weight/${i}.bias`);
    const [out, inp] = byName.get(l.weight)!.shape as number[];
    return new Linear(inp!, out!);
  });
  const model = new Sequential(...layers);
  const names = model.namedParameters().map(([n]) => n).sort();
  const expectedNames = m.layers.flatMap((l) => (l.op === "linear" ? [l.weight!, l.bias!] : [])).sort();
  if (JSON.stringify(names) !== JSON.stringify(expectedNames)) return `module parameters ${JSON.stringify(names)}, expected ${JSON.stringify(expectedNames)}`;
  const { missingKeys, unexpectedKeys } = model.loadStateDict(Object.fromEntries(tensors.map((t) => [t.name, toTensor(t)])));
  if (missingKeys.length + unexpectedKeys.length > 0) return `loadStateDict: missing ${missingKeys}, unexpected ${unexpectedKeys}`;
  const y = noGrad(() => model.forward(goldenTensor(m.x)));
  return compareTensor("model output", y.value, m.output, m.tolerance);
}

function runValid(c: ValidCase): CaseResult {
  const bytes = new Uint8Array(readFileSync(join(ioDir(c.file), c.file)));
  const problem = compareRead(c, bytes);
  if (problem) return fail(c.name, problem);
  const { tensors } = readSafetensors(bytes);
  const w = compareWrite(c, tensors);
  if (w) return fail(c.name, w);
  if (c.writer.same_as_file && c.writer.sha256 !== c.sha256) return fail(c.name, "writer.same_as_file but the sha256s differ");
  const m = c.model ? compareModel(c, tensors) : null;
  return m ? fail(c.name, m) : ok(c.name);
}

function runMalformed(c: MalformedCase): CaseResult {
  const bytes = new Uint8Array(readFileSync(join(ioDir(c.file), c.file)));
  try {
    const f = readSafetensors(bytes);
    return fail(c.name, `accepted (${f.tensors.length} tensors); expected a ${c.category} error: ${c.description}`);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) return fail(c.name, `threw ${(e as Error).name}: ${(e as Error).message}; expected a SafetensorsError`);
    if (e.category !== c.category) return fail(c.name, `category ${e.category} (${e.message}); expected ${c.category}: ${c.description}`);
    return ok(c.name);
  }
}

/** Runs every case of `io/safetensors.json`. */
export function runSafetensorsFile(file: GoldenFile): CaseResult[] {
  return file.cases.map((c) =>
    runCase(c.name, () => {
      if (c.kind === "valid") return runValid(c as ValidCase);
      if (c.kind === "malformed") return runMalformed(c as MalformedCase);
      return fail(c.name, `unknown kind ${String(c.kind)}`);
    }),
  );
}
