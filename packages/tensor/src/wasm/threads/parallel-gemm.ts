/**
 * @file PROTOTYPE (optional in phase 1): a two-thread WebAssembly GEMM. The calling thread and
 * one helper worker share one wasm memory (a `SharedArrayBuffer`). Per call the calling thread
 * stages A, stages and packs all of B, then both threads run half of the rows of C each
 * (`gemmRowRange`: pack their A blocks, run the macro-kernel) and the caller copies C back.
 * One wake-up and one wait per call; the helper is synchronised with `Atomics.wait/notify`.
 *
 * Node only for now: the helper is a `worker_threads` Worker loaded by a dynamic `import()`, so
 * the package still loads in browsers. Browsers need a Web Worker (Blob URL), cross-origin
 * isolation for `SharedArrayBuffer`, and an asynchronous wait on the main thread (phase 2).
 */
import type { KernelSet } from "../../backend.js";
import type { GemmFn } from "../../kernels/gemm.js";
import { DEFAULT_GEMM_KERNEL } from "../gemm-kernel.js";
import { GEMM_BLOCKING, copyIn, copyOut, gemmWasm, padRows, roundUp, stage } from "../gemm.js";
import { kernelModuleBytes } from "../module.js";
import { KernelInstance, relaxedSimdSupported, simdSupported } from "../runtime.js";
import { Control, JOB_PARAMS, JobParam, gemmRowRange, serveRowRanges } from "./row-range.js";

/** What a helper thread receives at start-up. */
export interface HelperInit {
  /** The compiled kernel module (shared-memory variant). */
  readonly module: WebAssembly.Module;
  /** The shared memory both threads instantiate the module over. */
  readonly memory: WebAssembly.Memory;
  /** The control block (`Control` words, then the job parameters). */
  readonly control: SharedArrayBuffer;
}

/** A running helper thread. */
export interface HelperThread {
  /** Stops the thread. */
  terminate(): void;
}

/** A kernel set backed by helper threads; `dispose()` stops them. */
export interface ThreadedKernelSet extends KernelSet {
  /** Stops the helper thread; the set must not be used afterwards. */
  dispose(): void;
}

/** Shared memory maximum: 1 GiB of address space is reserved up front. */
const MAX_PAGES = 16384;
/** Below this many multiply-adds one thread is as fast (wake-up latency, serial packing). */
const MIN_WORK = 96 * 96 * 96;
/** Longest wait for the helper before giving up (ms). */
const WAIT_MS = 60_000;

/**
 * Starts one helper thread and returns a kernel set named `"wasm-threads"` whose GEMM splits C's
 * rows between the caller and the helper, or `undefined` where this is unsupported (no SIMD, no
 * `SharedArrayBuffer`, not Node). Never rejects.
 *
 * @example
 * ```ts
 * const threaded = await initWasmThreads();
 * if (threaded) useKernels(threaded);
 * // ...
 * threaded?.dispose();
 * ```
 */
