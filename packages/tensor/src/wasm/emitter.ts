/**
 * @file A small WebAssembly module builder: type, import (one memory), function, export and code
 * sections. Kernels are written in TypeScript against {@link FunctionBuilder} and turned into
 * module bytes at run time, so the package ships no `.wasm` file and needs no compiler toolchain.
 *
 * Only what tapegrad's kernels need is supported: functions (no imported functions, tables,
 * globals or data segments) and a single imported linear memory, optionally shared.
 */
import { ByteWriter } from "./encoding.js";
import { FunctionBuilder } from "./function-builder.js";
import { ExternalKind, Section, type ValType } from "./opcodes.js";

/** Limits of the imported memory, in 64 KiB pages. */
export interface MemoryLimits {
  /** Minimum size in pages. */
  readonly initial: number;
  /** Maximum size in pages (required when `shared`). */
  readonly maximum?: number;
  /** A shared memory (threads): backed by a `SharedArrayBuffer`. */
  readonly shared?: boolean;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const VERSION = [0x01, 0x00, 0x00, 0x00];

/**
 * Collects functions and emits a binary module.
 *
 * @throws never when constructed; see `importMemory`, `addFunction` and `finish`.
 * @example
 * ```ts
 * const mod = new ModuleBuilder();
 * mod.importMemory("env", "memory", { initial: 1 });
 * mod.addFunction([ValType.i32], [ValType.f32], (f) => { f.get(0).f32Load(); }, "peek");
 * const bytes = mod.finish();
 * const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
 * ```
 */
export class ModuleBuilder {
  private memory: { module: string; name: string; limits: MemoryLimits } | undefined;
  private readonly types: string[] = [];
  private readonly typeSigs: [readonly ValType[], readonly ValType[]][] = [];
  private readonly functions: { type: number; body: FunctionBuilder }[] = [];
  private readonly exports: { name: string; kind: number; index: number }[] = [];

  /**
   * Imports the module's linear memory as `module.name`.
   *
   * @throws {Error} when a memory was already imported, or when a shared memory has no maximum.
   * @example
   * ```ts
   * new ModuleBuilder().importMemory("env", "memory", { initial: 1, maximum: 16384, shared: true });
   * ```
   */
  importMemory(module: string, name: string, limits: MemoryLimits): this {
    if (this.memory) throw new Error("wasm: ModuleBuilder supports a single memory");
    if (limits.shared && limits.maximum === undefined) throw new Error("wasm: a shared memory needs a maximum size");
    this.memory = { module, name, limits };
    return this;
  }

  /**
   * Adds a function whose body is emitted by `build`, optionally exported as `exportName`;
   * returns its function index (for `call`).
   *
   * @throws {Error} whatever `build` throws (e.g. `internal:` for an unclosed block).
   * @example
   * ```ts
   * const id = mod.addFunction([], [ValType.i32], (f) => { f.i32Const(42); }, "answer");
   * ```
   */
  addFunction(params: readonly ValType[], results: readonly ValType[], build: (f: FunctionBuilder) => void, exportName?: string): number {
    const body = new FunctionBuilder(params, results);
    build(body);
    const index = this.functions.length;
    this.functions.push({ type: this.typeIndex(params, results), body });
    if (exportName !== undefined) this.exports.push({ name: exportName, kind: ExternalKind.function, index });
    return index;
  }

  /**
   * Emits the binary module.
   *
   * @throws {Error} `internal:` when a function body has an unclosed block.
   * @example
   * ```ts
   * const ok = WebAssembly.validate(mod.finish());
   * ```
   */
  finish(): Uint8Array<ArrayBuffer> {
    const out = new ByteWriter().raw(MAGIC).raw(VERSION);

    const types = new ByteWriter().u32(this.typeSigs.length);
    for (const [params, results] of this.typeSigs) {
      types.byte(0x60).u32(params.length).raw(params).u32(results.length).raw(results);
    }
    out.byte(Section.type).sized(types);

    if (this.memory) {
      const { module, name, limits } = this.memory;
      const imports = new ByteWriter().u32(1).name(module).name(name).byte(ExternalKind.memory);
      const flags = (limits.maximum !== undefined ? 1 : 0) | (limits.shared ? 2 : 0);
      imports.byte(flags).u32(limits.initial);
      if (limits.maximum !== undefined) imports.u32(limits.maximum);
      out.byte(Section.import).sized(imports);
    }

    const funcs = new ByteWriter().u32(this.functions.length);
    for (const f of this.functions) funcs.u32(f.type);
    out.byte(Section.function).sized(funcs);

    const exports = new ByteWriter().u32(this.exports.length);
    for (const e of this.exports) exports.name(e.name).byte(e.kind).u32(e.index);
    out.byte(Section.export).sized(exports);

    const code = new ByteWriter().u32(this.functions.length);
    for (const f of this.functions) {
      const body = f.body.encode();
      code.u32(body.length).raw(body);
    }
    out.byte(Section.code).sized(code);
    return new Uint8Array(out.bytes());
  }

  private typeIndex(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(",")}->${results.join(",")}`;
    let i = this.types.indexOf(key);
    if (i < 0) {
      i = this.types.length;
      this.types.push(key);
      this.typeSigs.push([params, results]);
    }
    return i;
  }
}
