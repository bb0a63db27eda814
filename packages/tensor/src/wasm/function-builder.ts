/**
 * @file Builds one WebAssembly function body: a chain of named instructions (variables and
 * constants, i32 and float arithmetic, memory, SIMD) over the frame of `function-body.ts`
 * (locals, raw opcodes, structured control flow with labels, encoding).
 *
 * Instructions are not type-checked here: the engine validates the finished module
 * (`WebAssembly.validate`/`compile` report the function and byte offset).
 */
import { Align, Op, SIMD_PREFIX, SimdOp } from "./opcodes.js";
import { FunctionBody, type LocalIndex } from "./function-body.js";

/**
 * Emits the body of one function. Obtain one from `ModuleBuilder.addFunction`.
 *
 * @throws never when constructed; each method states what it throws (out-of-range immediates,
 * branches to labels that are not open).
 * @example
 * ```ts
 * // (param i32 i32) (result i32): a + b
 * mod.addFunction([ValType.i32, ValType.i32], [ValType.i32], (f) => {
 *   f.get(0).get(1).i32Add();
 * }, "add");
 * ```
 */
export class FunctionBuilder extends FunctionBody {
  // ---- SIMD lane and vector constants -----------------------------------------------------

  /** `f32x4.replace_lane` (the vector, then the f32 value, on the stack). @throws {RangeError} for a lane outside 0..3. @example `f.get(v).get(x).f32x4ReplaceLane(1)` */
  f32x4ReplaceLane(lane: number): this {
    if (!Number.isInteger(lane) || lane < 0 || lane > 3) throw new RangeError(`wasm: f32x4 lane ${lane} out of range`);
    this.code.byte(SIMD_PREFIX).u32(SimdOp.f32x4_replace_lane).byte(lane);
    return this;
  }

  /** `v128.const` with two f64 lanes. @throws never. @example `f.f64x2Const(0.5) // two halves` */
  f64x2Const(a: number, b = a): this {
    this.code.byte(SIMD_PREFIX).u32(SimdOp.v128_const);
    for (const x of [a, b]) this.code.f64(x);
    return this;
  }

  /** `v128.const` with four i32 lanes. @throws never. @example `f.i32x4Const(0x7fffffff) // a mask clearing sign bits` */
  i32x4Const(a: number, b = a, c = a, d = a): this {
    this.code.byte(SIMD_PREFIX).u32(SimdOp.v128_const);
    for (const x of [a, b, c, d]) for (let k = 0; k < 4; k++) this.code.byte((x >>> (8 * k)) & 0xff);
    return this;
  }

  // ---- variables and constants ------------------------------------------------------------

  /** `local.get x` @throws {RangeError} for an index that is not an integer in 0..2³²−1. @example `f.get(0).get(1).i32Add() // param 0 + param 1` */
  get(x: LocalIndex): this {
    this.code.byte(Op.local_get).u32(x);
    return this;
  }

  /** `local.set x` @throws {RangeError} for an index that is not an integer in 0..2³²−1. @example `f.get(i).i32Const(4).i32Add().set(i) // i += 4` */
  set(x: LocalIndex): this {
    this.code.byte(Op.local_set).u32(x);
    return this;
  }

  /** `local.tee x` (set and keep the value on the stack). @throws {RangeError} for an index that is not an integer in 0..2³²−1. @example `f.get(p).i32Const(16).i32Add().tee(p).get(end).i32LtU() // p += 16; p < end` */
  tee(x: LocalIndex): this {
    this.code.byte(Op.local_tee).u32(x);
    return this;
  }

  /** `i32.const n` @throws {RangeError} for a non-integer `n` outside −2³¹..2³²−1. @example `f.i32Const(-1) // all bits set` */
  i32Const(n: number): this {
    this.code.byte(Op.i32_const).s32(n);
    return this;
  }

  /** A signed LEB128 immediate (e.g. of `i64.const` for small values). @throws {RangeError} outside −2³¹..2³²−1. @example `f.op(Op.i64_const).i32LebRaw(52)` */
  i32LebRaw(n: number): this {
    this.code.s32(n);
    return this;
  }

  /** `f64.const x` @throws never. @example `f.f64Const(0).set(acc)` */
  f64Const(x: number): this {
    this.code.byte(Op.f64_const).f64(x);
    return this;
  }

  /** `v128.const` with four f32 lanes. @throws never. @example `f.f32x4Const(0).set(acc) // four zero lanes` */
  f32x4Const(a: number, b = a, c = a, d = a): this {
    this.code.byte(SIMD_PREFIX).u32(SimdOp.v128_const);
    for (const x of [a, b, c, d]) this.code.f32(x);
    return this;
  }

  // ---- i32 arithmetic and comparisons ------------------------------------------------------

  /** `i32.add` @throws never. @example `f.get(p).i32Const(4).i32Add().set(p)` */
  i32Add(): this {
    return this.op(Op.i32_add);
  }

