/**
 * @file Where a Content-Security-Policy forbids `new Function`, the pure-TS backend interprets
 * map kernels instead of compiling them, with the same results (simulated by a `Function` that
 * throws the EvalError a browser throws).
 */
import { afterAll, describe, expect, it, vi } from "vitest";
import { add, exp, jsKernels, mapKernel, relu, tensor, useKernels } from "@tapegrad/tensor";
import { jitBlock } from "../../packages/tensor/src/map/jit.js";

describe("map kernels without new Function (CSP)", () => {
  const prev = useKernels(jsKernels);
  afterAll(() => {
    vi.unstubAllGlobals();
    useKernels(prev);
  });

  it("jitBlock declines and the ops are interpreted, with the same values", () => {
    const before = [add(tensor([1, 2, 3]), tensor([10, 20, 30])).toArray(), relu(tensor([-1, 0.5, NaN])).toArray(), exp(tensor([0, 1])).toArray()];
    vi.stubGlobal("Function", function () {
      throw new EvalError("Refused to evaluate a string as JavaScript because 'unsafe-eval' is not an allowed source of script in the following Content Security Policy directive");
    });
    const k = mapKernel("csp-probe", { arrays: ["o", "x"], scalars: [] }, ({ x }) => ({ o: x.mul(3) }));
    const o = new Float32Array(2);
    expect(jitBlock(k, [o, Float32Array.of(1, 2)], [0, 0], [1, 1], [0, 0], 2, 1, [])).toBe(false);
    const k2 = mapKernel("csp-probe-2", { arrays: ["o", "a", "b"], scalars: [] }, ({ a, b }) => ({ o: a.sub(b) }));
    const o2 = new Float32Array(3);
    jsKernels.mapBlock(k2, [o2, Float32Array.of(5, 6, 7), Float32Array.of(1, 1, 1)], [0, 0, 0], [1, 1, 1], [0, 0, 0], 3, 1, []);
    expect(Array.from(o2)).toEqual([4, 5, 6]);
    const after = [add(tensor([1, 2, 3]), tensor([10, 20, 30])).toArray(), relu(tensor([-1, 0.5, NaN])).toArray(), exp(tensor([0, 1])).toArray()];
    expect(after).toEqual(before);
  });
});
