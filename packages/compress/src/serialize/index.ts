/** @file The serialize part of @tapegrad/compress (exports). */
export {};
