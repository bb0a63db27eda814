/**
 * @file Value assertions for tensor tests: elementwise closeness with NaN/±Infinity matching,
 * shape equality, and comparison against a float64 {@link Ref}.
 */
import { expect } from "vitest";
import type { Tensor } from "@tapegrad/tensor";
import { fromTensor, type Ref } from "./reference.js";

/** Tolerances for `|actual - expected| <= atol + rtol * |expected|` (per element `atol` allowed). */
export interface Tol {
  rtol?: number;
  atol?: number | ArrayLike<number>;
}

/** Default float32 tolerance: 1e-5 relative, tiny absolute. */
export const F32: Tol = { rtol: 1e-5, atol: 1e-7 };

/**
 * Asserts that two value lists match element by element: NaN must match NaN, ±Infinity must
 * match exactly, finite values within the tolerance. Reports the first few mismatches.
 */
export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol = F32, label = "values"): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-7;
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const at = typeof atol === "number" ? atol : atol[i]!;
    let ok: boolean;
    if (Number.isNaN(e)) ok = Number.isNaN(a);
    else if (!Number.isFinite(e)) ok = a === e;
    else ok = Number.isFinite(a) && Math.abs(a - e) <= at + rtol * Math.abs(e);
    if (!ok) {
      count++;
      if (bad.length < 5) bad.push(`[${i}] got ${a}, expected ${e}`);
    }
  }
  if (count > 0) expect.fail(`${label}: ${count}/${expected.length} values differ: ${bad.join("; ")}`);
}

/** Asserts a tensor's shape and (exact or close) values given as a flat list. */
export function expectTensor(t: Tensor, shape: readonly number[], values: ArrayLike<number>, tol: Tol = { rtol: 0, atol: 0 }): void {
  expect(Array.from(t.shape)).toEqual(Array.from(shape));
  expectAllClose(t.toFloat32Array(), values, tol);
}

/** Asserts that a tensor matches a float64 reference (shape and values). */
export function expectRef(t: Tensor, ref: Ref, tol: Tol = F32, label = "tensor"): void {
  expect(Array.from(t.shape), `${label}: shape`).toEqual(ref.shape);
  expectAllClose(fromTensor(t).data, ref.data, tol, label);
}

/** True when `x` is -0. */
export function isNegZero(x: number): boolean {
  return x === 0 && 1 / x < 0;
}
