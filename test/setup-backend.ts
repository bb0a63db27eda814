/**
 * @file Vitest setup: picks the kernel set for a whole test run from `TAPEGRAD_KERNELS`:
 * `js` (pure TypeScript), `wasm` (WebAssembly SIMD; fails loudly if unavailable) or `auto`/unset
 * (the library default: wasm when available, else js). This is the only place that reads the
 * variable; the library itself never looks at the environment.
 *
 * @example
 * ```sh
 * TAPEGRAD_KERNELS=js npx vitest run
 * ```
 */
import { jsKernels, useKernels, wasmKernels, wasmStatus } from "@tapegrad/tensor";

const want = process.env.TAPEGRAD_KERNELS ?? "auto";
if (want === "js") useKernels(jsKernels);
else if (want === "wasm") {
  const set = wasmKernels();
  if (!set) throw new Error(`TAPEGRAD_KERNELS=wasm but wasm kernels are unavailable: ${JSON.stringify(wasmStatus())}`);
  useKernels(set);
} else if (want !== "auto") throw new Error(`TAPEGRAD_KERNELS must be js, wasm or auto (got ${JSON.stringify(want)})`);
