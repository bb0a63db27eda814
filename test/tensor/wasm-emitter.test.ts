/**
 * @file The WebAssembly emitter (LEB128, module sections, control flow, memory) and the emitted
 * packing and vector kernels, checked against plain JS on seeded data: `sumsq` against its JS twin
 * `sumsqJs` (the same bits, float64 accuracy, no overflow), `scale32`/`scale64` against `scaleJs`.
 */
import { describe, expect, it } from "vitest";
import { Rng, simdSupported } from "@tapegrad/tensor";
import { ByteWriter } from "../../packages/tensor/src/wasm/encoding.js";
import { ModuleBuilder } from "../../packages/tensor/src/wasm/emitter.js";
import { ValType } from "../../packages/tensor/src/wasm/opcodes.js";
import { kernelModuleBytes, simdProbeBytes } from "../../packages/tensor/src/wasm/module.js";
import { WasmArena } from "../../packages/tensor/src/wasm/arena.js";
import { SUMSQ_CHUNK, scaleJs, sumsqJs } from "../../packages/tensor/src/kernels/vector.js";

const { i32, f32 } = ValType;

function run(mod: ModuleBuilder, memory?: WebAssembly.Memory): Record<string, (...args: number[]) => number> {
  const imports: WebAssembly.Imports = memory ? { env: { memory } } : {};
  return new WebAssembly.Instance(new WebAssembly.Module(mod.finish()), imports).exports as never;
}

