/**
 * @file Emits `gemm_job(desc, phase, item, tid) → i32`: the GEMM as work items that any thread
 * may take, driven by one descriptor in wasm memory. The calling thread and every worker run
 * this same function, and an item computes the same values whoever runs it, so a product computed
 * on 1 or on N threads is identical bit for bit.
 *
 * Phases (see `gemm.ts` for the JS side, `threads/protocol.ts` for how items are dealt out):
 * - C is cut into N blocks of `nb` columns; for block `q = q0 + p`, phase `2p` packs its B panel
 *   (all of K, in `kc`-deep K panels of 8-column micro-panels): one item per K panel and group of
 *   `packGroup` micro-panels (`q0` is 0 unless the blocks are run as several jobs);
 * - phase `2p + 1` computes it: item `i` owns rows `i·rowsPerItem ..` of C; per K panel it packs
 *   its A rows into thread `tid`'s buffer and runs the `gemm_block` macro-kernel over the panel.
 * Every item of a phase completes before any item of the next starts.
 * `item = −1` asks for the number of items of `phase` (any other call returns 0).
 *
 * C is either a padded scratch area (`cDirect = 0`: full tiles everywhere) or C itself
 * (`cDirect = 1`, operands resident in wasm memory): then full tiles go straight to C, the last
 * partial column panel to a "right strip" (`m × 8`, indexed by the row of C) and the last
 * partial rows to a "bottom strip" (`4 × nPad`); the JS side copies the strips' valid parts.
 */
import type { ModuleBuilder } from "./emitter.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { Op, ValType } from "./opcodes.js";

/**
 * Word indices (i32) of a GEMM job descriptor. Addresses and strides are in bytes.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const d = desc >>> 2; // the descriptor's first word
 * arena.i32[d + GemmDesc.m] = m;
 * ```
 */
export const GemmDesc = {
  m: 0, n: 1, k: 2,
  /** A[i,p] at `aPtr + i·aLd + 4p` (aKind 0, rows contiguous) or `aPtr + p·aLd + 4i` (aKind 1). */
  aPtr: 3, aLd: 4, aKind: 5,
  /** B[p,j] at `bPtr + j·bLd + 4p` (bKind 0, columns contiguous) or `bPtr + p·bLd + 4j` (bKind 1, rows). */
  bPtr: 6, bLd: 7, bKind: 8,
  cPtr: 9, ldc: 10, cDirect: 11, accumulate: 12,
  /** Packed B panel; packed A buffers at `pa + tid·paStride`. */
  pb: 13, pa: 14, paStride: 15,
  right: 16, bottom: 17, bottomLd: 18,
  nb: 19, kc: 20, mc: 21, rowsPerItem: 22, packGroup: 23,
  /** The N block of phases 0 and 1 (a GEMM with many N blocks runs as several jobs on threads). */
  q0: 24,
} as const;

/**
 * Bytes per descriptor.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const packedB = base + GEMM_DESC_BYTES; // scratch after the descriptor
 * ```
 */
export const GEMM_DESC_BYTES = 128;

/** Indices of the functions `gemm_job` calls. */
export interface GemmJobCallees {
  readonly gemmBlock: number;
  readonly packCopy4: number;
  readonly packCopy8: number;
  readonly packTr4: number;
  readonly packTr8: number;
  readonly packEdge: number;
}

/**
 * Adds `gemm_job(desc, phase, item, tid) → i32` (and its two internal halves) to `mod`.
 *
 * @throws {Error} `internal:` if emitting fails.
 * @example
 * ```ts
 * const job = emitGemmJob(mod, { gemmBlock, packCopy4, packCopy8, packTr4, packTr8, packEdge });
 * ```
 */
export function emitGemmJob(mod: ModuleBuilder, fn: GemmJobCallees): number {
  const I = ValType.i32;
  const pack = mod.addFunction([I, I, I], [I], (f) => emitPack(f, fn));
  const compute = mod.addFunction([I, I, I, I], [I], (f) => emitCompute(f, fn));
  return mod.addFunction([I, I, I, I], [I], (f) => {
    const [desc, phase, item, tid] = [0, 1, 2, 3];
    // N block q = q0 + ⌊phase / 2⌋
    const q = () => void f.get(phase).i32Const(1).op(Op.i32_shr_u).get(desc).i32Load(4 * GemmDesc.q0).i32Add();
    f.get(phase).i32Const(1).i32And().if(
      () => void (f.get(desc), q(), f.get(item).get(tid).call(compute).return()),
      () => void (f.get(desc), q(), f.get(item).call(pack).return()),
    );
    f.i32Const(0);
  }, "gemm_job");
}

