/**
 * @file Loaded by `run.ts` with `node --require`, before the TypeScript loader (tsx): loads
 * benchmark.js through Node's plain CommonJS loader and marks the process as prepared.
 *
 * NOTE: on Node 20, loading a large CommonJS file (benchmark.js, lodash) through tsx's module
 * hooks detaches an ArrayBuffer in the main thread. That permanently invalidates V8's
 * ArrayBufferDetaching protector, after which every typed-array access in optimized code gets
 * a "was the buffer detached?" check: the pure TypeScript GEMM loses 30-40%. Loading it here
 * first keeps the measured process in the state a plain `node` program would be in.
 */
"use strict";
require("benchmark");
globalThis.__tapegradBenchPrepared = true;
