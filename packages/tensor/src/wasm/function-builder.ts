/**
 * @file Builds one WebAssembly function body: locals plus a chain of named instructions.
 *
 * Structured control flow takes callbacks, so nesting in TypeScript mirrors nesting in the
 * module, and branches name their target with a {@link Label} instead of a relative depth (the
 * builder computes the depth). Instructions are not type-checked here: the engine validates the
 * finished module (`WebAssembly.validate`/`compile` report the function and byte offset).
 */
import { ByteWriter } from "./encoding.js";
import { Align, BLOCK_VOID, Op, SIMD_PREFIX, SimdOp, ValType } from "./opcodes.js";

/** A branch target: the block, loop or if it was created for. */
export interface Label {
  /** Nesting level at which the construct was opened (0 = function body). */
  readonly level: number;
}

/** Index of a parameter or local. */
export type LocalIndex = number;

/**
 * Emits the body of one function. Obtain one from `ModuleBuilder.addFunction`.
 *
 * @example
 * ```ts
 * // (param i32 i32) (result i32): a + b
 * mod.addFunction([ValType.i32, ValType.i32], [ValType.i32], (f) => {
 *   f.get(0).get(1).i32Add();
 * }, "add");
 * ```
 */
export class FunctionBuilder {
  /** Parameter types; parameters are locals `0..params.length-1`. */
  readonly params: readonly ValType[];
  /** Result types. */
  readonly results: readonly ValType[];
  private readonly locals: ValType[] = [];
  private readonly code = new ByteWriter();
  private depth = 0;

  constructor(params: readonly ValType[], results: readonly ValType[]) {
    this.params = params;
    this.results = results;
  }

  /** Declares a new local of `type` (zero-initialised); returns its index. */
  local(type: ValType): LocalIndex {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  // ---- generic escape hatches -------------------------------------------------------------

  /** Emits a single-byte opcode from {@link Op} with no immediates. */
  op(code: number): this {
    this.code.byte(code);
    return this;
  }

  /** Emits a SIMD opcode from {@link SimdOp} with no immediates. */
  simd(code: number): this {
    this.code.byte(SIMD_PREFIX).u32(code);
    return this;
  }

  // ---- variables and constants ------------------------------------------------------------

  /** `local.get x` */
  get(x: LocalIndex): this {
    this.code.byte(Op.local_get).u32(x);
    return this;
  }

  /** `local.set x` */
  set(x: LocalIndex): this {
    this.code.byte(Op.local_set).u32(x);
    return this;
  }

  /** `local.tee x` (set and keep the value on the stack). */
  tee(x: LocalIndex): this {
    this.code.byte(Op.local_tee).u32(x);
    return this;
  }

  /** `i32.const n` */
  i32Const(n: number): this {
    this.code.byte(Op.i32_const).s32(n);
    return this;
  }

  /** `f64.const x` */
  f64Const(x: number): this {
    this.code.byte(Op.f64_const).f64(x);
    return this;
  }

  /** `v128.const` with four f32 lanes. */
  f32x4Const(a: number, b = a, c = a, d = a): this {
    this.code.byte(SIMD_PREFIX).u32(SimdOp.v128_const);
    for (const x of [a, b, c, d]) this.code.f32(x);
    return this;
  }

  // ---- i32 arithmetic and comparisons ------------------------------------------------------

  /** `i32.add` */
  i32Add(): this {
    return this.op(Op.i32_add);
  }

  /** `i32.sub` */
  i32Sub(): this {
    return this.op(Op.i32_sub);
  }

  /** `i32.mul` */
  i32Mul(): this {
    return this.op(Op.i32_mul);
  }

  /** `i32.shl` */
  i32Shl(): this {
    return this.op(Op.i32_shl);
  }

  /** `i32.ne` */
  i32Ne(): this {
    return this.op(Op.i32_ne);
  }

  /** `i32.lt_u` */
  i32LtU(): this {
    return this.op(Op.i32_lt_u);
  }

  /** `i32.and` */
  i32And(): this {
    return this.op(Op.i32_and);
  }

  /** `i32.or` */
  i32Or(): this {
    return this.op(Op.i32_or);
  }

  /** `i32.lt_s` */
  i32LtS(): this {
    return this.op(Op.i32_lt_s);
  }

  /** `i32.ge_u` */
  i32GeU(): this {
    return this.op(Op.i32_ge_u);
  }

  /** `i32.div_u` */
  i32DivU(): this {
    return this.op(Op.i32_div_u);
  }

  /** `i32.rem_u` */
  i32RemU(): this {
    return this.op(Op.i32_rem_u);
  }

  /** `select`: of two values take the first when the i32 on top is non-zero. */
  select(): this {
    return this.op(Op.select);
  }

  // ---- scalar float -----------------------------------------------------------------------

  /** `f64.add` */
  f64Add(): this {
    return this.op(Op.f64_add);
  }

  /** `f64.mul` */
  f64Mul(): this {
    return this.op(Op.f64_mul);
  }

  /** `f64.sub` */
  f64Sub(): this {
    return this.op(Op.f64_sub);
  }

  /** `f32.mul` */
  f32Mul(): this {
    return this.op(Op.f32_mul);
  }

  /** `f64.promote_f32` */
  f64PromoteF32(): this {
    return this.op(Op.f64_promote_f32);
  }

  /** `i32.eqz` */
  i32Eqz(): this {
    return this.op(Op.i32_eqz);
  }

  // ---- memory -----------------------------------------------------------------------------

  /** `f32.load offset` (address on the stack). */
  f32Load(offset = 0): this {
    return this.mem(Op.f32_load, Align.b4, offset);
  }

  /** `f32.store offset` (address, value on the stack). */
  f32Store(offset = 0): this {
    return this.mem(Op.f32_store, Align.b4, offset);
  }

  /** `i32.load offset` */
  i32Load(offset = 0): this {
    return this.mem(Op.i32_load, Align.b4, offset);
  }

  /** `i32.store offset` (address, value on the stack). */
  i32Store(offset = 0): this {
    return this.mem(Op.i32_store, Align.b4, offset);
  }

  /** `f64.load offset` */
  f64Load(offset = 0): this {
    return this.mem(Op.f64_load, Align.b8, offset);
  }

  /** `f64.store offset` (address, value on the stack). */
  f64Store(offset = 0): this {
    return this.mem(Op.f64_store, Align.b8, offset);
  }

  /** `v128.load64_zero offset`: two floats into the low lanes, zeros above. */
  v128Load64Zero(offset = 0): this {
    return this.memSimd(SimdOp.v128_load64_zero, Align.b4, offset);
  }

  /** `v128.load32_zero offset`: one float into lane 0, zeros above. */
  v128Load32Zero(offset = 0): this {
    return this.memSimd(SimdOp.v128_load32_zero, Align.b4, offset);
  }

  /** `v128.store64_lane offset lane` (address, vector on the stack). */
  v128Store64Lane(offset: number, lane: number): this {
    this.memSimd(SimdOp.v128_store64_lane, Align.b4, offset);
    this.code.byte(lane);
    return this;
  }

  /** `v128.store32_lane offset lane` (address, vector on the stack). */
  v128Store32Lane(offset: number, lane: number): this {
    this.memSimd(SimdOp.v128_store32_lane, Align.b4, offset);
    this.code.byte(lane);
    return this;
  }

  /** `v128.load offset` */
  v128Load(offset = 0): this {
    return this.memSimd(SimdOp.v128_load, Align.b16, offset);
  }

  /** `v128.load32_splat offset`: loads one f32/i32 into all four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.memSimd(SimdOp.v128_load32_splat, Align.b4, offset);
  }

  /** `v128.store offset` (address, vector on the stack). */
  v128Store(offset = 0): this {
    return this.memSimd(SimdOp.v128_store, Align.b16, offset);
  }

  // ---- SIMD arithmetic --------------------------------------------------------------------

  /** `f32x4.add` */
  f32x4Add(): this {
    return this.simd(SimdOp.f32x4_add);
  }

  /** `f32x4.mul` */
  f32x4Mul(): this {
    return this.simd(SimdOp.f32x4_mul);
  }

  /** `f32x4.splat` */
  f32x4Splat(): this {
    return this.simd(SimdOp.f32x4_splat);
  }

  /** `f32x4.extract_lane lane` */
  f32x4ExtractLane(lane: number): this {
    this.simd(SimdOp.f32x4_extract_lane);
    this.code.byte(lane);
    return this;
  }

  /** `f64x2.extract_lane lane` */
  f64x2ExtractLane(lane: number): this {
    this.simd(SimdOp.f64x2_extract_lane);
    this.code.byte(lane);
    return this;
  }

  /** `i8x16.shuffle` with 16 lane indices (0..31 select from the two operands). */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new RangeError(`wasm: i8x16.shuffle needs 16 lanes (got ${lanes.length})`);
    this.simd(SimdOp.i8x16_shuffle);
    this.code.raw(lanes);
    return this;
  }

