/**
 * @file The sigmoid's error over every float32 input: runs the wasm kernel of `sigmoidF`
 * (`packages/tensor/src/map/math.ts`) on all 2³² bit patterns, 4M at a time, and compares each
 * result with float64 `1/(1 + e^−x)`. Prints the worst error in ulps (ulp of float32 at the
 * float64 value; 2⁻¹⁴⁹ for denormal results) and where it occurs, the worst relative error over
 * normal results, how many results exceed 1, 1.5 and 2 ulps, and how many NaN inputs did not
 * give NaN. These are the numbers behind the stated bound (≤ 3 ulp, relative error ≤ 2.3·10⁻⁷).
 * Takes about 5-7 minutes on the benchmark machine. Run it with
 * `pnpm exec tsx --conditions=source scripts/sigmoid-sweep.ts`.
 */
import { allocate, mapKernel, wasmKernels } from "@tapegrad/tensor";
import { sigmoidF } from "../packages/tensor/src/map/math.js";
import { ulp32 } from "../test/helpers/ulp.js";

const wasm = wasmKernels();
if (!wasm) throw new Error("sigmoid-sweep: WebAssembly SIMD kernels are unavailable here");
const N = 1 << 22;
const x = allocate(N, { persistent: true }), out = allocate(N, { persistent: true });
const bits = new Int32Array(x.buffer, x.byteOffset, N);
const kernel = mapKernel("sigmoid-sweep", { arrays: ["o", "x"], scalars: [] }, ({ x: v }) => ({ o: sigmoidF(v) }));

let worst = 0, worstAt = 0, worstRel = 0, worstRelAt = 0, nanNotNaN = 0;
const over = [0, 0, 0]; // > 1, > 1.5, > 2 ulps
const t0 = performance.now();
for (let base = 0; base < 2 ** 32; base += N) {
  for (let i = 0; i < N; i++) bits[i] = (base + i) | 0;
  wasm.mapBlock(kernel, [out, x], [0, 0], [1, 1], [0, 0], N, 1, []);
  for (let i = 0; i < N; i++) {
    const v = x[i]!, y = out[i]!;
    if (Number.isNaN(v)) {
      if (!Number.isNaN(y)) nanNotNaN++;
      continue;
    }
    const r = 1 / (1 + Math.exp(-v));
    const d = Math.abs(y - r), e = d / ulp32(r);
    if (e > worst) [worst, worstAt] = [e, v];
    if (e > 1) over[0]!++;
    if (e > 1.5) over[1]!++;
    if (e > 2) over[2]!++;
    if (r >= 2 ** -126 && d / r > worstRel) [worstRel, worstRelAt] = [d / r, v];
  }
}
console.log(`sigmoid over all 2^32 float32 inputs (${((performance.now() - t0) / 1000).toFixed(0)} s):`);
console.log(`  worst error ${worst.toFixed(3)} ulp at x = ${worstAt}`);
console.log(`  worst relative error (normal results) ${worstRel.toExponential(3)} at x = ${worstRelAt}`);
console.log(`  results above 1 / 1.5 / 2 ulps: ${over.join(" / ")}; NaN inputs not giving NaN: ${nanNotNaN}`);
