/**
 * @file Kernel selection: explicit choice of the pure-TS or wasm kernels (`useKernels` returns
 * the previously pinned set, or null when selection was automatic), and the automatic fallback to
 * pure TS — kernels and the placement of persistent storage — when WebAssembly is missing, lacks
 * SIMD, is blocked (CSP) or only allows asynchronous compilation. Each environment is simulated by stubbing `WebAssembly` and loading
 * a fresh copy of the package.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import * as T from "@tapegrad/tensor";

type Tensorlib = typeof T;
const realWasm = globalThis.WebAssembly;

/** A fresh, uninitialised copy of the package seeing `wasm` as the global `WebAssembly`. */
async function freshPackage(wasm: unknown): Promise<Tensorlib> {
  vi.stubGlobal("WebAssembly", wasm);
  vi.resetModules();
  return (await import("@tapegrad/tensor")) as Tensorlib;
}

/** Persistent storage and the vector kernels on the JS heap: nothing placed in wasm memory. */
function expectJsPlacement(lib: Tensorlib): void {
  const x = lib.allocate(100, { persistent: true });
  expect(x).toBeInstanceOf(Float32Array);
  expect(lib.isInKernelMemory(x)).toBe(false);
  x.fill(2);
  expect(lib.foreachSumSquares([x])).toBe(400);
  lib.foreachScale([x], 0.5);
  expect(x[99]).toBe(1);
  expect(lib.memoryStats()).toMatchObject({ placedArrays: 0, placedBytes: 0, kernelMemoryBytes: 0 });
  expect(lib.dispose(x)).toBe(false); // marked released, no wasm memory returned
  expect(lib.isReleased(x)).toBe(true);
}

/** matmul of a 20×30 by 30×10 product against plain float64 loops. */
function expectCorrectMatmul(lib: Tensorlib): void {
  const rng = new lib.Rng(3);
  const a = lib.randn([20, 30], rng), b = lib.randn([30, 10], rng);
  const c = lib.matmul(a, b).data;
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < 10; j++) {
      let s = 0;
      for (let p = 0; p < 30; p++) s += a.data[i * 30 + p]! * b.data[p * 10 + j]!;
      expect(Math.abs(c[i * 10 + j]! - s)).toBeLessThan(1e-5);
    }
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("explicit selection", () => {
  it("useKernels(jsKernels) forces pure TS; useDefaultKernels() returns to automatic", () => {
    const prev = T.useKernels(T.jsKernels);
    try {
      expect(T.kernels().name).toBe("js");
      expect(T.kernels()).toBe(T.jsKernels);
      expect(T.kernels().gemm).toBe(T.gemmTs);
      expectCorrectMatmul(T);
      expect(T.isInKernelMemory(T.allocate(8, { persistent: true }))).toBe(false);
      expect(T.useDefaultKernels()).toBe(T.jsKernels); // returns the set that was pinned
      expect(T.kernels().name).toBe(T.wasmKernels() ? "wasm" : "js");
      expect(T.useDefaultKernels()).toBeNull(); // already automatic
    } finally {
      T.useKernels(prev);
    }
  });

  it("useKernels returns the previously pinned set, or null when selection was automatic", () => {
    const outer = T.useKernels(null); // whatever the run's setup pinned (TAPEGRAD_KERNELS)
    try {
      expect(T.useKernels(T.jsKernels)).toBeNull();
      expect(T.useKernels(T.jsKernels)).toBe(T.jsKernels);
      const wasm = T.wasmKernels();
      if (wasm) {
        expect(T.useKernels(wasm)).toBe(T.jsKernels);
        expect(T.kernels()).toBe(wasm);
        expect(T.useKernels(null)).toBe(wasm);
      } else expect(T.useKernels(null)).toBe(T.jsKernels);
      expect(T.useKernels(null)).toBeNull();
      // restoring with the returned value round-trips
      const a = T.useKernels(T.jsKernels);
      expect(T.useKernels(a)).toBe(T.jsKernels);
      expect(T.useKernels(null)).toBe(a);
    } finally {
      T.useKernels(outer);
    }
  });

  it("useKernels rejects a set lacking a kernel, naming it, and leaves the selection unchanged", () => {
    const before = T.kernels();
    const noMap = { ...T.jsKernels, map: undefined } as unknown as T.KernelSet;
    expect(() => T.useKernels(noMap)).toThrow(TypeError);
    expect(() => T.useKernels(noMap)).toThrow(/"js" has no map function/);
    const { alloc: _alloc, ...noAlloc } = T.jsKernels;
    expect(() => T.useKernels({ ...noAlloc, name: "mine" } as unknown as T.KernelSet)).toThrow(/"mine" has no alloc function/);
    expect(() => T.useKernels("js" as unknown as T.KernelSet)).toThrow(/expected a kernel set or null/);
    expect(T.kernels()).toBe(before);
    // a complete custom set is accepted and used by ops
    let gemmCalls = 0;
    const custom: T.KernelSet = { ...T.jsKernels, name: "custom", gemm: (...args) => (gemmCalls++, T.gemmTs(...args)) };
    const prev = T.useKernels(custom);
    try {
      expect(T.kernels().name).toBe("custom");
      expectCorrectMatmul(T);
      expect(gemmCalls).toBeGreaterThan(0);
    } finally {
      T.useKernels(prev);
    }
  });

  it.runIf(T.simdSupported())("wasm is the default where SIMD works", async () => {
    const lib = await freshPackage(realWasm);
    expect(lib.kernels().name).toBe("wasm");
    expect(lib.wasmStatus()).toMatchObject({ simd: true, ready: true });
    expect(lib.useKernels(lib.jsKernels)).toBeNull(); // a fresh package selects automatically
    expect(lib.useKernels(null)).toBe(lib.jsKernels);
    const x = lib.allocate(100, { persistent: true });
    expect(lib.isInKernelMemory(x)).toBe(true);
    expect(lib.memoryStats().placedArrays).toBe(1);
    expect(lib.dispose(x)).toBe(true);
    expect(lib.memoryStats().placedArrays).toBe(0);
  });
});