/** Pushes descriptor word `w`. */
function load(f: FunctionBuilder, desc: LocalIndex, w: number): FunctionBuilder {
  return f.get(desc).i32Load(4 * w);
}

/** `x ← min(a, b)` (unsigned). */
function minU(f: FunctionBuilder, a: () => void, b: () => void, x: LocalIndex): void {
  a();
  b();
  a();
  b();
  f.i32LtU().select().set(x);
}

/** Locals describing N block `q`: first column, width, padded width, packed-B buffer, K panels. */
interface Block {
  j0: LocalIndex;
  nbw: LocalIndex;
  nbPad: LocalIndex;
  pbq: LocalIndex;
  kPanels: LocalIndex;
  k: LocalIndex;
  kc: LocalIndex;
}

function blockLocals(f: FunctionBuilder, desc: LocalIndex, q: LocalIndex): Block {
  const I = ValType.i32;
  const b: Block = { j0: f.local(I), nbw: f.local(I), nbPad: f.local(I), pbq: f.local(I), kPanels: f.local(I), k: f.local(I), kc: f.local(I) };
  load(f, desc, GemmDesc.k).set(b.k);
  load(f, desc, GemmDesc.kc).set(b.kc);
  f.get(q);
  load(f, desc, GemmDesc.nb).i32Mul().set(b.j0);
  minU(f, () => load(f, desc, GemmDesc.nb), () => void load(f, desc, GemmDesc.n).get(b.j0).i32Sub(), b.nbw);
  f.get(b.nbw).i32Const(7).i32Add().i32Const(-8).i32And().set(b.nbPad);
  load(f, desc, GemmDesc.pb).set(b.pbq);
  f.get(b.k).get(b.kc).i32Add().i32Const(1).i32Sub().get(b.kc).i32DivU().set(b.kPanels);
  return b;
}

/**
 * Loads an operand's pointer, its non-unit stride `ld` and kind, and derives the byte strides
 * `sOuter` (per row of A / column of B) and `sP` (per k step): `kind ? (4, ld) : (ld, 4)`. Kind 0
 * ("outer-major") packs by transposing, kind 1 ("k-major") by copying.
 */
function operandLocals(f: FunctionBuilder, desc: LocalIndex, ptrW: number, ldW: number, kindW: number): { ptr: LocalIndex; ld: LocalIndex; kind: LocalIndex; sOuter: LocalIndex; sP: LocalIndex } {
  const I = ValType.i32;
  const o = { ptr: f.local(I), ld: f.local(I), kind: f.local(I), sOuter: f.local(I), sP: f.local(I) };
  load(f, desc, ptrW).set(o.ptr);
  load(f, desc, ldW).set(o.ld);
  load(f, desc, kindW).set(o.kind);
  f.i32Const(4).get(o.ld).get(o.kind).select().set(o.sOuter);
  f.get(o.ld).i32Const(4).get(o.kind).select().set(o.sP);
  return o;
}