describe("ByteWriter", () => {
  it("encodes unsigned LEB128", () => {
    const enc = (n: number) => Array.from(new ByteWriter().u32(n).bytes());
    expect(enc(0)).toEqual([0]);
    expect(enc(127)).toEqual([0x7f]);
    expect(enc(128)).toEqual([0x80, 0x01]);
    expect(enc(300)).toEqual([0xac, 0x02]);
    expect(enc(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it("encodes signed LEB128", () => {
    const enc = (n: number) => Array.from(new ByteWriter().s32(n).bytes());
    expect(enc(0)).toEqual([0]);
    expect(enc(-1)).toEqual([0x7f]);
    expect(enc(63)).toEqual([0x3f]);
    expect(enc(64)).toEqual([0xc0, 0x00]);
    expect(enc(-64)).toEqual([0x40]);
    expect(enc(-65)).toEqual([0xbf, 0x7f]);
    expect(enc(-2147483648)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  it("rejects out-of-range values", () => {
    expect(() => new ByteWriter().u32(-1)).toThrow(RangeError);
    expect(() => new ByteWriter().u32(1.5)).toThrow(RangeError);
    expect(() => new ByteWriter().byte(256)).toThrow(RangeError);
  });
});

describe("ModuleBuilder", () => {
  it("builds a callable function and shares identical signatures", () => {
    const mod = new ModuleBuilder();
    mod.addFunction([i32, i32], [i32], (f) => void f.get(0).get(1).i32Add(), "add");
    mod.addFunction([i32, i32], [i32], (f) => void f.get(0).get(1).i32Mul(), "mul");
    const ex = run(mod);
    expect(ex.add!(2, 3)).toBe(5);
    expect(ex.mul!(-4, 3)).toBe(-12);
  });

  it("emits loops, blocks and branches to named labels", () => {
    // sum of 1..n with a counted loop; early exit for n <= 0
    const mod = new ModuleBuilder();
    mod.addFunction([i32], [i32], (f) => {
      const acc = f.local(i32);
      f.block((exit) => {
        f.get(0).i32Const(1).op(0x48 /* i32.lt_s */).brIf(exit);
        f.loop((again) => {
          f.get(acc).get(0).i32Add().set(acc);
          f.get(0).i32Const(-1).i32Add().tee(0).brIf(again);
        });
      });
      f.get(acc);
    }, "tri");
    const ex = run(mod);
    expect(ex.tri!(100)).toBe(5050);
    expect(ex.tri!(0)).toBe(0);
    expect(ex.tri!(-3)).toBe(0);
  });

  it("imports a memory and loads/stores through it", () => {
    const mod = new ModuleBuilder().importMemory("env", "memory", { initial: 1 });
    mod.addFunction([i32, f32], [], (f) => void f.get(0).get(0).f32Load().get(1).f32Mul().f32Store(), "scaleAt");
    const memory = new WebAssembly.Memory({ initial: 1 });
    new Float32Array(memory.buffer)[3] = 2.5;
    run(mod, memory).scaleAt!(12, 4);
    expect(new Float32Array(memory.buffer)[3]).toBe(10);
  });

  it("rejects a shared memory without a maximum and a branch to a closed label", () => {
    expect(() => new ModuleBuilder().importMemory("env", "memory", { initial: 1, shared: true })).toThrow(/maximum/);
    const mod = new ModuleBuilder();
    expect(() =>
      mod.addFunction([], [], (f) => {
        let outer: Parameters<Parameters<typeof f.block>[0]>[0] | undefined;
        f.block((l) => (outer = l));
        f.br(outer!);
      }),
    ).toThrow(/internal:/);
  });
});

describe.runIf(simdSupported())("emitted SIMD kernels", () => {
  it("the probe validates; the kernel module validates plain and shared, and stays small", () => {
    expect(WebAssembly.validate(simdProbeBytes())).toBe(true);
    // Chrome allows synchronous compilation of modules up to 8 MB on the main thread (it was
    // 4 KB for years: there initWasm() compiles asynchronously instead).
    expect(kernelModuleBytes().length).toBeLessThan(8192);
    expect(kernelModuleBytes({ gemm: { mr: 4, nr: 8, relaxedMadd: true } }).length).toBeLessThan(8192);
    expect(WebAssembly.validate(kernelModuleBytes({ shared: true, maximumPages: 256 }))).toBe(true);
  });

  const arena = WasmArena.create(new WebAssembly.Module(kernelModuleBytes()), new WebAssembly.Memory({ initial: 1 }));
  const ex = arena.exports;
  arena.growTo(1 << 21);
  const rng = new Rng(7);

  it.each([
    [4, 1, 1], [4, 3, 7], [8, 2, 4], [8, 5, 13], [4, 6, 256],
  ])("pack_copy%i and pack_tr%i match JS (panels %i, kc %i)", (w, panels, kc) => {
    const mem = arena.f32;
    const ld = panels * w + 3; // staging row stride, floats (deliberately not a multiple of 4 for copy)
    // copy: staged rows indexed by p
    for (let i = 0; i < kc * ld; i++) mem[i] = rng.normal();
    const dst = 1 << 17;
    (w === 4 ? ex.pack_copy4 : ex.pack_copy8)(0, ld * 4, panels, kc, dst * 4);
    for (let pn = 0; pn < panels; pn++)
      for (let p = 0; p < kc; p++)
        for (let j = 0; j < w; j++) expect(mem[dst + (pn * kc + p) * w + j]).toBe(mem[p * ld + pn * w + j]);
    // ld = 0 (a broadcast operand read in place): every step copies the same row
    (w === 4 ? ex.pack_copy4 : ex.pack_copy8)(0, 0, panels, kc, dst * 4);
    for (let pn = 0; pn < panels; pn++)
      for (let p = 0; p < kc; p++)
        for (let j = 0; j < w; j++) expect(mem[dst + (pn * kc + p) * w + j]).toBe(mem[pn * w + j]);
    // transpose: staged rows indexed by the panel's row
    const ldT = Math.ceil(kc / 4) * 4 + 4;
    for (let i = 0; i < panels * w * ldT; i++) mem[i] = rng.normal();
    (w === 4 ? ex.pack_tr4 : ex.pack_tr8)(0, ldT * 4, panels, kc, dst * 4);
    for (let pn = 0; pn < panels; pn++)
      for (let p = 0; p < kc; p++)
        for (let i = 0; i < w; i++) expect(mem[dst + (pn * kc + p) * w + i]).toBe(mem[(pn * w + i) * ldT + p]);
  });

  it.each([[1, 4, 1], [3, 8, 5], [7, 8, 3], [2, 4, 9]])("pack_edge: %i live of %i, kc %i, zero fill", (live, w, kc) => {
    const mem = arena.f32;
    const sI = 13, sP = 3; // arbitrary strides in floats
    for (let i = 0; i < 400; i++) mem[i] = rng.normal();
    const dst = 1 << 16;
    mem.fill(NaN, dst, dst + w * kc);
    ex.pack_edge(0, sI * 4, sP * 4, live, w, kc, dst * 4);
    for (let p = 0; p < kc; p++)
      for (let i = 0; i < w; i++) expect(mem[dst + p * w + i]).toBe(i < live ? mem[i * sI + p * sP] : 0);
  });

  /** Seeded normals with NaN, ±Infinity, ±0, subnormals and huge values every `every` floats. */
  const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -3e-39, 1e20, -3.4e38];
  function fillSpecial(at: number, n: number, every: number): Float32Array {
    const mem = arena.f32;
    for (let i = 0; i < n; i++) mem[at + i] = i % every === every - 1 ? SPECIAL[Math.floor(i / every) % SPECIAL.length]! : rng.normal() * 3;
    return mem.slice(at, at + n);
  }

  it.each([0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, SUMSQ_CHUNK - 1, SUMSQ_CHUNK, SUMSQ_CHUNK + 1, 3 * SUMSQ_CHUNK + 7, 100_003])(
    "sumsq of %i floats: the JS twin's bits, float64 accuracy",
    (n) => {
      const mem = arena.f32;
      let ref = 0;
      for (let i = 0; i < n; i++) {
        const x = (mem[2 + i] = rng.normal() * 3);
        ref += Math.fround(x) * Math.fround(x);
      }
      const x = mem.slice(2, 2 + n);
      const got = ex.sumsq(8, n, 0);
      expect(got).toBe(sumsqJs(x, 0));
      expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-13 * ref); // exact float64 squares
      // the running total enters before the first chunk (one chunk: acc + chunk sum)
      if (n <= SUMSQ_CHUNK) expect(ex.sumsq(8, n, 1.5)).toBe(1.5 + got);
      expect(ex.sumsq(8, n, 2.5)).toBe(sumsqJs(x, 2.5));
    },
  );

  it("sumsq: no float32 overflow or underflow, NaN and Infinity propagate like the twin", () => {
    const mem = arena.f32;
    mem.set([1e20, 1e20, -1e20], 4);
    expect(ex.sumsq(16, 3, 0)).toBe(3 * Math.fround(1e20) ** 2); // float32 squares would be Infinity
    expect(ex.sumsq(16, 3, 0)).toBe(sumsqJs(mem.slice(4, 7), 0));
    const tiny = Float32Array.from({ length: 1001 }, () => rng.normal() * 1e-25); // float32 squares would underflow to 0
    mem.set(tiny, 4);
    let tinyRef = 0;
    for (const v of tiny) tinyRef += v * v;
    expect(tinyRef).toBeGreaterThan(0);
    expect(Math.abs(ex.sumsq(16, tiny.length, 0) - tinyRef)).toBeLessThanOrEqual(1e-13 * tinyRef);
    expect(ex.sumsq(16, tiny.length, 0)).toBe(sumsqJs(tiny, 0));
    for (const every of [3, 11, 97]) {
      for (const n of [5, 8, 13, 40, SUMSQ_CHUNK + 9]) {
        const x = fillSpecial(4, n, every);
        expect(Object.is(ex.sumsq(16, n, 0), sumsqJs(x, 0)), `every ${every}, n ${n}`).toBe(true);
      }
    }
    mem.set([1, Infinity, 2, -Infinity], 4);
    expect(ex.sumsq(16, 4, 0)).toBe(Infinity);
    mem.set([1, NaN, 2, 3, 4, 5, 6, 7, 8], 4);
    expect(ex.sumsq(16, 9, 0)).toBeNaN();
    mem.set([1, Infinity, NaN], 4);
    expect(ex.sumsq(16, 3, 0)).toBeNaN();
  });

  it("scale32 and scale64 multiply in place, including the scalar tail", () => {
    const n = 37, mem = arena.f32;
    for (let i = 0; i <= n + 1; i++) mem[i] = i;
    ex.scale32(4, n, 0.5);
    expect(mem[0]).toBe(0);
    for (let i = 1; i <= n; i++) expect(mem[i]).toBe(i * 0.5);
    expect(mem[n + 1]).toBe(n + 1);
    for (let i = 0; i <= n + 1; i++) mem[i] = i;
    ex.scale64(4, n, 0.1);
    for (let i = 1; i <= n; i++) expect(mem[i]).toBe(Math.fround(i * 0.1));
    expect(mem[n + 1]).toBe(n + 1);
  });

  it.each([0.5, Math.fround(0.3), -3, 0, -0, 1e-30, 7.3e35, 0.1, NaN, Infinity, -Infinity])(
    "scale32 (float32 factors) and scale64 (any factor) by %d give scaleJs's bits on special values",
    (c) => {
      const isF32 = Math.fround(c) === c || Number.isNaN(c);
      const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
      const mem = arena.f32;
      for (const n of [1, 3, 4, 5, 8, 17, 1003]) {
        const x = fillSpecial(4, n, 5);
        const ref = x.slice();
        scaleJs(ref, c);
        const kernels: ["scale32" | "scale64", (p: number, n: number, c: number) => void][] = [["scale64", ex.scale64]];
        if (isF32) kernels.push(["scale32", ex.scale32]);
        for (const [name, kernel] of kernels) {
          mem.set(x, 4);
          kernel(16, n, c);
          expect(bits(mem.slice(4, 4 + n)), `${name} by ${c}, n=${n}`).toEqual(bits(ref));
        }
      }
    },
  );
});