  /** `i32.sub` @throws never. @example `f.get(end).get(p).i32Sub() // end − p` */
  i32Sub(): this {
    return this.op(Op.i32_sub);
  }

  /** `i32.mul` @throws never. @example `f.get(row).get(ld).i32Mul() // row · ld` */
  i32Mul(): this {
    return this.op(Op.i32_mul);
  }

  /** `i32.shl` @throws never. @example `f.get(i).i32Const(2).i32Shl() // i · 4 (a float index to bytes)` */
  i32Shl(): this {
    return this.op(Op.i32_shl);
  }

  /** `i32.ne` @throws never. @example `f.get(p).get(end).i32Ne().brIf(top) // loop while p ≠ end` */
  i32Ne(): this {
    return this.op(Op.i32_ne);
  }

  /** `i32.lt_u` @throws never. @example `f.get(p).get(end).i32LtU().brIf(top) // loop while p < end` */
  i32LtU(): this {
    return this.op(Op.i32_lt_u);
  }

  /** `i32.and` @throws never. @example `f.get(n).i32Const(~3).i32And() // n rounded down to a multiple of 4` */
  i32And(): this {
    return this.op(Op.i32_and);
  }

  /** `i32.or` @throws never. @example `f.get(a).get(b).i32Or().i32Eqz() // a and b both zero` */
  i32Or(): this {
    return this.op(Op.i32_or);
  }

  /** `i32.lt_s` @throws never. @example `f.get(item).i32Const(0).i32LtS() // item < 0` */
  i32LtS(): this {
    return this.op(Op.i32_lt_s);
  }

  /** `i32.ge_u` @throws never. @example `f.get(p).get(end).i32GeU().brIf(done) // leave once p ≥ end` */
  i32GeU(): this {
    return this.op(Op.i32_ge_u);
  }

  /** `i32.div_u` @throws never. @example `f.get(n).i32Const(8).i32DivU() // n / 8` */
  i32DivU(): this {
    return this.op(Op.i32_div_u);
  }

  /** `i32.rem_u` @throws never. @example `f.get(n).i32Const(8).i32RemU() // n mod 8` */
  i32RemU(): this {
    return this.op(Op.i32_rem_u);
  }

  /** `select`: of two values take the first when the i32 on top is non-zero. @throws never. @example `f.get(a).get(b).get(a).get(b).i32LtU().select() // min(a, b), unsigned` */
  select(): this {
    return this.op(Op.select);
  }

  // ---- scalar float -----------------------------------------------------------------------

  /** `f64.add` @throws never. @example `f.get(acc).get(x).f64Add().set(acc)` */
  f64Add(): this {
    return this.op(Op.f64_add);
  }

  /** `f64.mul` @throws never. @example `f.get(x).get(x).f64Mul() // x²` */
  f64Mul(): this {
    return this.op(Op.f64_mul);
  }

  /** `f64.sub` @throws never. @example `f.get(x).get(c).f64Sub() // x − c` */
  f64Sub(): this {
    return this.op(Op.f64_sub);
  }

  /** `f32.mul` @throws never. @example `f.get(x).get(c).f32Mul() // x·c in float32` */
  f32Mul(): this {
    return this.op(Op.f32_mul);
  }

  /** `f64.promote_f32` @throws never. @example `f.get(p).f32Load().f64PromoteF32() // a float read as float64` */
  f64PromoteF32(): this {
    return this.op(Op.f64_promote_f32);
  }

  /** `i32.eqz` @throws never. @example `f.get(n).i32Eqz().if(() => void f.return()) // nothing to do` */
  i32Eqz(): this {
    return this.op(Op.i32_eqz);
  }

  // ---- memory -----------------------------------------------------------------------------

  /** `f32.load offset` (address on the stack). @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(p).f32Load(4) // the float after the one at p` */
  f32Load(offset = 0): this {
    return this.mem(Op.f32_load, Align.b4, offset);
  }

  /** `f32.store offset` (address, value on the stack). @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(p).get(v).f32Store()` */
  f32Store(offset = 0): this {
    return this.mem(Op.f32_store, Align.b4, offset);
  }

  /** `i32.load offset` @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(desc).i32Load(4 * GemmDesc.m) // descriptor word m` */
  i32Load(offset = 0): this {
    return this.mem(Op.i32_load, Align.b4, offset);
  }

  /** `i32.store offset` (address, value on the stack). @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(p).i32Const(0).i32Store()` */
  i32Store(offset = 0): this {
    return this.mem(Op.i32_store, Align.b4, offset);
  }

  /** `f64.load offset` @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(desc).f64Load(VecDesc.c)` */
  f64Load(offset = 0): this {
    return this.mem(Op.f64_load, Align.b8, offset);
  }