/** Packs item `item` of block `q` (a K panel × a group of micro-panels); `item < 0`: the count. */
function emitPack(f: FunctionBuilder, fn: GemmJobCallees): void {
  const I = ValType.i32;
  const [desc, q, item] = [0, 1, 2];
  const b = blockLocals(f, desc, q);
  const B = operandLocals(f, desc, GemmDesc.bPtr, GemmDesc.bLd, GemmDesc.bKind);
  const cols = f.local(I), groups = f.local(I), group = f.local(I), kp = f.local(I), cp = f.local(I), cpEnd = f.local(I);
  const p0 = f.local(I), depth = f.local(I), dst = f.local(I), live = f.local(I), src = f.local(I);
  f.get(b.nbPad).i32Const(3).op(Op.i32_shr_u).set(cols);
  load(f, desc, GemmDesc.packGroup).set(group);
  f.get(cols).get(group).i32Add().i32Const(1).i32Sub().get(group).i32DivU().set(groups);
  f.get(item).i32Const(0).i32LtS().if(() => void f.get(b.kPanels).get(groups).i32Mul().return());
  f.get(item).get(groups).i32DivU().set(kp);
  f.get(item).get(kp).get(groups).i32Mul().i32Sub().get(group).i32Mul().set(cp);
  minU(f, () => void f.get(cols), () => void f.get(cp).get(group).i32Add(), cpEnd);
  f.get(kp).get(b.kc).i32Mul().set(p0);
  minU(f, () => void f.get(b.kc), () => void f.get(b.k).get(p0).i32Sub(), depth);
  f.loop((next) => {
    // dst = pb + (kp·kc·nbPad + cp·8·depth)·4
    f.get(b.pbq).get(kp).get(b.kc).i32Mul().get(b.nbPad).i32Mul();
    f.get(cp).get(depth).i32Mul().i32Const(3).i32Shl().i32Add().i32Const(2).i32Shl().i32Add().set(dst);
    // src = &B[p0, j0 + 8cp]
    f.get(B.ptr).get(b.j0).get(cp).i32Const(3).i32Shl().i32Add().get(B.sOuter).i32Mul().i32Add();
    f.get(p0).get(B.sP).i32Mul().i32Add().set(src);
    f.get(b.nbw).get(cp).i32Const(3).i32Shl().i32Sub().set(live);
    f.get(live).i32Const(8).i32GeU().if(
      () => {
        // (a block cannot take operands from outside, so each branch pushes its own)
        const args = () => void f.get(src).get(B.ld).i32Const(1).get(depth).get(dst);
        f.get(B.kind).if(() => void (args(), f.call(fn.packCopy8)), () => void (args(), f.call(fn.packTr8)));
      },
      () => void f.get(src).get(B.sOuter).get(B.sP).get(live).i32Const(8).get(depth).get(dst).call(fn.packEdge),
    );
    f.get(cp).i32Const(1).i32Add().tee(cp).get(cpEnd).i32LtU().brIf(next);
  });
  f.i32Const(0);
}

