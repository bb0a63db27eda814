/**
 * @file Bad-input catalogue: `@tapegrad/io` (data only; see ../types.ts). One entry per line.
 */
import * as t from "@tapegrad/tensor";
import * as nn from "@tapegrad/nn";
import * as io from "@tapegrad/io";
import type { BadCall } from "../types.js";

const S = "x" as any;
const U = undefined as any;
const F = (): Uint8Array => io.writeSafetensors({ w: t.ones([2]) });
const raw = (): io.RawTensor => io.readSafetensors(F()).tensors[0]!;

export const entries: BadCall[] = [
  { fn: "readSafetensors", what: "bytes is a string", kind: "type", call: () => io.readSafetensors(S), error: TypeError, message: /^readSafetensors: expected a Uint8Array \(got \[object String\]\)/ },
  { fn: "readSafetensors", what: "fewer than 8 bytes", kind: "shape", call: () => io.readSafetensors(new Uint8Array(3)), error: io.SafetensorsError, message: /truncated|8 bytes/ },
  { fn: "readSafetensors", what: "a truncated buffer", kind: "shape", call: () => io.readSafetensors(F().subarray(0, F().length - 1)), error: io.SafetensorsError, message: /^readSafetensors: byte buffer is \d+ bytes, but tensor "w" ends at \d+/ },
  { fn: "writeSafetensors", what: "tensors is undefined", kind: "type", call: () => io.writeSafetensors(U), error: TypeError, message: /^writeSafetensors: tensors must be an object or an array \(got undefined\)/ },
  { fn: "writeSafetensors", what: "data length differs from the shape", kind: "shape", call: () => io.writeSafetensors({ a: { dtype: "F32", shape: [3], data: [1, 2] } }), error: RangeError, message: /^writeSafetensors: tensor "a": data has 2 values, the shape needs 3/ },
  { fn: "writeSafetensors", what: "NaN in an integer dtype", kind: "non-finite", call: () => io.writeSafetensors({ a: { dtype: "I32", shape: [1], data: [NaN] } }), error: RangeError, message: /^writeSafetensors: tensor "a": value NaN at index 0 is not an integer in \[-2147483648, 2147483647\] \(dtype I32\)/ },
  { fn: "writeSafetensors", what: "negative shape", kind: "negative", call: () => io.writeSafetensors({ a: { dtype: "F32", shape: [-1], data: [] } }), error: TypeError, message: /^writeSafetensors: tensor "a": shape must be an array of non-negative integers \(got \[-1\]\)/ },
  { fn: "writeSafetensors", what: "fractional shape", kind: "fractional", call: () => io.writeSafetensors({ a: { dtype: "F32", shape: [1.5], data: [1] } }), error: TypeError, message: /^writeSafetensors: tensor "a": shape must be an array of non-negative integers \(got \[1\.5\]\)/ },
  { fn: "writeSafetensors", what: "metadata value not a string", kind: "type", call: () => io.writeSafetensors({}, { metadata: { a: 1 as any } }), error: TypeError, message: /^writeSafetensors: metadata value of "a" must be a string \(got 1\)/ },
  { fn: "encodeTensor", name: "writeSafetensors", what: "unknown dtype", kind: "value", call: () => io.encodeTensor("a", { dtype: "float32" as any, shape: [1], data: [1] }), error: TypeError, message: /^writeSafetensors: tensor "a": unknown dtype "float32" \(use F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, …/ },
  { fn: "values", what: "not a raw tensor", kind: "type", call: () => io.values(S), error: TypeError, message: /^values: expected a stored tensor \{dtype, shape, bytes: Uint8Array\} \(e\.g\. one of readSafetensors\(\.\.\.\)\.tensors\) / },
  { fn: "values", what: "bytes not a multiple of the item size", kind: "shape", call: () => io.values({ ...raw(), bytes: new Uint8Array(5) }), error: TypeError, message: /^values: tensor "w" has 5 bytes, not a multiple of 4 \(F32\)/ },
  { fn: "toFloat32", what: "argument is undefined", kind: "type", call: () => io.toFloat32(U), error: TypeError, message: /^toFloat32: expected a stored tensor \{dtype, shape, bytes: Uint8Array\} \(e\.g\. one of readSafetensors\(\.\.\.\)\.tensor/ },
  { fn: "toTensor", what: "argument is a string", kind: "type", call: () => io.toTensor(S), error: TypeError, message: /^toTensor: expected a stored tensor \{dtype, shape, bytes: Uint8Array\} \(e\.g\. one of readSafetensors\(\.\.\.\)\.tensors/ },
  { fn: "parseJsonStrict", name: "readSafetensors", what: "duplicate key", kind: "value", call: () => io.parseJsonStrict('{"a":1,"a":2}'), error: io.SafetensorsError, message: /^readSafetensors: duplicate key "a" in a header object/ },
  { fn: "parseJsonStrict", what: "text is not a string", kind: "type", call: () => io.parseJsonStrict(3 as any), error: TypeError, message: /^parseJsonStrict: text must be a string \(got number\)/ },
  { fn: "compareUtf8", what: "an argument is not a string", kind: "type", call: () => io.compareUtf8(S, 3 as any), error: TypeError, message: /^compareUtf8: both arguments must be strings \(got string and number\)/ },
  
  { fn: "dtypeBits", what: "unknown dtype", kind: "value", call: () => io.dtypeBits("f32" as any), error: TypeError, message: /^dtypeBits: unknown dtype "f32"/ },
  { fn: "dtypeRank", what: "unknown dtype", kind: "value", call: () => io.dtypeRank("f32" as any), error: TypeError, message: /^dtypeRank: unknown dtype "f32"/ },
  { fn: "f16ToNumber", what: "bits above 0xffff", kind: "value", call: () => io.f16ToNumber(0x10000), error: RangeError, message: /^f16ToNumber: bits must be an integer in \[0, 0xffff\] \(got 65536\)/ },
  { fn: "bf16ToNumber", what: "negative bits", kind: "negative", call: () => io.bf16ToNumber(-1), error: RangeError, message: /^bf16ToNumber: bits must be an integer in \[0, 0xffff\] \(got -1\)/ },
  { fn: "numberToF16", what: "argument is a string", kind: "type", call: () => io.numberToF16(S), error: TypeError, message: /^numberToF16: x must be a number \(got string\)/ },
  { fn: "numberToBf16", what: "argument is a string", kind: "type", call: () => io.numberToBf16(S), error: TypeError, message: /^numberToBf16: x must be a number \(got string\)/ },
  { fn: "crc32", what: "bytes is a string", kind: "type", call: () => io.crc32(S), error: TypeError, message: /^crc32: bytes must be a Uint8Array \(got string\)/ },
  { fn: "crc32", what: "range outside the bytes", kind: "value", call: () => io.crc32(new Uint8Array(2), 0, 5), error: RangeError, message: /^crc32: range \[0, 5\) is not inside the 2 bytes/ },
  { fn: "splitTree", name: "encodeCheckpoint", what: "a function in the tree", kind: "type", call: () => io.splitTree({ f: (() => 1) as any }), error: TypeError, message: /^encodeCheckpoint: checkpoint\.f is a function/ },
  { fn: "joinTree", what: "a missing array", kind: "value", call: () => io.joinTree({ $array: "a0", kind: "f32" }, new Map()), error: Error, message: /^decodeCheckpoint: array "a0" is missing/, knownGap: "joinTree is the decoder's inner step: decodeCheckpoint wraps its plain Error in a CheckpointError (covered there)" },
  { fn: "encodeCheckpoint", what: "a bigint in the tree", kind: "type", call: () => io.encodeCheckpoint({ n: 1n as any }), error: TypeError, message: /^encodeCheckpoint: checkpoint\.n is a bigint/ },
  { fn: "decodeCheckpoint", what: "not a checkpoint", kind: "value", call: () => io.decodeCheckpoint(F()), error: io.CheckpointError, message: /^decodeCheckpoint: the file's metadata has no format/ },
  { fn: "decodeCheckpoint", what: "garbage bytes", kind: "value", call: () => io.decodeCheckpoint(new Uint8Array(16)), error: io.CheckpointError, message: /^decodeCheckpoint: not a valid safetensors file/ },
  { fn: "saveTrainingState", what: "negative step", kind: "negative", call: () => io.saveTrainingState({}, { step: -1 }), error: RangeError, message: /^saveTrainingState: step must be a non-negative integer \(got -1\)/ },
  { fn: "saveTrainingState", what: "fractional step", kind: "fractional", call: () => io.saveTrainingState({}, { step: 1.5 }), error: RangeError, message: /^saveTrainingState: step must be a non-negative integer \(got 1\.5\)/ },
  { fn: "loadTrainingState", what: "a part missing from the checkpoint", kind: "value", call: () => io.loadTrainingState(io.saveTrainingState({}, { step: 0 }), { model: new nn.Linear(1, 1) }), error: io.CheckpointError, message: /^loadTrainingState: the checkpoint has no model/ },
  { fn: "encodeStateDict", what: "state dict is null", kind: "type", call: () => io.encodeStateDict(null as any), error: TypeError, message: /^encodeStateDict: expected a state dict \(name → Tensor\) \(got null\)/ },
  { fn: "encodeStateDict", what: "a value is not a Tensor", kind: "type", call: () => io.encodeStateDict({ w: [1] as any }), error: TypeError, message: /^encodeStateDict: "w" must be a Tensor \(got object\)/ },
  { fn: "decodeStateDict", name: "readSafetensors", what: "bytes too short", kind: "shape", call: () => io.decodeStateDict(new Uint8Array(4)), error: io.SafetensorsError, message: /^readSafetensors: / },
  { fn: "decodeStateDict", what: "bytes is a string", kind: "type", call: () => io.decodeStateDict(S), name: "readSafetensors", error: TypeError, message: /^readSafetensors: expected a Uint8Array \(got \[object String\]\)/ },
];
