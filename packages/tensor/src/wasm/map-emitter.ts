/**
 * @file WebAssembly code for map kernels (see `map/expr.ts`): one small module per kernel and
 * operand layout, compiled on first use for the memory its arrays live in and cached.
 *
 * A module runs a 2-D block: `run(ptr0…ptrK, n, m, s0…sK, r0…rK, scalars…)` computes `m` rows of
 * `n` elements; operand `j`'s row `r` starts at byte `ptrj + 4·r·rj`, its elements are `sj`
 * floats apart. The layout is compiled in: each operand's stride class is `U` (unit stride:
 * vector loads and stores), `Z` (stride 0, a broadcast along the row: one splat per row) or `G`
 * (any other stride: four scalar loads per vector, four scalar stores). Four elements per SIMD
 * iteration (eight, unrolled, when no operand is `G`: two independent chains), then the last `n mod 4` elements in
 * scalar code; per-call values are computed once before the loop (see `map-plan.ts` and
 * `map-program.ts`). The all-`U` module also exports `job(desc, phase, item, tid) → i32`, which
 * runs piece `item` of a table (how the worker pool shares a large map; see {@link MapDesc}).
 */
import { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { Op, ValType } from "./opcodes.js";
import type { MapKernel } from "../map/compile.js";
import { sharedMaxPages } from "./runtime.js";
import type { WasmArena } from "./arena.js";
import { planMap } from "./map-plan.js";
import { ProgramLocals, emitScalar, emitVector, splatUniforms } from "./map-program.js";

const { i32, f64, v128 } = ValType;

/**
 * Byte offsets of a `job` descriptor: the number of pieces, the piece table (per piece `n` then
 * one pointer per array, i32 each) and the scalars (f64 from `scalars`).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * arena.i32[(desc + MapDesc.count) >>> 2] = pieces;
 * ```
 */
export const MapDesc = { count: 0, table: 4, scalars: 16 } as const;

/**
 * The module bytes of `kernel` for operand stride classes `classes` (one of `U`, `Z`, `G` per
 * array, see the file comment) and a memory that is `shared` or not.
 *
 * @throws {Error} `internal:` for a kernel with host calls (those are interpreted).
 * @example
 * ```ts
 * new WebAssembly.Module(mapModuleBytes(kernel, "UUU", true));
 * ```
 */
export function mapModuleBytes(kernel: MapKernel, classes: string, shared: boolean): Uint8Array<ArrayBuffer> {
  if (kernel.usesHost) throw new Error(`internal: map kernel ${kernel.name} calls host functions and cannot be compiled`);
  for (const [arr] of kernel.outputs) if (classes[arr] === "Z") throw new Error(`internal: map kernel ${kernel.name}: output ${arr} cannot be broadcast (layout ${classes})`);
  const mod = new ModuleBuilder();
  mod.importMemory("env", "memory", shared ? { initial: 1, maximum: sharedMaxPages(), shared: true } : { initial: 1 });
  const k = kernel.numArrays;
  const params = [...new Array<ValType>(3 * k + 2).fill(i32), ...new Array<ValType>(kernel.numScalars).fill(f64)];
  const run = mod.addFunction(params, [], (f) => emitRun(f, kernel, classes), "run");
  if (/^U*$/.test(classes)) {
    mod.addFunction([i32, i32, i32, i32], [i32], (f) => {
      const [desc, , item] = [0, 1, 2];
      const e = f.local(i32);
      f.get(item).i32Const(0).i32LtS().if(() => void f.get(desc).i32Load(MapDesc.count).return());
      f.get(desc).i32Load(MapDesc.table).get(item).i32Const(4 * (k + 1)).i32Mul().i32Add().set(e);
      for (let j = 0; j < k; j++) f.get(e).i32Load(4 * (j + 1));
      f.get(e).i32Load(0).i32Const(1);
      for (let j = 0; j < k; j++) f.i32Const(1);
      for (let j = 0; j < k; j++) f.i32Const(0);
      for (let s = 0; s < kernel.numScalars; s++) f.get(desc).f64Load(MapDesc.scalars + 8 * s);
      f.call(run).i32Const(0);
    }, "job");
  }
  return mod.finish();
}

/** Bytes a `U`/`G` pointer advances per vector step and per scalar step. */
function emitRun(f: FunctionBuilder, kernel: MapKernel, classes: string): void {
  const k = kernel.numArrays, nParam = k, mParam = k + 1;
  const sParam = (j: number) => k + 2 + j, rParam = (j: number) => 2 * k + 2 + j, scalarParam = (i: number) => 3 * k + 2 + i;
  const plan = planMap(kernel);
  const L = new ProgramLocals(f, kernel, plan);
  const ptr: LocalIndex[] = [], rowPtr: LocalIndex[] = [], rowStep: LocalIndex[] = [], zVec: LocalIndex[] = [];
  const sb: LocalIndex[][] = []; // G: byte strides 1·, 2·, 3·, 4·s
  for (let j = 0; j < k; j++) {
    ptr[j] = f.local(i32);
    rowPtr[j] = f.local(i32);
    rowStep[j] = f.local(i32);
    if (classes[j] === "Z") zVec[j] = f.local(v128);
    if (classes[j] === "G") sb[j] = [f.local(i32), f.local(i32), f.local(i32), f.local(i32)];
  }
  const count = f.local(i32);
  // Per-call values: scalars (rounded for f32Scalars kernels), constants, then instructions of those.
  for (let s = 0; s < kernel.numScalars; s++) {
    f.get(scalarParam(s));
    if (kernel.f32Scalars) f.op(Op.f32_demote_f64).f64PromoteF32();
    f.set(L.uS[s]!);
  }
  kernel.consts.forEach((c, i) => f.f64Const(c).set(L.uS[kernel.numScalars + i]!));
  for (const ins of kernel.instrs) if (plan.uniform[ins.dst]) emitScalar(f, L, ins, () => undefined);
  splatUniforms(f, L);
  for (let j = 0; j < k; j++) {
    f.get(j).set(rowPtr[j]!);
    f.get(rParam(j)).i32Const(2).i32Shl().set(rowStep[j]!);
    if (classes[j] === "G") {
      const [s1, s2, s3, s4] = sb[j]! as [number, number, number, number];
      f.get(sParam(j)).i32Const(2).i32Shl().tee(s1).i32Const(1).i32Shl().set(s2);
      f.get(s1).get(s2).i32Add().set(s3);
      f.get(s1).i32Const(2).i32Shl().set(s4);
    }
  }
  const unroll = classes.includes("G") ? 1 : 2;
  const vectorLoad = (u: number) => (j: number) => {
    if (classes[j] === "U") f.get(ptr[j]!).v128Load(16 * u);
    else if (classes[j] === "Z") f.get(zVec[j]!);
    else {
      const [s1, s2, s3] = sb[j]! as [number, number, number];
      f.get(ptr[j]!).f32Load(0).f32x4Splat();
      ([s1, s2, s3] as const).forEach((st, lane) => void f.get(ptr[j]!).get(st).i32Add().f32Load(0).f32x4ReplaceLane(lane + 1));
    }
  };
  const vectorBody = (u: number) => {
    for (const ins of kernel.instrs) emitVector(f, L, ins, vectorLoad(u));
    for (const [arr, s] of kernel.outputs) {
      if (classes[arr] === "U") {
        f.get(ptr[arr]!);
        L.vec(f, s);
        f.v128Store(16 * u);
      }
      else {
        const [s1, s2, s3] = sb[arr]! as [number, number, number];
        for (let lane = 0; lane < 4; lane++) {
          f.get(ptr[arr]!);
          if (lane > 0) f.get([s1, s2, s3][lane - 1]!).i32Add();
          L.vec(f, s);
          f.f32x4ExtractLane(lane).f32Store(0);
        }
      }
    }
  };
  const advance = (vector: boolean, times: number) => {
    for (let j = 0; j < k; j++) {
      if (classes[j] === "Z") continue;
      f.get(ptr[j]!);
      if (classes[j] === "U") f.i32Const((vector ? 16 : 4) * times).i32Add();
      else f.get(sb[j]![vector ? 3 : 0]!).i32Add();
      f.set(ptr[j]!);
    }
  };
  f.get(mParam).i32Eqz().if(() => f.return());
  f.loop((rows) => {
    for (let j = 0; j < k; j++) {
      f.get(rowPtr[j]!).set(ptr[j]!);
      if (classes[j] === "Z") f.get(ptr[j]!).v128Load32Splat(0).set(zVec[j]!);
    }
    if (unroll > 1) {
      f.get(nParam).i32Const(2 + Math.log2(unroll)).op(Op.i32_shr_u).set(count);
      f.block((done) => f.loop((next) => {
        f.get(count).i32Eqz().brIf(done);
        for (let u = 0; u < unroll; u++) vectorBody(u);
        advance(true, unroll);
        f.get(count).i32Const(1).i32Sub().set(count).br(next);
      }));
      // the remaining whole vectors, one at a time
      f.get(nParam).i32Const(2).op(Op.i32_shr_u).i32Const(unroll - 1).i32And().set(count);
      f.block((done) => f.loop((next) => {
        f.get(count).i32Eqz().brIf(done);
        vectorBody(0);
        advance(true, 1);
        f.get(count).i32Const(1).i32Sub().set(count).br(next);
      }));
    } else {
      f.get(nParam).i32Const(2).op(Op.i32_shr_u).set(count);
      f.block((done) => f.loop((next) => {
        f.get(count).i32Eqz().brIf(done);
        vectorBody(0);
        advance(true, 1);
        f.get(count).i32Const(1).i32Sub().set(count).br(next);
      }));
    }
    // Tail: the same program in scalar code.
    f.get(nParam).i32Const(3).i32And().set(count);
    f.block((done) => f.loop((next) => {
      f.get(count).i32Eqz().brIf(done);
      for (const ins of kernel.instrs) if (!plan.uniform[ins.dst]) emitScalar(f, L, ins, (j) => void f.get(ptr[j]!).f32Load(0));
      for (const [arr, s] of kernel.outputs) {
        f.get(ptr[arr]!);
        L.val(f, s);
        f.op(Op.f32_demote_f64).f32Store(0);
      }
      advance(false, 1);
      f.get(count).i32Const(1).i32Sub().set(count).br(next);
    }));
    for (let j = 0; j < k; j++) f.get(rowPtr[j]!).get(rowStep[j]!).i32Add().set(rowPtr[j]!);
    f.get(mParam).i32Const(1).i32Sub().tee(mParam).brIf(rows);
  });
}

/** A kernel compiled for one arena and layout. */
export interface MapModule {
  /** `run(ptr0, …, ptrK, n, m, s0, …, sK, r0, …, rK, scalars…)`. */
  readonly run: (...args: number[]) => void;
  /** For the all-unit-stride layout: `job(desc, phase, item, tid) → i32` over a piece table (see {@link MapDesc}). */
  readonly job: ((desc: number, phase: number, item: number, tid: number) => number) | undefined;
  /** For workers (shared memories, all-unit-stride layout): an id and where the module's bytes lie in the memory. */
  readonly extra: { readonly id: number; readonly ptr: number; readonly len: number } | undefined;
}

/** Compiled modules by kernel key, layout and memory kind; instances per arena. */
const modules = new Map<string, { module: WebAssembly.Module; bytes: Uint8Array<ArrayBuffer>; id: number }>();
const instances = new WeakMap<WasmArena, Map<string, MapModule>>();

/**
 * `kernel` for operand stride classes `classes`, instantiated over `arena`'s memory (compiled on
 * first use; in a shared memory the all-`U` module's bytes are also copied there once, for the
 * workers).
 *
 * @throws {RangeError} when the memory cannot grow for the bytes.
 * @example
 * ```ts
 * mapModule(arena, sgd, "UUU").run(p.byteOffset, g.byteOffset, b.byteOffset, n, 1, 1, 1, 1, 0, 0, 0, lr, mu);
 * ```
 */
export function mapModule(arena: WasmArena, kernel: MapKernel, classes: string): MapModule {
  let byKey = instances.get(arena);
  if (!byKey) instances.set(arena, (byKey = new Map()));
  const key = `${classes}|${kernel.key}`;
  let m = byKey.get(key);
  if (m) return m;
  const modKey = `${arena.shared ? "s" : "p"}|${key}`;
  let compiled = modules.get(modKey);
  if (!compiled) {
    const bytes = mapModuleBytes(kernel, classes, arena.shared);
    modules.set(modKey, (compiled = { module: new WebAssembly.Module(bytes), bytes, id: modules.size + 1 }));
  }
  const ex = new WebAssembly.Instance(compiled.module, { env: { memory: arena.memory } }).exports;
  let extra: MapModule["extra"];
  const job = ex.job as MapModule["job"];
  if (arena.shared && job) {
    const ptr = arena.alloc(compiled.bytes.length); // kept for good: a few hundred bytes per kernel
    new Uint8Array(arena.memory.buffer, ptr, compiled.bytes.length).set(compiled.bytes);
    extra = { id: compiled.id, ptr, len: compiled.bytes.length };
  }
  m = { run: ex.run as MapModule["run"], job, extra };
  byKey.set(key, m);
  return m;
}
