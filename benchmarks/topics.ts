/**
 * @file The registry of bench topics, in run order. A new topic (clip-global-norm, mlp-step,
 * ...) is a file exporting a {@link Topic}, added here.
 */
import { elementwiseTopic } from "./elementwise.js";
import { matmulTopic } from "./matmul.js";
import type { Topic } from "./types.js";

/** Every topic, in run order. */
export const TOPICS: readonly Topic[] = [matmulTopic, elementwiseTopic];