  /** `f64.store offset` (address, value on the stack). @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(out).get(acc).f64Store()` */
  f64Store(offset = 0): this {
    return this.mem(Op.f64_store, Align.b8, offset);
  }

  /** `v128.load64_zero offset`: two floats into the low lanes, zeros above. @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(p).v128Load64Zero().set(v) // a 2-float tail` */
  v128Load64Zero(offset = 0): this {
    return this.memSimd(SimdOp.v128_load64_zero, Align.b4, offset);
  }

  /** `v128.load32_zero offset`: one float into lane 0, zeros above. @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(p).v128Load32Zero().set(v) // a 1-float tail` */
  v128Load32Zero(offset = 0): this {
    return this.memSimd(SimdOp.v128_load32_zero, Align.b4, offset);
  }

  /** `v128.store64_lane offset lane` (address, vector on the stack). @throws {RangeError} for an `offset` outside 0..2³²−1 or a `lane` outside 0..255 (the engine rejects lanes above 1 when it validates the module). @example `f.get(p).get(v).v128Store64Lane(0, 0) // the low two floats of v` */
  v128Store64Lane(offset: number, lane: number): this {
    this.memSimd(SimdOp.v128_store64_lane, Align.b4, offset);
    this.code.byte(lane);
    return this;
  }

  /** `v128.store32_lane offset lane` (address, vector on the stack). @throws {RangeError} for an `offset` outside 0..2³²−1 or a `lane` outside 0..255 (the engine rejects lanes above 3 when it validates the module). @example `f.get(p).get(v).v128Store32Lane(0, 2) // lane 2 of v` */
  v128Store32Lane(offset: number, lane: number): this {
    this.memSimd(SimdOp.v128_store32_lane, Align.b4, offset);
    this.code.byte(lane);
    return this;
  }

  /** `v128.load offset` @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(p).v128Load(16) // floats 4..7 from p` */
  v128Load(offset = 0): this {
    return this.memSimd(SimdOp.v128_load, Align.b16, offset);
  }

  /** `v128.load32_splat offset`: loads one f32/i32 into all four lanes. @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(pa).v128Load32Splat() // broadcast one A value` */
  v128Load32Splat(offset = 0): this {
    return this.memSimd(SimdOp.v128_load32_splat, Align.b4, offset);
  }

  /** `v128.store offset` (address, vector on the stack). @throws {RangeError} for an `offset` that is not an integer in 0..2³²−1. @example `f.get(pc).get(acc).v128Store()` */
  v128Store(offset = 0): this {
    return this.memSimd(SimdOp.v128_store, Align.b16, offset);
  }

  // ---- SIMD arithmetic --------------------------------------------------------------------

  /** `f32x4.add` @throws never. @example `f.get(acc).get(v).f32x4Add().set(acc)` */
  f32x4Add(): this {
    return this.simd(SimdOp.f32x4_add);
  }

  /** `f32x4.mul` @throws never. @example `f.get(a).get(b).f32x4Mul()` */
  f32x4Mul(): this {
    return this.simd(SimdOp.f32x4_mul);
  }

  /** `f32x4.splat` @throws never. @example `f.get(c).f32x4Splat().set(cv) // c in all four lanes` */
  f32x4Splat(): this {
    return this.simd(SimdOp.f32x4_splat);
  }

  /** `f32x4.extract_lane lane` @throws {RangeError} for a `lane` outside 0..255 (the engine rejects lanes above 3 when it validates the module). @example `f.get(v).f32x4ExtractLane(3)` */
  f32x4ExtractLane(lane: number): this {
    this.simd(SimdOp.f32x4_extract_lane);
    this.code.byte(lane);
    return this;
  }

  /** `f64x2.extract_lane lane` @throws {RangeError} for a `lane` outside 0..255 (the engine rejects lanes above 1 when it validates the module). @example `f.get(s).f64x2ExtractLane(0).get(s).f64x2ExtractLane(1).f64Add() // sum of both lanes` */
  f64x2ExtractLane(lane: number): this {
    this.simd(SimdOp.f64x2_extract_lane);
    this.code.byte(lane);
    return this;
  }

  /** `i8x16.shuffle` with 16 lane indices (0..31 select from the two operands). @throws {RangeError} unless there are exactly 16 lane indices (their values are not checked; the engine validates them). @example `f.get(lo).get(hi).i8x16Shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]) // low halves of both` */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new RangeError(`wasm: i8x16.shuffle needs 16 lanes (got ${lanes.length})`);
    this.simd(SimdOp.i8x16_shuffle);
    this.code.raw(lanes);
    return this;
  }

  private mem(opcode: number, align: number, offset: number): this {
    this.code.byte(opcode).u32(align).u32(offset);
    return this;
  }

  private memSimd(opcode: number, align: number, offset: number): this {
    this.simd(opcode);
    this.code.u32(align).u32(offset);
    return this;
  }
}
