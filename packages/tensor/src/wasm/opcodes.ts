/**
 * @file Named WebAssembly value types and opcodes (the subset tapegrad's kernels use). Numbers
 * are from the WebAssembly core specification 2.0 (binary format, §5.4) and the fixed-width SIMD
 * proposal; SIMD opcodes follow the `0xfd` prefix byte as unsigned LEB128 values.
 */

/**
 * Value types, as encoded in signatures and local declarations.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * mod.addFunction([ValType.f64, ValType.f64], [ValType.f64], (f) => { f.get(0).get(1).f64Add(); }, "add"); // (f64, f64) -> f64
 * ```
 */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
} as const;

/** One of the {@link ValType} codes. */
export type ValType = (typeof ValType)[keyof typeof ValType];

/**
 * Block type of a `block`/`loop`/`if` with no result.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * code.byte(Op.block).byte(BLOCK_VOID); // what FunctionBuilder.block emits first
 * ```
 */
export const BLOCK_VOID = 0x40;

/**
 * Section ids (module structure).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * out.byte(Section.type).sized(types); // a section: id, then its size-prefixed content
 * ```
 */
export const Section = {
  type: 1,
  import: 2,
  function: 3,
  memory: 5,
  export: 7,
  code: 10,
} as const;

/**
 * External kinds used in import and export entries.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * exports.name("gemm_block").byte(ExternalKind.function).u32(index); // one export entry
 * ```
 */
export const ExternalKind = { function: 0, memory: 2 } as const;

/**
 * Single-byte opcodes: control, variables, memory, numeric.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * f.get(x).get(y).op(Op.i32_shr_u); // an opcode FunctionBuilder has no named method for
 * ```
 */
export const Op = {
  unreachable: 0x00,
  nop: 0x01,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  call: 0x10,
  drop: 0x1a,
  select: 0x1b,

  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,

  i32_load: 0x28,
  f32_load: 0x2a,
  f64_load: 0x2b,
  i32_store: 0x36,
  f32_store: 0x38,
  f64_store: 0x39,
  memory_size: 0x3f,
  memory_grow: 0x40,

  i32_const: 0x41,
  f32_const: 0x43,
  f64_const: 0x44,

  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,

  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_s: 0x6d,
  i32_div_u: 0x6e,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,

  f32_add: 0x92,
  f32_sub: 0x93,
  f32_mul: 0x94,
  f64_eq: 0x61,
  f64_ne: 0x62,
  f64_lt: 0x63,
  f64_gt: 0x64,
  f64_le: 0x65,
  f64_ge: 0x66,
  i32_xor: 0x73,
  f32_convert_i32_s: 0xb2,
  f64_convert_i32_s: 0xb7,
  i32_reinterpret_f32: 0xbc,
  f32_reinterpret_i32: 0xbe,
  f64_ceil: 0x9b,
  f64_floor: 0x9c,
  f64_trunc: 0x9d,
  f64_nearest: 0x9e,
  f64_copysign: 0xa6,
  i64_const: 0x42,
  i64_shl: 0x86,
  i64_extend_i32_u: 0xad,
  f64_reinterpret_i64: 0xbf,
  f64_abs: 0x99,
  f64_neg: 0x9a,
  f64_sqrt: 0x9f,
  f64_add: 0xa0,
  f64_sub: 0xa1,
  f64_mul: 0xa2,
  f64_div: 0xa3,
  f64_min: 0xa4,
  f64_max: 0xa5,
  f32_demote_f64: 0xb6,
  f64_convert_i32_u: 0xb8,
  f64_promote_f32: 0xbb,
} as const;

/**
 * Prefix byte of every SIMD instruction.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * code.byte(SIMD_PREFIX).u32(SimdOp.f32x4_add); // what FunctionBuilder.simd emits
 * ```
 */
export const SIMD_PREFIX = 0xfd;

/**
 * Prefix byte of the "miscellaneous" instructions (saturating truncations, bulk memory).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * f.misc(MiscOp.i32_trunc_sat_f32_s); // float → int32 without trapping
 * ```
 */
export const MISC_PREFIX = 0xfc;

