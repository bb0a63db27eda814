/**
 * @file `@tapegrad/compress`: the three ways to trade accuracy for model size that the gradient
 * clipping article sets beside clipping — pruning (`torch.nn.utils.prune` semantics), int8
 * quantization (`torch.ao.quantization` semantics, a real int8 GEMM for inference) and knowledge
 * distillation — plus a serialization whose sizes are the real byte lengths.
 */
export * from "./prune/index.js";
export * from "./quant/index.js";
export * from "./distill/index.js";
export * from "./serialize/index.js";
