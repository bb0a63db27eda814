/**
 * @file The wasm kernel set's activation quantization drivers (kernels emitted by
 * `quantize-u8-kernel.ts`): a float32 array that lives in the (shared) wasm memory is read in
 * place; any other is staged into scratch in pieces of {@link STAGE} floats (one
 * `TypedArray.set` each) and the bytes copied out. The module is compiled once per memory kind
 * and instantiated once per arena. When it cannot run here (no room, compilation refused) the
 * drivers return null and the caller runs the pure-TS kernel, which gives the same results.
 */
import type { WasmArena } from "./arena.js";
import { mainArena } from "./runtime.js";
import { placementArena } from "./placement.js";
import { quantizeModuleBytes } from "./quantize-u8-kernel.js";

/** Floats per staged piece (a multiple of 16). */
const STAGE = 1 << 16;

interface QuantExports {
  quantize_u8(src: number, dst: number, n: number, inv: number, lo: number, hi: number, zp: number): number;
  minmax_f32(src: number, n: number, acc: number): number;
}

const compiled = new Map<boolean, WebAssembly.Module | null>();
const instances = new WeakMap<WasmArena, QuantExports | null>();

/** The module's exports over `arena` (null when it cannot be compiled here). */
function exportsFor(arena: WasmArena): QuantExports | null {
  let e = instances.get(arena);
  if (e !== undefined) return e;
  try {
    let m = compiled.get(arena.shared);
    if (m === undefined) {
      try {
        m = new WebAssembly.Module(quantizeModuleBytes(arena.shared));
      } catch {
        m = null;
      }
      compiled.set(arena.shared, m);
    }
    e = m ? (new WebAssembly.Instance(m, { env: { memory: arena.memory } }).exports as unknown as QuantExports) : null;
  } catch {
    e = null;
  }
  instances.set(arena, e);
  return e;
}

/** The arena to run in for `x`, and whether `x` is read in place there. */
function arenaFor(x: Float32Array): { ar: WasmArena; inPlace: boolean } | null {
  const placed = placementArena();
  // a plain (non-shared) placement memory must not grow: scratch lives in the main arena then
  const ar = placed?.shared ? placed : mainArena();
  if (!ar) return null;
  return { ar, inPlace: ar.shared && ar.owns(x) };
}

let u8: Uint8Array = new Uint8Array(0);
function bytesOf(ar: WasmArena): Uint8Array {
  if (u8.buffer !== ar.memory.buffer) u8 = new Uint8Array(ar.memory.buffer);
  return u8;
}

/**
 * Quantizes `x` into `out` (same length) in wasm: `out[i] = clamp(zp + rne(fl32(x[i]·inv)), qmin,
 * qmax)`; returns true when an input was NaN/±Infinity (every byte is written either way: NaN →
 * `qmin`, ±Infinity saturates), false when all were finite, null when it did not run (the
 * caller then uses `quantizeU8Ts`). Arguments are not validated.
 *
 * @throws never (memory that cannot grow returns null).
 * @example
 * ```ts
 * const bad = quantizeU8Wasm(x, Math.fround(1 / scale), 128, 0, 255, out) ?? quantizeU8Ts(...) >= 0;
 * ```
 */
export function quantizeU8Wasm(x: Float32Array, inv: number, zp: number, qmin: number, qmax: number, out: Uint8Array): boolean | null {
  const where = arenaFor(x);
  if (!where) return null;
  const { ar, inPlace } = where;
  const ex = exportsFor(ar);
  if (!ex) return null;
  const n = x.length, lo = qmin - zp, hi = qmax - zp;
  let bad = 0;
  try {
    if (inPlace) {
      const dst = ar.scratch("quantize-u8-out", Math.min(n, STAGE) + 16);
      for (let s = 0; s < n; s += STAGE) {
        const len = Math.min(STAGE, n - s);
        bad |= ex.quantize_u8(x.byteOffset + 4 * s, dst, len, inv, lo, hi, zp);
        out.set(bytesOf(ar).subarray(dst, dst + len), s);
      }
    } else {
      const src = ar.scratch("quantize-u8-in", 4 * Math.min(n, STAGE) + 16 * 5);
      const dst = src + 4 * Math.min(n, STAGE) + 64;
      for (let s = 0; s < n; s += STAGE) {
        const len = Math.min(STAGE, n - s);
        ar.f32.set(x.subarray(s, s + len), src >>> 2);
        bad |= ex.quantize_u8(src, dst, len, inv, lo, hi, zp);
        out.set(bytesOf(ar).subarray(dst, dst + len), s);
      }
    }
  } catch {
    return null;
  }
  return bad !== 0;
}

/**
 * Min and max of `x` in wasm into `out[0]`, `out[1]` (`Infinity`, `−Infinity` for an empty
 * array); returns true when an input was NaN/±Infinity (`out` is then meaningless), false
 * otherwise, null when it did not run (the caller then uses `minMaxTs`). Arguments are not validated.
 *
 * @throws never (memory that cannot grow returns null).
 * @example
 * ```ts
 * const mm = new Float64Array(2);
 * const bad = minMaxWasm(x, mm) ?? minMaxTs(x, x.length, mm) >= 0;
 * ```
 */
export function minMaxWasm(x: Float32Array, out: Float64Array): boolean | null {
  const where = arenaFor(x);
  if (!where) return null;
  const { ar, inPlace } = where;
  const ex = exportsFor(ar);
  if (!ex) return null;
  const n = x.length;
  let bad = 0, acc: number;
  try {
    acc = ar.scratch("minmax-acc", 32);
    const f32 = ar.f32, a = acc >>> 2;
    f32.fill(Infinity, a, a + 4);
    f32.fill(-Infinity, a + 4, a + 8);
    if (inPlace) bad = ex.minmax_f32(x.byteOffset, n, acc);
    else {
      const src = ar.scratch("quantize-u8-in", 4 * Math.min(n, STAGE) + 16 * 5);
      for (let s = 0; s < n; s += STAGE) {
        const len = Math.min(STAGE, n - s);
        ar.f32.set(x.subarray(s, s + len), src >>> 2);
        bad |= ex.minmax_f32(src, len, acc);
      }
    }
  } catch {
    return null;
  }
  const f32 = ar.f32, a = acc >>> 2;
  out[0] = Math.min(f32[a]!, f32[a + 1]!, f32[a + 2]!, f32[a + 3]!);
  out[1] = Math.max(f32[a + 4]!, f32[a + 5]!, f32[a + 6]!, f32[a + 7]!);
  return bad !== 0;
}
