/**
 * @file The frame of one WebAssembly function body, which `FunctionBuilder` (in
 * `function-builder.ts`) extends with named instructions: the parameter and result types, the
 * locals, raw opcodes, structured control flow with {@link Label}s, and the encoding of the whole.
 *
 * Structured control flow takes callbacks, so nesting in TypeScript mirrors nesting in the
 * module, and branches name their target with a {@link Label} instead of a relative depth (the
 * body computes the depth). Instructions are not type-checked here: the engine validates the
 * finished module (`WebAssembly.validate`/`compile` report the function and byte offset).
 */
import { ByteWriter } from "./encoding.js";
import { BLOCK_VOID, MISC_PREFIX, Op, SIMD_PREFIX, ValType } from "./opcodes.js";

/** A branch target: the block, loop or if it was created for. */
export interface Label {
  /** Nesting level at which the construct was opened (0 = function body). */
  readonly level: number;
}

/** Index of a parameter or local. */
export type LocalIndex = number;

/**
 * The frame of a function body: locals, raw opcodes, control flow and encoding. Kernels use its
 * subclass `FunctionBuilder` (see `function-builder.ts`), from `ModuleBuilder.addFunction`.
 *
 * @throws never when constructed; each method states what it throws (branches to labels that are
 * not open, a block still open when encoding).
 * @example
 * ```ts
 * // (param i32) (result i32): the parameter, or 1 where it is 0
 * mod.addFunction([ValType.i32], [ValType.i32], (f) => {
 *   f.block((done) => {
 *     f.get(0).brIf(done);
 *     f.i32Const(1).set(0);
 *   });
 *   f.get(0);
 * }, "orOne");
 * ```
 */
export class FunctionBody {
  /** Parameter types; parameters are locals `0..params.length-1`. */
  readonly params: readonly ValType[];
  /** Result types. */
  readonly results: readonly ValType[];
  private readonly locals: ValType[] = [];
  protected readonly code = new ByteWriter();
  private depth = 0;

  constructor(params: readonly ValType[], results: readonly ValType[]) {
    this.params = params;
    this.results = results;
  }

  /** Declares a new local of `type` (zero-initialised); returns its index. @throws never. @example `const i = f.local(ValType.i32); // the first local after the parameters` */
  local(type: ValType): LocalIndex {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  // ---- generic escape hatches -------------------------------------------------------------

  /** Emits a single-byte opcode from {@link Op} with no immediates. @throws {RangeError} for a code outside 0..255. @example `f.op(Op.drop)` */
  op(code: number): this {
    this.code.byte(code);
    return this;
  }

  /** Emits a SIMD opcode from {@link SimdOp} with no immediates. @throws {RangeError} for a code outside 0..2³²−1. @example `f.get(v).simd(SimdOp.f32x4_sqrt)` */
  simd(code: number): this {
    this.code.byte(SIMD_PREFIX).u32(code);
    return this;
  }

  /** Emits a miscellaneous (0xfc-prefixed) opcode from {@link MiscOp}. @throws {RangeError} for a code outside 0..2³²−1. @example `f.get(x).misc(MiscOp.i32_trunc_sat_f32_s)` */
  misc(code: number): this {
    this.code.byte(MISC_PREFIX).u32(code);
    return this;
  }

  // ---- control ----------------------------------------------------------------------------

  /** `block ... end`; branching to the label jumps past the end. @throws whatever `body` throws. @example `f.block((done) => { f.get(n).i32Eqz().brIf(done); … })` */
  block(body: (label: Label) => void): this {
    return this.structured(Op.block, body);
  }

  /** `loop ... end`; branching to the label jumps back to the start. @throws whatever `body` throws. @example `f.loop((top) => { … f.get(p).get(end).i32LtU().brIf(top); })` */
  loop(body: (label: Label) => void): this {
    return this.structured(Op.loop, body);
  }

  /** `if ... (else ...) end` on the i32 condition on the stack. @throws whatever `then` or `otherwise` throws. @example `f.get(first).if(() => void f.i32Const(0).set(acc), () => void f.get(x).set(acc))` */
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

  /** `br label` @throws {Error} `internal:` when `label` is not open at this point. @example `f.loop((top) => { … f.br(top); })` */
  br(label: Label): this {
    this.code.byte(Op.br).u32(this.relativeDepth(label));
    return this;
  }

  /** `br_if label` (branches when the i32 on the stack is non-zero). @throws {Error} `internal:` when `label` is not open at this point. @example `f.get(p).get(end).i32LtU().brIf(top)` */
  brIf(label: Label): this {
    this.code.byte(Op.br_if).u32(this.relativeDepth(label));
    return this;
  }

  /** `call fn` (a function index returned by `ModuleBuilder.addFunction`). @throws {RangeError} for a function index that is not an integer in 0..2³²−1. @example `f.get(pa).get(pb).get(pc).call(gemmBlock)` */
  call(fn: number): this {
    this.code.byte(Op.call).u32(fn);
    return this;
  }

  /** `return` @throws never. @example `f.get(item).i32Const(0).i32LtS().if(() => void f.get(count).return())` */
  return(): this {
    return this.op(Op.return);
  }

  // ---- output -----------------------------------------------------------------------------

  /**
   * The encoded body (locals vector, instructions, final `end`), as the code section wants it.
   *
   * @throws {Error} `internal:` when a block is still open.
   * @example
   * ```ts
   * const body = f.encode(); // what ModuleBuilder.finish writes into the code section
   * ```
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
}
