/**
 * @file Types and parsing helpers for the golden files (schema "autodiff-golden/1", see the
 * golden directory's README): tensors, non-finite number strings, tolerances and comparisons.
 */
import { Tensor } from "@tapegrad/tensor";

/** A tensor as stored in a golden file. */
export interface GTensor {
  dtype: "float32" | "float64" | "int64" | "bool";
  shape: number[];
  data: (number | string)[];
}

/** `abs(actual - expected) <= atol + rtol * abs(expected)`. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

/** A whole golden file. */
export interface GoldenFile {
  schema: string;
  file: string;
  tolerance: Tolerance;
  cases: GoldenCase[];
  [key: string]: unknown;
}

/** One case; fields depend on the file. */
export interface GoldenCase {
  name: string;
  [key: string]: unknown;
}

/** Outcome of one case. */
export interface CaseResult {
  name: string;
  status: "passed" | "failed" | "skipped";
  message?: string;
}

/** Decodes a golden number: finite numbers pass through; "NaN"/"Infinity"/"-Infinity" strings. */
export function num(v: number | string | null | undefined): number {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  throw new Error(`golden: not a number: ${JSON.stringify(v)}`);
}

/** True when `x` looks like a golden tensor object. */
export function isGTensor(x: unknown): x is GTensor {
  return typeof x === "object" && x !== null && Array.isArray((x as GTensor).shape) && Array.isArray((x as GTensor).data);
}

/** Float32 values of a golden tensor (exact float32 bits). */
export function f32(t: GTensor): Float32Array {
  return Float32Array.from(t.data, (v) => num(v));
}

/** A golden tensor as a tapegrad Tensor (bool and int64 become 0/1 and integer floats). */
export function toTensor(t: GTensor): Tensor {
  return new Tensor(f32(t), t.shape);
}

/** Integer indices of an int64 golden tensor. */
export function toIndices(t: GTensor): Int32Array {
  return Int32Array.from(t.data, (v) => num(v));
}

function close(a: number, e: number, tol: Tolerance): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (!Number.isFinite(e)) return a === e;
  if (!Number.isFinite(a)) return false;
  return Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
}

/**
 * Compares values element by element; returns null when all match, else a message naming the
 * first mismatches.
 */
export function compareValues(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): string | null {
  if (actual.length !== expected.length) return `${label}: expected ${expected.length} values, got ${actual.length}`;
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    if (!close(actual[i]!, expected[i]!, tol)) {
      count++;
      if (bad.length < 3) bad.push(`[${i}] got ${actual[i]} expected ${expected[i]}`);
    }
  }
  return count === 0 ? null : `${label}: ${count}/${expected.length} values differ (${bad.join("; ")})`;
}

/** Compares a tensor (shape and values) with a golden tensor. */
export function compareTensor(label: string, actual: Tensor, expected: GTensor, tol: Tolerance): string | null {
  const es = expected.shape;
  if (actual.shape.length !== es.length || actual.shape.some((d, i) => d !== es[i])) {
    return `${label}: shape ${JSON.stringify(actual.shape)} != expected ${JSON.stringify(es)}`;
  }
  return compareValues(label, actual.toFloat32Array(), f32(expected), tol);
}

/** Compares a number with a golden number. */
export function compareNumber(label: string, actual: number, expected: number | string, tol: Tolerance): string | null {
  const e = num(expected);
  return close(actual, e, tol) ? null : `${label}: got ${actual} expected ${e}`;
}

/** Collects comparison messages; `ok` when none failed. */
export class Checks {
  readonly failures: string[] = [];
  add(msg: string | null): void {
    if (msg !== null) this.failures.push(msg);
  }
  get ok(): boolean {
    return this.failures.length === 0;
  }
  result(name: string): CaseResult {
    return this.ok ? { name, status: "passed" } : { name, status: "failed", message: this.failures.join("\n") };
  }
}

/** Runs `fn` for one case, turning exceptions into a failed result. */
export function runCase(name: string, fn: () => CaseResult): CaseResult {
  try {
    return fn();
  } catch (e) {
    const err = e as Error;
    return { name, status: "failed", message: `threw ${err.name}: ${err.message}` };
  }
}