/** Computes item `item` (a range of rows of C) of block `q` on thread `tid`; `item < 0`: the count. */
function emitCompute(f: FunctionBuilder, fn: GemmJobCallees): void {
  const I = ValType.i32;
  const [desc, q, item, tid] = [0, 1, 2, 3];
  const rowStart = f.local(I), per = f.local(I);
  load(f, desc, GemmDesc.rowsPerItem).set(per);
  f.get(item).i32Const(0).i32LtS().if(() => void load(f, desc, GemmDesc.m).get(per).i32Add().i32Const(1).i32Sub().get(per).i32DivU().return());
  const b = blockLocals(f, desc, q);
  const A = operandLocals(f, desc, GemmDesc.aPtr, GemmDesc.aLd, GemmDesc.aKind);
  const nFull = f.local(I), kp = f.local(I), p0 = f.local(I), depth = f.local(I), first = f.local(I), bAt = f.local(I);
  const ic = f.local(I), rowEnd = f.local(I), rows = f.local(I), full = f.local(I), src = f.local(I);
  const pa = f.local(I), mc = f.local(I), cPtr = f.local(I), ldc = f.local(I), cDirect = f.local(I), cAt = f.local(I);
  load(f, desc, GemmDesc.pa).get(tid);
  load(f, desc, GemmDesc.paStride).i32Mul().i32Add().set(pa);
  load(f, desc, GemmDesc.mc).set(mc);
  f.get(item).get(per).i32Mul().set(rowStart);
  minU(f, () => load(f, desc, GemmDesc.m), () => void f.get(rowStart).get(per).i32Add(), rowEnd);
  load(f, desc, GemmDesc.cPtr).set(cPtr);
  load(f, desc, GemmDesc.ldc).set(ldc);
  load(f, desc, GemmDesc.cDirect).set(cDirect);
  f.get(b.nbw).i32Const(-8).i32And().set(nFull);
  const blockCall = (pA: () => void, pB: () => void, pC: () => void, m: () => void, n: () => void, ld: () => void) => {
    pA();
    pB();
    pC();
    m();
    n();
    f.get(depth);
    ld();
    f.get(first).call(fn.gemmBlock);
  };
  f.loop((kLoop) => {
    f.get(kp).get(b.kc).i32Mul().set(p0);
    minU(f, () => void f.get(b.kc), () => void f.get(b.k).get(p0).i32Sub(), depth);
    f.get(kp).i32Eqz();
    load(f, desc, GemmDesc.accumulate).i32Eqz().i32And().set(first);
    f.get(b.pbq).get(kp).get(b.kc).i32Mul().get(b.nbPad).i32Mul().i32Const(2).i32Shl().i32Add().set(bAt);
    f.get(rowStart).set(ic);
    f.block((rowsDone) => {
      f.loop((icLoop) => {
        f.get(ic).get(rowEnd).i32LtU().i32Eqz().brIf(rowsDone);
        minU(f, () => void f.get(mc), () => void f.get(rowEnd).get(ic).i32Sub(), rows);
        f.get(rows).i32Const(-4).i32And().set(full);
        // Pack A rows ic.. (full panels with SIMD, a partial one with pack_edge) at depth p0..
        f.get(A.ptr).get(ic).get(A.sOuter).i32Mul().i32Add().get(p0).get(A.sP).i32Mul().i32Add().set(src);
        f.get(full).if(() => {
          const args = () => void f.get(src).get(A.ld).get(full).i32Const(2).op(Op.i32_shr_u).get(depth).get(pa);
          f.get(A.kind).if(() => void (args(), f.call(fn.packCopy4)), () => void (args(), f.call(fn.packTr4)));
        });
        f.get(rows).get(full).i32Ne().if(() => {
          f.get(src).get(full).get(A.sOuter).i32Mul().i32Add();
          f.get(A.sOuter).get(A.sP).get(rows).get(full).i32Sub().i32Const(4).get(depth);
          f.get(pa).get(full).get(depth).i32Mul().i32Const(2).i32Shl().i32Add().call(fn.packEdge);
        });
        f.get(cPtr).get(ic).get(ldc).i32Mul().i32Add().get(b.j0).i32Const(2).i32Shl().i32Add().set(cAt);
        f.get(cDirect).if(
          () => {
            f.get(full).if(() => {
              f.get(nFull).if(() =>
                blockCall(() => void f.get(pa), () => void f.get(bAt), () => void f.get(cAt), () => void f.get(full), () => void f.get(nFull), () => void f.get(ldc)),
              );
              f.get(nFull).get(b.nbw).i32Ne().if(() =>
                blockCall(
                  () => void f.get(pa),
                  () => void f.get(bAt).get(nFull).get(depth).i32Mul().i32Const(2).i32Shl().i32Add(),
                  () => void load(f, desc, GemmDesc.right).get(ic).i32Const(5).i32Shl().i32Add(),
                  () => void f.get(full),
                  () => void f.i32Const(8),
                  () => void f.i32Const(32),
                ),
              );
            });
            f.get(rows).get(full).i32Ne().if(() =>
              blockCall(
                () => void f.get(pa).get(full).get(depth).i32Mul().i32Const(2).i32Shl().i32Add(),
                () => void f.get(bAt),
                () => void load(f, desc, GemmDesc.bottom).get(b.j0).i32Const(2).i32Shl().i32Add(),
                () => void f.i32Const(4),
                () => void f.get(b.nbPad),
                () => void load(f, desc, GemmDesc.bottomLd),
              ),
            );
          },
          () =>
            blockCall(
              () => void f.get(pa),
              () => void f.get(bAt),
              () => void f.get(cAt),
              () => void f.get(rows).i32Const(3).i32Add().i32Const(-4).i32And(),
              () => void f.get(b.nbPad),
              () => void f.get(ldc),
            ),
        );
        f.get(ic).get(mc).i32Add().set(ic);
        f.br(icLoop);
      });
    });
    f.get(kp).i32Const(1).i32Add().tee(kp).get(b.kPanels).i32LtU().brIf(kLoop);
  });
  f.i32Const(0);
}
