/**
 * @file Clip by global norm (L2) of 10 gradient tensors totalling 10M floats, in ms per call, with
 * a threshold below the norm so every call clips (reads everything for the norm, then reads and
 * writes everything to scale it).
 *
 * - tapegrad: `clipGradNorm(params, 1)` from `@tapegrad/optim` on autograd `Var`s whose `.grad`
 *   holds the tensors (in place, PyTorch's `clip_grad_norm_` formula). In-place clipping leaves
 *   the norm at the threshold, so later calls use slowly shrinking thresholds
 *   (`shrinkingThreshold`); every call checks that it clipped.
 * - tapegrad `... resident` (not on the `js` backend): the same `clipGradNorm` call on parameters
 *   moved into the wasm heap with `Var.toHeap()` (what `Module.toHeap()` does), their gradients in
 *   the resident gradient buffers where `backward` puts them: the norm (float64 squares) and the
 *   scaling run in the wasm `foreach*` kernels, in place, on every thread `setNumThreads` allows.
 * - tapegrad `... wasm-heap kernel`: the bare kernel `foreachClipByGlobalNorm` on heap arrays
 *   (`heapAlloc`; float32 squares summed in float64, see its docs; with only the prototype
 *   `WasmHeap` object, its `clipByGlobalNorm`). The topic runs per backend and thread count.
 * - tfjs: `clip_by_global_norm` composed from ops (`tfClipByGlobalNorm`), inside `tf.tidy`, the
 *   clipped tensors disposed: tfjs tensors are immutable, so each call allocates 10M new floats.
 */
import { variable } from "@tapegrad/autograd";
import { clipGradNorm } from "@tapegrad/optim";
import * as tensorExports from "@tapegrad/tensor";
import { Tensor } from "@tapegrad/tensor";
import { CLIP_MAX_NORM, CLIP_SHAPES, normalData } from "./inputs.js";
import { tfClipByGlobalNorm } from "./tfjs.js";
import type { Case, TargetContext, Topic } from "./types.js";

const SIZE = "10M";
const NAME = "clip-global-norm 10M";
const HEAP_NAME = "clip-global-norm 10M resident (Var.toHeap())";
const FOREACH_NAME = "clip-global-norm 10M wasm-heap kernel";

const gradData = () => CLIP_SHAPES.map(([r, c], i) => normalData(r * c, 100 + i));

/** The wasm-heap surface of `@tapegrad/tensor` this bench uses, looked up by name (the API is new). */
interface HeapApi {
  heapAlloc?: (length: number) => Float32Array;
  isHeapArray?: (x: Float32Array) => boolean;
  foreachClipByGlobalNorm?: (xs: readonly Float32Array[], maxNorm: number) => number;
  WasmHeap?: { create(opts?: { reserveBytes?: number }): { alloc(n: number): { readonly data: Float32Array }; clipByGlobalNorm(a: readonly { readonly data: Float32Array }[], maxNorm: number): number } | undefined };
}
const heapApi = tensorExports as unknown as HeapApi;

/**
 * Thresholds that make every in-place call clip. Call 1 clips the gradients from a norm of ~3162
 * down to {@link CLIP_MAX_NORM}; each later threshold is 0.999× the previous one, i.e. just below
 * the norm the previous call left (a threshold equal to that norm would give a coefficient that
 * rounds to 1, and nothing would be scaled). In the rare call where the threshold would fall under
 * 1e-3 (after ~6,900 calls), the gradients are first scaled back up by 1e3: one extra pass, which
 * the median does not see.
 */
function shrinkingThreshold(arrays: readonly Float32Array[]): () => number {
  let t = CLIP_MAX_NORM / 0.999;
  return () => {
    t *= 0.999;
    if (t < 1e-3) {
      for (const a of arrays) for (let i = 0; i < a.length; i++) a[i]! *= 1e3;
      t *= 1e3;
    }
    return t;
  };
}

/**
 * Vars whose `.grad` holds the seeded gradients: ordinary tensors, or (`resident`) the Vars'
 * resident gradient buffers after `toHeap()`, filled as `backward` would.
 */
