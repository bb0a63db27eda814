/**
 * @file The unit in the last place of float32, the yardstick of the transcendentals' error
 * bounds (`test/tensor/transcendental.test.ts`, `scripts/sigmoid-sweep.ts`).
 */

/**
 * Spacing of float32 numbers at |r| (2⁻¹⁴⁹ below the normal range), for any float64 `r`.
 *
 * @throws never.
 * @example
 * ```ts
 * ulp32(1); // 2 ** -23
 * ```
 */
export function ulp32(r: number): number {
  const a = Math.abs(r);
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}
