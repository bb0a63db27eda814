/**
 * @file Kernel selection: explicit choice of the pure-TS or wasm kernels, and the automatic
 * fallback to pure TS when WebAssembly is missing, lacks SIMD, is blocked (CSP) or only allows
 * asynchronous compilation. Each environment is simulated by stubbing `WebAssembly` and loading
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
      expect(T.kernels().gemm).toBe(T.gemmTs);
      expectCorrectMatmul(T);
      T.useDefaultKernels();
      expect(T.kernels().name).toBe(T.wasmKernels() ? "wasm" : "js");
    } finally {
      T.useKernels(prev);
    }
  });

  it.runIf(T.simdSupported())("wasm is the default where SIMD works", async () => {
    const lib = await freshPackage(realWasm);
    expect(lib.kernels().name).toBe("wasm");
    expect(lib.wasmStatus()).toMatchObject({ simd: true, ready: true });
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
  });

  it("WebAssembly without SIMD", async () => {
    const lib = await freshPackage({ ...wasmNamespace(), validate: () => false });
    expect(lib.wasmStatus()).toMatchObject({ simd: false, ready: false });
    expect(lib.kernels().name).toBe("js");
    expectCorrectMatmul(lib);
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
  });

  it("synchronous compilation restricted (browser main thread): js until initWasm() resolves", async () => {
    const lib = await freshPackage({
      ...wasmNamespace(),
      Module: function syncCompileBlocked(): never {
        throw new RangeError("WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB");
      },
    });
    expect(lib.kernels().name).toBe("js");
    expect(await lib.initWasm()).toBe(true);
    expect(lib.kernels().name).toBe("wasm");
    expectCorrectMatmul(lib);
  });
});

/** The real `WebAssembly` namespace as a plain, spreadable object. */
function wasmNamespace(): Record<string, unknown> {
  const ns: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(realWasm)) ns[key] = (realWasm as unknown as Record<string, unknown>)[key];
  return ns;
}
