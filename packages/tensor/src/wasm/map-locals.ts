/**
 * @file The locals of an emitted map kernel (see `map-program.ts`): per slot its vector, float64
 * halves, masks and scalar forms, and the pushers that read a slot in a given form.
 */
import type { MapKernel } from "../map/compile.js";
import type { FunctionBuilder } from "./function-builder.js";
import type { LocalIndex } from "./function-body.js";
import { ValType } from "./opcodes.js";
import { Mode, type MapPlan } from "./map-plan.js";

const { i32, f32, f64, v128 } = ValType;

/**
 * The locals of one emitted map-kernel function, and how each slot's value is pushed in each form
 * (constants in place as `v128.const`/`f64.const`, so no register holds them across the loop).
 *
 * @throws never (construction only declares locals).
 * @example
 * ```ts
 * const L = new ProgramLocals(f, kernel, planMap(kernel));
 * L.vec(f, slot); // push the slot as an f32x4 vector
 * ```
 */
export class ProgramLocals {
  /** Per uniform slot: f64 value, f64x2 splat, f32x4 splat (rounded), mask splat, i32 condition. */
  readonly uS: LocalIndex[] = [];
  readonly uV: LocalIndex[] = [];
  readonly uF: LocalIndex[] = [];
  readonly uM: LocalIndex[] = [];
  readonly uC: LocalIndex[] = [];
  /** Per element slot: vector, halves, masks, scalar value and scalar condition. */
  readonly vecL: LocalIndex[] = [];
  readonly lo: LocalIndex[] = [];
  readonly hi: LocalIndex[] = [];
  readonly m32L: LocalIndex[] = [];
  readonly mlo: LocalIndex[] = [];
  readonly mhi: LocalIndex[] = [];
  readonly sc: LocalIndex[] = [];
  readonly cnd: LocalIndex[] = [];
  /** Temporaries of scalbn. */
  readonly t: LocalIndex[];
  readonly ti: LocalIndex[];
  /** A float64 temporary (exp2i). */
  readonly td: LocalIndex;

  constructor(f: FunctionBuilder, readonly k: MapKernel, readonly p: MapPlan) {
    for (let s = 0; s < k.numSlots; s++) {
      if (p.uniform[s]) {
        this.uS[s] = f.local(f64);
        this.uV[s] = f.local(v128);
        this.uF[s] = f.local(v128);
        this.uM[s] = f.local(v128);
        this.uC[s] = f.local(i32);
      } else {
        this.vecL[s] = f.local(v128);
        this.lo[s] = f.local(v128);
        this.hi[s] = f.local(v128);
        this.m32L[s] = f.local(v128);
        this.mlo[s] = f.local(v128);
        this.mhi[s] = f.local(v128);
        this.sc[s] = f.local(f64);
        this.cnd[s] = f.local(i32);
      }
    }
    this.t = [f.local(v128), f.local(v128), f.local(v128)];
    this.ti = [f.local(i32), f.local(i32), f.local(f32)];
    this.td = f.local(f64);
  }

  /** The slot whose locals hold `s` (through aliases). */
  res(s: number): number {
    while (this.p.mode[s] === Mode.alias) s = this.p.via[s]!;
    return s;
  }
  /** The value of constant slot `s`, or undefined for other slots. */
  private constOf(s: number): number | undefined {
    const k = this.k;
    return s >= k.numScalars && s < k.numScalars + k.consts.length ? k.consts[s - k.numScalars]! : undefined;
  }
  // Pushers: constants are emitted in place (v128.const), so no register holds them across the
  // loop; everything else is a local.
  /** Pushes `s` as an f32x4 vector (a uniform: its float32 rounding). */
  vec(f: FunctionBuilder, s: number): void {
    s = this.res(s);
    const c = this.constOf(s);
    if (c !== undefined) f.f32x4Const(Math.fround(c));
    else f.get(this.p.uniform[s] ? this.uF[s]! : this.vecL[s]!);
  }
  /** Pushes half `h` of `s` as f64x2. */
  half(f: FunctionBuilder, s: number, h: 0 | 1): void {
    s = this.res(s);
    const c = this.constOf(s);
    if (c !== undefined) f.f64x2Const(c);
    else f.get(this.p.uniform[s] ? this.uV[s]! : (h ? this.hi : this.lo)[s]!);
  }
  /** Pushes condition `s` as an i32x4 mask. */
  m32(f: FunctionBuilder, s: number): void { f.get(this.p.uniform[s] ? this.uM[s]! : this.m32L[s]!); }
  /** Pushes half `h` of condition `s` as an i64x2 mask. */
  m64(f: FunctionBuilder, s: number, h: 0 | 1): void { f.get(this.p.uniform[s] ? this.uM[s]! : (h ? this.mhi : this.mlo)[s]!); }
  /** Pushes `s` as an f64 scalar. */
  val(f: FunctionBuilder, s: number): void {
    s = this.res(s);
    const c = this.constOf(s);
    if (c !== undefined) f.f64Const(c);
    else f.get(this.p.uniform[s] ? this.uS[s]! : this.sc[s]!);
  }
  /** Pushes condition `s` as an i32 (0 or 1). */
  cond(f: FunctionBuilder, s: number): void { f.get(this.p.uniform[s] ? this.uC[s]! : this.cnd[s]!); }
}

