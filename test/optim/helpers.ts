/**
 * @file Helpers for the optim tests: parameters with given values and gradients, and float32
 * closeness assertions.
 */
import { expect } from "vitest";
import { Tensor } from "@tapegrad/tensor";
import { variable, type Var } from "@tapegrad/autograd";

/** A parameter with `value` (flat, with `shape`, default 1-D) and optionally a gradient. */
export function param(value: readonly number[], grad: readonly number[] | null = null, shape?: readonly number[], name?: string): Var {
  const sh = shape ?? [value.length];
  const p = variable(new Tensor(Float32Array.from(value), sh), name === undefined ? {} : { name });
  if (grad !== null) p.grad = new Tensor(Float32Array.from(grad), sh);
  return p;
}

/** A parameter whose value is zeros and whose gradient is `grad`. */
export function gradParam(grad: readonly number[], shape?: readonly number[], name?: string): Var {
  return param(grad.map(() => 0), grad, shape, name);
}

/** The gradient's values as a plain array. */
export function gradOf(p: Var): number[] {
  return Array.from(p.grad!.toFloat32Array());
}

/** The value's elements as a plain array. */
export function valueOf(p: Var): number[] {
  return Array.from(p.value.toFloat32Array());
}

/** Float32 rounding of every entry. */
export function f32(xs: readonly number[]): number[] {
  return xs.map((x) => Math.fround(x));
}

/**
 * Asserts element-wise closeness (`|a − e| <= atol + rtol·|e|`); NaN must match NaN and ±Infinity
 * must match exactly.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-6, atol = 1e-7): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) expect(a, `[${i}]`).toBeNaN();
    else if (!Number.isFinite(e)) expect(a, `[${i}]`).toBe(e);
    else expect(Math.abs(a - e), `[${i}] got ${a} expected ${e}`).toBeLessThanOrEqual(atol + rtol * Math.abs(e));
  }
}

/** Asserts one number is close (same rules as {@link expectClose}). */
export function expectNear(actual: number, expected: number, rtol = 1e-6, atol = 1e-7): void {
  expectClose([actual], [expected], rtol, atol);
}