/**
 * Miscellaneous opcodes (written after {@link MISC_PREFIX} as unsigned LEB128).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * f.get(x).misc(MiscOp.i32_trunc_sat_f32_s);
 * ```
 */
export const MiscOp = { i32_trunc_sat_f32_s: 0x00, i32_trunc_sat_f64_s: 0x02 } as const;

/**
 * SIMD opcodes (written after {@link SIMD_PREFIX} as unsigned LEB128).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * f.get(v).simd(SimdOp.f32x4_sqrt); // an instruction FunctionBuilder has no named method for
 * ```
 */
export const SimdOp = {
  v128_load: 0x00,
  v128_load32_splat: 0x09,
  v128_store: 0x0b,
  v128_const: 0x0c,
  i8x16_shuffle: 0x0d,
  f32x4_splat: 0x13,
  f64x2_splat: 0x14,
  f32x4_extract_lane: 0x1f,
  f64x2_extract_lane: 0x21,
  v128_store32_lane: 0x5a,
  v128_store64_lane: 0x5b,
  v128_load32_zero: 0x5c,
  v128_load64_zero: 0x5d,
  i32x4_splat: 0x11,
  f32x4_replace_lane: 0x20,
  f32x4_eq: 0x41, f32x4_ne: 0x42, f32x4_lt: 0x43, f32x4_gt: 0x44, f32x4_le: 0x45, f32x4_ge: 0x46,
  f64x2_eq: 0x47, f64x2_ne: 0x48, f64x2_lt: 0x49, f64x2_gt: 0x4a, f64x2_le: 0x4b, f64x2_ge: 0x4c,
  v128_not: 0x4d, v128_and: 0x4e, v128_andnot: 0x4f, v128_or: 0x50, v128_xor: 0x51,
  v128_bitselect: 0x52,
  f32x4_ceil: 0x67, f32x4_floor: 0x68, f32x4_trunc: 0x69, f32x4_nearest: 0x6a,
  f64x2_ceil: 0x74, f64x2_floor: 0x75, f64x2_trunc: 0x7a, f64x2_nearest: 0x94,
  i32x4_shl: 0xab, i32x4_shr_s: 0xac, i32x4_shr_u: 0xad, i32x4_add: 0xae, i32x4_sub: 0xb1,
  i32x4_min_s: 0xb6, i32x4_max_s: 0xb8,
  i64x2_extend_low_i32x4_s: 0xc7, i64x2_extend_high_i32x4_s: 0xc8,
  i32x4_trunc_sat_f32x4_s: 0xf8, f32x4_convert_i32x4_s: 0xfa,
  f32x4_demote_f64x2_zero: 0x5e,
  f64x2_promote_low_f32x4: 0x5f,
  f32x4_abs: 0xe0,
  f32x4_neg: 0xe1,
  f32x4_sqrt: 0xe3,
  f32x4_add: 0xe4,
  f32x4_sub: 0xe5,
  f32x4_mul: 0xe6,
  f32x4_div: 0xe7,
  f32x4_min: 0xe8,
  f32x4_max: 0xe9,
  /** `b < a ? b : a` (one x86 minps). */
  f32x4_pmin: 0xea,
  /** `a < b ? b : a` (one x86 maxps). */
  f32x4_pmax: 0xeb,
  f64x2_abs: 0xec,
  f64x2_neg: 0xed,
  f64x2_sqrt: 0xef,
  f64x2_add: 0xf0,
  f64x2_sub: 0xf1,
  f64x2_mul: 0xf2,
  f64x2_div: 0xf3,
  f64x2_min: 0xf4,
  f64x2_max: 0xf5,
  /** `b < a ? b : a`. */
  f64x2_pmin: 0xf6,
  /** `a < b ? b : a`. */
  f64x2_pmax: 0xf7,
  i64x2_shl: 0xcb,
  /** Relaxed SIMD (`a·b + c`, fused or not, implementation-defined). */
  f32x4_relaxed_madd: 0x105,
} as const;

/**
 * Natural alignment (log2 of the access size in bytes) for memory instructions.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * code.byte(Op.f64_load).u32(Align.b8).u32(offset); // memarg: alignment, then offset
 * ```
 */
export const Align = { b4: 2, b8: 3, b16: 4 } as const;
