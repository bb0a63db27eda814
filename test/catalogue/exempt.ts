/**
 * @file Exports of the package indexes that have no catalogue entry, each with the reason. The
 * completeness check in `catalogue.test.ts` fails for any function or class export that is in
 * neither the entries nor this map.
 */
import type { PackageName } from "./types.js";

const NO_ARGS = "takes no arguments";
const ERROR_CLASS = "an error class (what the catalogue expects, not a call)";

export const EXEMPT: Record<PackageName, Record<string, string>> = {
  tensor: {
    internalError: "builds the error for an engine bug (any message is valid input)",
    ShapeError: ERROR_CLASS,
    kernels: NO_ARGS, useDefaultKernels: NO_ARGS,
    initWasm: NO_ARGS, initWasmSync: NO_ARGS, wasmStatus: NO_ARGS, simdSupported: NO_ARGS, relaxedSimdSupported: NO_ARGS,
    numThreads: NO_ARGS, threadsReady: NO_ARGS, memoryStats: NO_ARGS,
    Expr: "map-kernel IR node, built only through mapKernel/host (whose entries cover it)",
    MapKernel: "built only by mapKernel (whose entries cover it)",
    gemmWasmOn: "internal GEMM entry with an explicit thread count; covered through gemmWasm's known gap",
    gemmU8I8Dequant: "int8 GEMM with fused dequantization; shares gemmU8I8's checks (covered there)",
    gemmQuantU8I8Dequant: "int8 GEMM with fused quantization; shares gemmU8I8's checks (covered there)",
  },
  autograd: {
    Node: "a tape node, constructed by apply() for every recorded op, never by user code",
    RegionGrad: "a gradient for a region of an input, constructed by op rules' backward, never by user code",
    PerSampleGrads: "the result of perSampleGrads (whose entries cover it), never constructed by user code",
    isGradEnabled: NO_ARGS,
  },
  optim: {
    NonFiniteGradientError: ERROR_CLASS,
    Optimizer: "abstract base class: constructed only through its subclasses (SGD, Adam, ..., whose entries cover its checks)",
  },
  nn: { StateDictError: ERROR_CLASS },
  compress: {
    isPruned: "a total predicate: false for anything that is not a pruned Module (documented), so no input is bad",
    pruneMask: "a total query: null for anything that is not a pruned parameter of a Module (documented), so no input is bad",
    ModelFormatError: ERROR_CLASS,
  },
  privacy: {},
  io: {
    SafetensorsError: ERROR_CLASS, CheckpointError: ERROR_CLASS,
    isDtype: "a total predicate: false for anything that is not a dtype name (documented), so no input is bad",
    isEngineDtype: "a total predicate, as isDtype",
    JsonNumber: "the exact number node parseJsonStrict builds (constructed by the parser, never by user code)",
  },
};
