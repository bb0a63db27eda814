/** @file The prune part of @tapegrad/compress (exports). */
export {};