describe("automatic fallback to pure TS", () => {
  it("no WebAssembly at all", async () => {
    const lib = await freshPackage(undefined);
    expect(lib.simdSupported()).toBe(false);
    expect(lib.wasmKernels()).toBeUndefined();
    expect(lib.kernels().name).toBe("js");
    expect(await lib.initWasm()).toBe(false);
    expectCorrectMatmul(lib);
    expectJsPlacement(lib);
  });

  it("WebAssembly without SIMD", async () => {
    const lib = await freshPackage({ ...wasmNamespace(), validate: () => false });
    expect(lib.wasmStatus()).toMatchObject({ simd: false, ready: false });
    expect(lib.kernels().name).toBe("js");
    expectCorrectMatmul(lib);
    expectJsPlacement(lib);
  });

  it("compilation refused (Content-Security-Policy without 'wasm-unsafe-eval')", async () => {
    // `function`, not an arrow: the runtime calls it with `new`.
    function refuse(): never {
      throw new realWasm.CompileError("Refused to compile or instantiate WebAssembly module (CSP)");
    }
    const lib = await freshPackage({ ...wasmNamespace(), Module: refuse, compile: async () => refuse() });
    expect(lib.kernels().name).toBe("js");
    expect(lib.wasmStatus().error).toMatch(/CSP/);
    expect(await lib.initWasm()).toBe(false);
    expectCorrectMatmul(lib);
    // gemmWasm itself degrades to the TS kernel when the runtime never initialised
    const c = new Float32Array(4 * 8);
    lib.gemmWasm(4, 8, 100, new Float32Array(400).fill(1), 0, 100, 1, new Float32Array(800).fill(1), 0, 8, 1, c, 0, 8, false);
    expect(Array.from(c)).toEqual(new Array(32).fill(100));
    expectJsPlacement(lib);
  });

  it("synchronous compilation restricted (browser main thread): js until initWasm() resolves", async () => {
    const lib = await freshPackage({
      ...wasmNamespace(),
      Module: function syncCompileBlocked(): never {
        throw new RangeError("WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB");
      },
    });
    expect(lib.kernels().name).toBe("js");
    const before = lib.allocate(10, { persistent: true });
    expect(lib.isInKernelMemory(before)).toBe(false); // the js set places on the JS heap
    expect(await lib.initWasm()).toBe(true);
    expect(lib.kernels().name).toBe("wasm");
    expectCorrectMatmul(lib);
    const after = lib.allocate(10, { persistent: true });
    expect(lib.isInKernelMemory(after)).toBe(true); // now in wasm memory
    expect(lib.isInKernelMemory(before)).toBe(false);
    expect(lib.dispose(after)).toBe(true);
  });
});

/** The real `WebAssembly` namespace as a plain, spreadable object. */
function wasmNamespace(): Record<string, unknown> {
  const ns: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(realWasm)) ns[key] = (realWasm as unknown as Record<string, unknown>)[key];
  return ns;
}
