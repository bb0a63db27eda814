/**
 * @file The int8 GEMM against PyTorch: the `quantized_linear` cases of
 * `compress/quant.json` (under `GOLDEN_DIR`). From torch's own integers (`x_int_repr`,
 * `w_int_repr`): `gemmU8I8` must give `acc` exactly, and `gemmU8I8Dequant` with
 * `scales[o] = fl32(x_scale·w_scales[o])` and the bias must match `output_float64` within the
 * file's `quantized_linear_tolerance`. Each case runs as is (small: the pure-TS kernel on every
 * backend) and with its rows repeated 64 times (large enough for the wasm kernel on the wasm set).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gemmU8I8, gemmU8I8Dequant, packInt8Weights } from "@tapegrad/tensor";
import { goldenDir } from "../golden/dir.js";

interface GTensor {
  dtype: string;
  shape: number[];
  data: (number | string)[];
}
interface QLinearCase {
  name: string;
  op: string;
  attrs: { x_scale: number; x_zero_point: number };
  inputs: { bias: GTensor; w_scales: GTensor };
  expected: { x_int_repr: GTensor; w_int_repr: GTensor; acc: GTensor; output_float64: GTensor };
}

const file = JSON.parse(readFileSync(join(goldenDir(), "compress", "quant.json"), "utf8")) as {
  cases: QLinearCase[];
  quantized_linear_tolerance: { rtol: number; atol: number };
};
const cases = file.cases.filter((c) => c.op === "quantized_linear");
const tol = file.quantized_linear_tolerance;
const nums = (t: GTensor) => t.data.map(Number);

describe("int8 GEMM vs torch quantized_linear (compress/quant.json)", () => {
  it("has cases", () => expect(cases.length).toBeGreaterThanOrEqual(3));
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const [batch, k] = c.expected.x_int_repr.shape as [number, number];
    const n = c.expected.w_int_repr.shape[0]!;
    const w = packInt8Weights(Int8Array.from(nums(c.expected.w_int_repr)), n, k);
    const xs = Math.fround(c.attrs.x_scale);
    const scales = Float32Array.from(nums(c.inputs.w_scales), (s) => Math.fround(xs * Math.fround(s)));
    const bias = Float32Array.from(nums(c.inputs.bias));
    const acc = nums(c.expected.acc), out64 = nums(c.expected.output_float64);
    for (const reps of [1, 64]) {
      const x = new Uint8Array(reps * batch * k);
      const xq = nums(c.expected.x_int_repr);
      for (let r = 0; r < reps; r++) x.set(xq, r * batch * k);
      const got = gemmU8I8(x, c.attrs.x_zero_point, reps * batch, w);
      const y = gemmU8I8Dequant(x, c.attrs.x_zero_point, reps * batch, w, scales, bias);
      for (let r = 0; r < reps; r++) {
        expect(Array.from(got.subarray(r * batch * n, (r + 1) * batch * n))).toEqual(acc);
        for (let i = 0; i < batch * n; i++) {
          const want = out64[i]!, have = y[r * batch * n + i]!;
          expect(Math.abs(have - want)).toBeLessThanOrEqual(tol.atol + tol.rtol * Math.abs(want));
        }
      }
    }
  });
});
