/** @file The quant part of @tapegrad/compress (exports). */
export {};