function gradVars(resident: boolean) {
  return gradData().map((d, i) => {
    const [r, c] = CLIP_SHAPES[i]!;
    const p = variable(new Tensor(new Float32Array(d.length), [r, c]));
    if (resident && typeof (p as { toHeap?: unknown }).toHeap === "function") {
      p.toHeap();
      p.gradBuffer!.data.set(d);
      p.grad = p.gradBuffer;
    } else p.grad = new Tensor(d.slice(), [r, c]);
    return p;
  });
}

function clipCase(name: string, resident: boolean): Case {
  const params = gradVars(resident);
  const grads = params.map((p) => p.grad!.data);
  const threshold = shrinkingThreshold(grads);
  const fn = () => {
    const res = clipGradNorm(params, threshold());
    if (!res.clipped) throw new Error(`${name}: norm ${res.totalNorm} did not trigger clipping`);
  };
  const inHeap = heapApi.isHeapArray ? grads.every((g) => heapApi.isHeapArray!(g)) : false;
  return { name, size: SIZE, unit: "ms", work: 0, fn, ...(resident ? { extra: { variant: "resident", heapArrays: inHeap, compareAs: NAME } } : {}) };
}

/**
 * The heap variants, when `@tapegrad/tensor` has a heap: `clipGradNorm` on resident parameters
 * (`Var.toHeap()`), and the bare kernel `foreachClipByGlobalNorm` on heap arrays. With only the
 * prototype `WasmHeap` object, its `clipByGlobalNorm` instead.
 */
function heapCases(): Case[] {
  const cases: Case[] = [];
  if (typeof heapApi.heapAlloc === "function") {
    cases.push(clipCase(HEAP_NAME, true));
    if (typeof heapApi.foreachClipByGlobalNorm === "function") {
      const clip = heapApi.foreachClipByGlobalNorm;
      const arrays = gradData().map((d) => {
        const g = heapApi.heapAlloc!(d.length);
        g.set(d);
        return g;
      });
      const inHeap = heapApi.isHeapArray ? arrays.every((g) => heapApi.isHeapArray!(g)) : false;
      const threshold = shrinkingThreshold(arrays);
      const fn = () => {
        const c = threshold();
        const norm = clip(arrays, c);
        if (!(norm > c)) throw new Error(`${FOREACH_NAME}: norm ${norm} did not trigger clipping`);
      };
      cases.push({ name: FOREACH_NAME, size: SIZE, unit: "ms", work: 0, fn, backend: "wasm-heap", extra: { heapArrays: inHeap, compareAs: NAME } });
    }
    return cases;
  }
  const heap = heapApi.WasmHeap?.create({ reserveBytes: 4 * 10_000_000 + 65536 * 2 });
  if (heap) {
    const arrays = gradData().map((d) => {
      const r = heap.alloc(d.length);
      r.data.set(d);
      return r;
    });
    const threshold = shrinkingThreshold(arrays.map((a) => a.data));
    const fn = () => {
      const c = threshold();
      const norm = heap.clipByGlobalNorm(arrays, c);
      if (!(norm > c)) throw new Error(`${FOREACH_NAME}: norm ${norm} did not trigger clipping`);
    };
    cases.push({ name: FOREACH_NAME, size: SIZE, unit: "ms", work: 0, fn, backend: "wasm-heap", extra: { compareAs: NAME } });
  }
  return cases;
}

function tapegradCases(ctx: TargetContext): Case[] {
  const cases = [clipCase(NAME, false)];
  if (ctx.backend !== "js") cases.push(...heapCases());
  return cases;
}

function tfjsCases(ctx: TargetContext): Case[] {
  const tf = ctx.tf!;
  const grads = gradData().map((d, i) => tf.tensor2d(d, CLIP_SHAPES[i] as [number, number]));
  const fn = () => {
    const clipped = tf.tidy(() => tfClipByGlobalNorm(tf, grads, CLIP_MAX_NORM));
    for (const t of clipped) t.dispose();
  };
  return [{ name: NAME, size: SIZE, unit: "ms", work: 0, fn }];
}

/** The clip-global-norm topic. */
export const clipTopic: Topic = {
  bench: "clip-global-norm",
  perBackend: true,
  caseNames: [NAME, HEAP_NAME, FOREACH_NAME],
  cases: { tapegrad: tapegradCases, "tfjs-cpu": tfjsCases, "tfjs-wasm": tfjsCases },
};
