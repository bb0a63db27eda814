/**
 * @file Loaded with `node --require` ahead of the TypeScript loader (tsx) in every measuring
 * process (see `cli.ts`): loads benchmark.js and, in tfjs processes (`TAPEGRAD_BENCH_PRELOAD`
 * names the library), tfjs's packages through Node's plain CommonJS loader, and marks the process
 * as prepared.
 *
 * NOTE: on Node 20, loading a large CommonJS file (benchmark.js and lodash, tfjs's bundles)
 * through tsx's module hooks detaches an ArrayBuffer in the main thread. That permanently
 * invalidates V8's ArrayBufferDetaching protector, after which every typed-array access in
 * optimized code gets a "was the buffer detached?" check: typed-array loops lose 30-50%. Loading
 * them here first keeps the measured process in the state a plain `node` program would be in;
 * later `import`s of the same packages reuse these modules.
 */
"use strict";
require("benchmark");
const lib = process.env.TAPEGRAD_BENCH_PRELOAD || "";
if (lib.startsWith("tfjs")) {
  require("@tensorflow/tfjs-core");
  require("@tensorflow/tfjs-backend-cpu");
  if (lib === "tfjs-wasm") require("@tensorflow/tfjs-backend-wasm");
  // The union package: its Node bundle registers the gradients tf.variableGrads needs.
  require("@tensorflow/tfjs");
}
globalThis.__tapegradBenchPrepared = true;
