/**
 * @file The float32 epilogue of the int8 GEMM (`gemmU8I8Dequant`): int32 accumulators to float32
 * outputs with a per-feature scale, an optional bias and an optional ReLU, rounded exactly as
 * documented so that every backend gives the same bits.
 */

/**
 * The float epilogue: `out = fl32(fl32(acc·scales[o]) + bias[o])`, then ReLU when `relu`.
 *
 * @throws never (an interface).
 * @example
 * ```ts
 * const ep: Int8Epilogue = { scales, bias: null, relu: true, out: new Float32Array(batch * n) };
 * ```
 */
export interface Int8Epilogue {
  readonly scales: Float32Array;
  readonly bias: Float32Array | null;
  readonly relu: boolean;
  readonly out: Float32Array;
}

/**
 * The float epilogue over `rows × n` accumulators (`acc` from `at`, row stride `ld`) into
 * `ep.out` (row stride `n`): `fl32(fl32(acc·scale[o]) + bias[o])` with the product in float64 and
 * rounded once, then `max(·, 0)` with ReLU (`+0` for `−0`; NaN stays NaN).
 *
 * @throws never for valid arguments.
 * @example
 * ```ts
 * dequantInto(acc, 0, n, batch, n, { scales, bias: null, relu: false, out });
 * ```
 */
export function dequantInto(acc: Int32Array, at: number, ld: number, rows: number, n: number, ep: Int8Epilogue): void {
  const { scales, bias, relu, out } = ep;
  const fr = Math.fround;
  for (let r = 0; r < rows; r++) {
    const a = at + r * ld, o = r * n;
    if (bias) {
      for (let j = 0; j < n; j++) {
        const v = fr(fr(acc[a + j]! * scales[j]!) + bias[j]!);
        out[o + j] = relu && !(v > 0) && v === v ? 0 : v;
      }
    } else {
      for (let j = 0; j < n; j++) {
        const v = fr(acc[a + j]! * scales[j]!);
        out[o + j] = relu && !(v > 0) && v === v ? 0 : v;
      }
    }
  }
}
