/**
 * @file Vitest setup: picks the kernel set for a whole test run from `TAPEGRAD_KERNELS`:
 * `js` (pure TypeScript), `wasm` (WebAssembly SIMD; fails loudly if unavailable) or `auto`/unset
 * (the library default: wasm when available, else js). `TAPEGRAD_THREADS=n` (default 1) also
 * runs the wasm kernels on n threads (`setNumThreads(n)`, waiting until the workers run). This is
 * the only place that reads these variables; the library itself never looks at the environment.
 *
 * @example
 * ```sh
 * TAPEGRAD_KERNELS=js npx vitest run
 * TAPEGRAD_KERNELS=wasm TAPEGRAD_THREADS=2 npx vitest run
 * ```
 */
import { jsKernels, setNumThreads, threadsReady, useKernels, wasmKernels, wasmStatus } from "@tapegrad/tensor";

const want = process.env.TAPEGRAD_KERNELS ?? "auto";
if (want === "js") useKernels(jsKernels);
else if (want === "wasm") {
  const set = wasmKernels();
  if (!set) throw new Error(`TAPEGRAD_KERNELS=wasm but wasm kernels are unavailable: ${JSON.stringify(wasmStatus())}`);
  useKernels(set);
} else if (want !== "auto") throw new Error(`TAPEGRAD_KERNELS must be js, wasm or auto (got ${JSON.stringify(want)})`);

const threads = Number(process.env.TAPEGRAD_THREADS ?? "1");
if (!Number.isInteger(threads) || threads < 1) throw new Error(`TAPEGRAD_THREADS must be a positive integer (got ${JSON.stringify(process.env.TAPEGRAD_THREADS)})`);
if (threads > 1) {
  setNumThreads(threads);
  const got = await threadsReady();
  if (want === "wasm" && got !== threads) throw new Error(`TAPEGRAD_THREADS=${threads} but only ${got} thread(s) could start: ${JSON.stringify(wasmStatus())}`);
}
