/** @file The serialize part of @tapegrad/compress (exports): `encodeModel`, `decodeModel`, `fp32Bytes`, `crc32`, adapters to and from `Tensor`/`QTensor`, and the format's types. */
export { encodeModel } from "./encode.js";
export { decodeModel, ModelFormatError } from "./decode.js";
export { fp32Bytes, type NamedShape } from "./size.js";
export { crc32 } from "@tapegrad/io"; // defined in @tapegrad/io (checksums of checkpoints too)
export { tensorEntry, qtensorEntry, entryTensor, entryQTensor } from "./entries.js";
export {
  FORMAT_VERSION,
  type EntryDtype, type Encoding, type LayoutChoice, type Float32Entry, type Int8Entry, type ModelEntry,
  type DecodedFloat32Entry, type DecodedInt8Entry, type DecodedEntry, type DecodedModel,
} from "./types.js";
