/**
 * @file The WebAssembly SIMD int8 GEMM driver (placeholder: the pure-TS kernel runs until the
 * wasm kernel lands).
 */
import type { WasmArena } from "./arena.js";
import type { Int8Epilogue } from "../int8/gemm.js";
import type { PackedInt8 } from "../int8/packed.js";

/**
 * Runs the int8 GEMM in wasm; false when it did not (the caller then runs the TS kernel).
 *
 * @throws never.
 * @example
 * ```ts
 * if (!gemmU8I8Wasm(arena, 1, x, zp, batch, w, acc, null)) gemmU8I8Ts(x, zp, batch, w, w.data(), acc!);
 * ```
 */
export function gemmU8I8Wasm(_arena: WasmArena, _threads: number, _x: Uint8Array, _zp: number, _batch: number, _w: PackedInt8, _acc: Int32Array | null, _ep: Int8Epilogue | null): boolean {
  return false;
}
