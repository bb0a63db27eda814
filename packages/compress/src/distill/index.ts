/** @file The distill part of @tapegrad/compress (exports). */
export {};
