/**
 * @module @tapegrad/io
 * @file `@tapegrad/io`: the safetensors format (the tensor files of PyTorch, JAX and Hugging
 * Face) read and written on `Uint8Array`s, with no Node-only API, so it runs in the browser too.
 * The reader checks every rule of the format and refuses a malformed file with a
 * {@link SafetensorsError} naming its category; the writer produces the reference writer's bytes.
 *
 * @example
 * ```ts
 * import { readSafetensors, toTensor, writeSafetensors } from "@tapegrad/io";
 * const bytes = writeSafetensors(model.stateDict(), { metadata: { format: "pt" } });
 * const { tensors } = readSafetensors(bytes);
 * model.loadStateDict(Object.fromEntries(tensors.map((t) => [t.name, toTensor(t)])));
 * ```
 */
export { type SafetensorsErrorCategory, SAFETENSORS_ERROR_CATEGORIES, SafetensorsError } from "./errors.js";
export { type Dtype, type EngineDtype, DTYPE_ORDER, ENGINE_DTYPES, isDtype, isEngineDtype, dtypeBits, dtypeRank } from "./dtype.js";
export { f16ToNumber, numberToF16, bf16ToNumber, numberToBf16 } from "./float16.js";
export { type JsonValue, JsonNumber, parseJsonStrict } from "./json.js";
export { type SafeTensor, type SafetensorsFile, MAX_HEADER_SIZE, readSafetensors } from "./read.js";
export { type DtypeArrays, type RawTensor, values, toFloat32, toTensor } from "./values.js";
export { type RawInput, type ValuesInput, type TensorInput, encodeTensor } from "./encode.js";
export { type WriteOptions, type WriteTensors, compareUtf8, writeSafetensors } from "./write.js";
export { crc32 } from "./crc32.js";
export { type Tree, type TreeArray, type TreeTensor, splitTree, joinTree } from "./checkpoint/tree.js";
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, encodeCheckpoint, decodeCheckpoint } from "./checkpoint/checkpoint.js";
export { type Stateful, type Seeded, type TrainingParts, type TrainingInfo, saveTrainingState, loadTrainingState } from "./checkpoint/training.js";
export { type EncodeStateDictOptions, encodeStateDict, decodeStateDict } from "./state-dict.js";