  // ---- control ----------------------------------------------------------------------------

  /** `block ... end`; branching to the label jumps past the end. */
  block(body: (label: Label) => void): this {
    return this.structured(Op.block, body);
  }

  /** `loop ... end`; branching to the label jumps back to the start. */
  loop(body: (label: Label) => void): this {
    return this.structured(Op.loop, body);
  }

  /** `if ... (else ...) end` on the i32 condition on the stack. */
  if(then: (label: Label) => void, otherwise?: (label: Label) => void): this {
    const label: Label = { level: this.depth };
    this.code.byte(Op.if).byte(BLOCK_VOID);
    this.depth++;
    then(label);
    if (otherwise) {
      this.code.byte(Op.else);
      otherwise(label);
    }
    this.depth--;
    this.code.byte(Op.end);
    return this;
  }

  /** `br label` */
  br(label: Label): this {
    this.code.byte(Op.br).u32(this.relativeDepth(label));
    return this;
  }

  /** `br_if label` (branches when the i32 on the stack is non-zero). */
  brIf(label: Label): this {
    this.code.byte(Op.br_if).u32(this.relativeDepth(label));
    return this;
  }

  /** `call fn` (a function index returned by `ModuleBuilder.addFunction`). */
  call(fn: number): this {
    this.code.byte(Op.call).u32(fn);
    return this;
  }

  /** `return` */
  return(): this {
    return this.op(Op.return);
  }

  // ---- output -----------------------------------------------------------------------------

  /**
   * The encoded body (locals vector, instructions, final `end`), as the code section wants it.
   *
   * @throws {Error} `internal:` when a block is still open.
   */
  encode(): Uint8Array {
    if (this.depth !== 0) throw new Error(`internal: wasm function has ${this.depth} unclosed block(s)`);
    const out = new ByteWriter();
    // Run-length encode consecutive locals of the same type.
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    out.u32(groups.length);
    for (const [count, type] of groups) out.u32(count).byte(type);
    out.raw(this.code.bytes()).byte(Op.end);
    return out.bytes();
  }

  private structured(opcode: number, body: (label: Label) => void): this {
    const label: Label = { level: this.depth };
    this.code.byte(opcode).byte(BLOCK_VOID);
    this.depth++;
    body(label);
    this.depth--;
    this.code.byte(Op.end);
    return this;
  }

  private relativeDepth(label: Label): number {
    if (label.level >= this.depth) throw new Error("internal: wasm branch to a label that is not open");
    return this.depth - 1 - label.level;
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