export async function initWasmThreads(): Promise<ThreadedKernelSet | undefined> {
  if (!simdSupported() || typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined") return undefined;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (!proc?.versions?.node) return undefined;
  try {
    const bytes = kernelModuleBytes({ shared: true, maximumPages: MAX_PAGES, gemm: { ...DEFAULT_GEMM_KERNEL, relaxedMadd: relaxedSimdSupported() } });
    const module = await WebAssembly.compile(bytes);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const control = new SharedArrayBuffer(4 * (Control.params + JOB_PARAMS));
    const { spawnNodeHelper } = await import("./node-helper.js");
    const helper = await spawnNodeHelper(workerSource(), { module, memory, control });
    const pg = new ParallelGemm(KernelInstance.create(module, memory), control, helper);
    return { name: "wasm-threads", gemm: pg.gemm, dispose: () => pg.dispose() };
  } catch {
    return undefined;
  }
}

/** The helper's program: the row-range routine and its serve loop, serialised. */
function workerSource(): string {
  return [
    `const gemmRowRange = ${gemmRowRange.toString()};`,
    `const serveRowRanges = ${serveRowRanges.toString()};`,
    "const { module, memory, control } = workerData;",
    "const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;",
    "serveRowRanges(ex, new Int32Array(control), gemmRowRange);",
  ].join("\n");
}

class ParallelGemm {
  private readonly ctl: Int32Array;
  private readonly job: Int32Array;
  private readonly own = new Int32Array(JOB_PARAMS);
  private seq = 0;

  constructor(private readonly inst: KernelInstance, control: SharedArrayBuffer, private readonly helper: HelperThread) {
    this.ctl = new Int32Array(control);
    this.job = this.ctl.subarray(Control.params, Control.params + JOB_PARAMS);
  }

  dispose(): void {
    Atomics.store(this.ctl, Control.seq, -1);
    Atomics.notify(this.ctl, Control.seq);
    this.helper.terminate();
  }

  readonly gemm: GemmFn = (m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate) => {
    const aRows = acs === 1, aCols = !aRows && ars === 1;
    const bRows = bcs === 1, bCols = !bRows && brs === 1;
    const { MR, NR, KC, MC } = GEMM_BLOCKING;
    const mPad = roundUp(m, MR), nPad = roundUp(n, NR), kc = Math.min(KC, k);
    // Scratch layout (bytes): staged A | staged B panel | packed B (all K) | C | packed A ×2.
    const sa = 0;
    const sb = sa + mPad * k * 4;
    const pb = sb + kc * nPad * 4;
    const pc = pb + k * nPad * 4;
    const pa0 = pc + mPad * nPad * 4;
    const pa1 = pa0 + MC * kc * 4;
    const end = pa1 + MC * kc * 4;
    if (m * n * k < MIN_WORK || m < 2 * MR || !(aRows || aCols) || !(bRows || bCols) || end > MAX_PAGES * 65536) {
      gemmWasm(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate);
      return;
    }
    const mem = this.inst.ensure(end);
    const ex = this.inst.exports;
    // Stage all of A: row-major (ld k) or k-major (ld mPad), zero padding rows.
    let lda: number;
    if (aRows) {
      stage(a, aOff, ars, m, k, k, mem, sa >> 2, k);
      padRows(mem, (sa >> 2) + m * k, mPad - m, k);
      lda = k * 4;
    } else {
      stage(a, aOff, acs, k, m, mPad, mem, sa >> 2, mPad);
      lda = mPad * 4;
    }
    // Stage and pack every K panel of B.
    for (let p0 = 0; p0 < k; p0 += KC) {
      const depth = Math.min(KC, k - p0);
      const dst = pb + p0 * nPad * 4;
      if (bRows) {
        stage(b, bOff + p0 * brs, brs, depth, n, nPad, mem, sb >> 2, nPad);
        ex.pack_copy8(sb, nPad * 4, nPad / NR, depth, dst);
      } else {
        stage(b, bOff + p0 * brs, bcs, n, depth, depth, mem, sb >> 2, kc);
        padRows(mem, (sb >> 2) + n * kc, nPad - n, kc);
        ex.pack_tr8(sb, kc * 4, nPad / NR, depth, dst);
      }
    }
    if (accumulate) copyIn(c, cOff, ldc, m, n, mem, pc >> 2, nPad);
    const mid = Math.min(mPad - MR, roundUp(mPad / 2, MR));
    this.fill(this.job, mid, mPad, k, nPad, aRows ? 0 : 1, sa, lda, pb, pc, pa1, accumulate ? 0 : 1, MC);
    this.fill(this.own, 0, mid, k, nPad, aRows ? 0 : 1, sa, lda, pb, pc, pa0, accumulate ? 0 : 1, MC);
    const seq = ++this.seq;
    Atomics.store(this.ctl, Control.seq, seq);
    Atomics.notify(this.ctl, Control.seq);
    gemmRowRange(ex, this.own);
    for (;;) {
      const done = Atomics.load(this.ctl, Control.done);
      if (done === seq) break;
      if (Atomics.wait(this.ctl, Control.done, done, WAIT_MS) === "timed-out") throw new Error("internal: wasm GEMM helper thread did not finish");
    }
    copyOut(mem, pc >> 2, nPad, m, n, c, cOff, ldc);
  };

  private fill(q: Int32Array, rowStart: number, rowEnd: number, k: number, nPad: number, aLayout: number, sa: number, lda: number, pb: number, pc: number, pa: number, first: number, mc: number): void {
    q[JobParam.rowStart] = rowStart;
    q[JobParam.rowEnd] = rowEnd;
    q[JobParam.k] = k;
    q[JobParam.nPad] = nPad;
    q[JobParam.aLayout] = aLayout;
    q[JobParam.stagedA] = sa;
    q[JobParam.ldaBytes] = lda;
    q[JobParam.packedB] = pb;
    q[JobParam.c] = pc;
    q[JobParam.ldcBytes] = nPad * 4;
    q[JobParam.packedA] = pa;
    q[JobParam.first] = first;
    q[JobParam.kc] = GEMM_BLOCKING.KC;
    q[JobParam.mc] = mc;
  }
}
