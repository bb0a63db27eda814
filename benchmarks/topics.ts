/**
 * @file The registry of bench topics, in run order. A new topic is a file exporting a
 * {@link Topic}, added here.
 */
import { clipTopic } from "./clip.js";
import { cnnTopic } from "./cnn.js";
import { dpTopic } from "./dp.js";
import { elementwiseTopic } from "./elementwise.js";
import { int8GemmTopic } from "./int8-gemm.js";
import { matmulTopic } from "./matmul.js";
import { memoryTopic } from "./memory.js";
import { mlpTopic } from "./mlp.js";
import type { Topic } from "./types.js";

/** Every topic, in run order (`memory` is opt-in: `--memory`). */
export const TOPICS: readonly Topic[] = [matmulTopic, int8GemmTopic, elementwiseTopic, clipTopic, mlpTopic, cnnTopic, dpTopic, memoryTopic];
