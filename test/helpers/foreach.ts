/**
 * @file Shared setup of the `foreach*` tests (`test/tensor/foreach-*.test.ts`): the kernel sets to
 * compare, seeded data with special values (NaN, ±Infinity, ±0, subnormals, huge values), arrays
 * placed in wasm memory or plain (or both in one list), a bit-exact comparison, and the two map
 * kernels more than one file runs (`sgdMomentum`, `axpy`).
 */
import { expect } from "vitest";
import {
  Rng, allocate, dispose, isInKernelMemory, jsKernels, mapKernel, wasmKernels, type KernelSet,
} from "@tapegrad/tensor";
import { withKernels } from "./kernels.js";

export const fround = Math.fround;
export const wasmSet = wasmKernels();
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -3e-39, 1.1754942e-38, 3.4e38, 1e20, -1e20];
const placedArrays: Float32Array[] = [];

/** Disposes every array `placed` made that `release` has not: call it in the test file's `afterAll`. */
export function disposePlaced(): void {
  for (const x of placedArrays) dispose(x);
  placedArrays.length = 0;
}

/** Runs `fn` with `set` pinned, then restores the previous selection. */
export const onSet = withKernels;

/** The kernel sets to compare: js always, wasm where available. */
export const SETS: KernelSet[] = wasmSet ? [jsKernels, wasmSet] : [jsKernels];

/** Seeded values (scaled normals); with `special`, special values every 7th element. */
export function values(n: number, seed: number, special = false, scale = 3): Float32Array {
  const rng = new Rng(seed), x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal() * scale;
  if (special) for (let i = 3, k = seed; i < n; i += 7, k++) x[i] = SPECIAL[k % SPECIAL.length]!;
  return x;
}

/**
 * A copy of `x` in persistent storage allocated with the wasm set (so placed in wasm memory); a
 * plain copy where wasm is unavailable.
 */
function placed(x: Float32Array): Float32Array {
  if (!wasmSet) return x.slice();
  const p = onSet(wasmSet, () => allocate(x.length, { persistent: true }));
  if (!isInKernelMemory(p)) expect.fail(`persistent storage of ${x.length} floats was not placed in wasm memory`);
  p.set(x);
  placedArrays.push(p);
  return p;
}

/** How arrays are stored for a run: all plain, all placed, or alternating. */
export type Placement = "plain" | "placed" | "mixed";
export const PLACEMENTS: Placement[] = wasmSet ? ["plain", "placed", "mixed"] : ["plain"];

export function store(xs: readonly Float32Array[], how: Placement, salt = 0): Float32Array[] {
  return xs.map((x, i) => (how === "placed" || (how === "mixed" && (i + salt) % 2 === 0) ? placed(x) : x.slice()));
}

/** Releases the placed arrays of `xs` now (they are many and large in some tests). */
export function release(xs: readonly Float32Array[]): void {
  for (const x of xs) {
    const i = placedArrays.indexOf(x);
    if (i >= 0) dispose(placedArrays.splice(i, 1)[0]!);
  }
}

export const bitsOf = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/**
 * Asserts identical float32 bit patterns; with `anyNaN`, a NaN matches any NaN. Map kernels are
 * compared that way: the sign of a NaN can differ between paths (see "NaN bits" in
 * foreach-map.test.ts).
 */
export function expectSameBits(a: Float32Array, b: Float32Array, label: string, anyNaN = false): void {
  expect(a.length, `${label}: length`).toBe(b.length);
  const x = bitsOf(a), y = bitsOf(b);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i] && !(anyNaN && Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      expect.fail(`${label}: element ${i}: ${a[i]} (0x${x[i]!.toString(16)}) vs ${b[i]} (0x${y[i]!.toString(16)})`);
    }
  }
}

/** SGD with momentum and weight decay: b ← μ·b + (g + wd·p), p ← p − lr·b. */
export const sgdMomentum = mapKernel(
  "sgdMomentum",
  { arrays: ["p", "g", "b"], scalars: ["lr", "mu", "wd"] },
  ({ p, g, b }, { lr, mu, wd }) => {
    const g1 = g.add(wd.mul(p)).f32();
    const b1 = mu.mul(b).f32().add(g1).f32();
    return { b: b1, p: p.sub(lr.mul(b1)) };
  },
);

/** Reads x, never writes it. */
export const axpy = mapKernel("axpy", { arrays: ["y", "x"], scalars: ["a"] }, ({ y, x }, { a }) => ({ y: y.add(a.mul(x)) }));
