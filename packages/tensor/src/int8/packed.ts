/**
 * @file Int8 weights packed once for the int8 GEMM ({@link packInt8Weights}).
 *
 * Layout (shared by the pure-TS and the WebAssembly kernels, so either can run on weights packed
 * under the other): the `[outFeatures, inFeatures]` row-major qint8 matrix `W` (as in
 * `nn.Linear`) is cut into panels of {@link INT8_NR} = 8 output features; a panel holds, for each
 * pair of inputs `(2p, 2p + 1)`, the 8 features' two weights side by side as int16:
 * `packed[((panel·P + p)·8 + c)·2 + h] = W[panel·8 + c, 2p + h]` (`P = ⌈in/2⌉`; zero for a
 * feature ≥ outFeatures or an input ≥ inFeatures). One 16-byte vector of a panel is then the
 * `(w[k], w[k+1])` pairs of 4 features: what `i32x4.dot_i16x8_s` multiplies with a broadcast
 * `(x[k], x[k+1])` pair of activations.
 *
 * Where the packed data lives: in the WebAssembly kernels' memory when the active kernel set
 * (`kernels()`) is the wasm one at packing time, else on the JS heap; weights packed on the heap
 * move to wasm memory the first time a wasm GEMM uses them. {@link PackedInt8Weights.dispose}
 * frees wasm memory at once (a `FinalizationRegistry` frees it too if the object is dropped).
 */
import { kernels } from "../backend.js";
import type { WasmArena } from "../wasm/arena.js";
import { mainArena } from "../wasm/runtime.js";

/**
 * Output features per packed panel (the GEMM's register tile width).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const panels = Math.ceil(outFeatures / INT8_NR);
 * ```
 */
export const INT8_NR = 8;

/**
 * Int8 weights packed for {@link gemmU8I8}; create with {@link packInt8Weights}.
 *
 * @throws never (an interface; `gemmU8I8` throws for weights used after `dispose()`).
 * @example
 * ```ts
 * const w: PackedInt8Weights = packInt8Weights(q, 256, 784);
 * w.outFeatures; // 256
 * w.dispose();
 * ```
 */
export interface PackedInt8Weights {
  /** Rows of the weight matrix (outputs of the layer). */
  readonly outFeatures: number;
  /** Columns of the weight matrix (inputs of the layer). */
  readonly inFeatures: number;
  /** Frees the packed data (wasm memory at once); using the weights afterwards throws. Idempotent. */
  dispose(): void;
}

/** Frees wasm blocks of packed weights that were garbage-collected without `dispose()`. */
const registry: FinalizationRegistry<{ arena: WasmArena; ptr: number }> | undefined =
  typeof FinalizationRegistry === "function" ? new FinalizationRegistry(({ arena, ptr }) => arena.free(ptr)) : undefined;

/**
 * The implementation of {@link PackedInt8Weights} (internal: the kernels read its layout).
 *
 * @throws {Error} from the accessors once disposed (see {@link PackedInt8.check}).
 * @example
 * ```ts
 * const w = packInt8Weights(q, 10, 784) as PackedInt8;
 * w.pairs; // 392
 * ```
 */
export class PackedInt8 implements PackedInt8Weights {
  /** `⌈inFeatures / 2⌉`: k-pairs per panel. */
  readonly pairs: number;
  /** `⌈outFeatures / 8⌉`: panels. */
  readonly panels: number;
  /** int16 elements of the packed data. */
  readonly length: number;
  private heap: Int16Array | undefined;
  private arena: WasmArena | undefined;
  private ptr = 0;
  private disposed = false;

  /** Packs `w` (validated by the caller) on the heap, or in `arena` when given and it has room. */
  constructor(w: Int8Array, readonly outFeatures: number, readonly inFeatures: number, arena: WasmArena | undefined) {
    this.pairs = (inFeatures + 1) >> 1;
    this.panels = Math.ceil(outFeatures / INT8_NR);
    this.length = this.panels * this.pairs * 2 * INT8_NR;
    let dst: Int16Array | undefined;
    if (arena && this.length > 0) {
      const at = arena.tryAlloc(2 * this.length, true);
      if (at >= 0) {
        this.arena = arena;
        this.ptr = at;
        registry?.register(this, { arena, ptr: at }, this);
        dst = new Int16Array(arena.memory.buffer, at, this.length);
        dst.fill(0);
      }
    }
    if (!dst) dst = this.heap = new Int16Array(this.length);
    packInto(w, outFeatures, inFeatures, this.pairs, dst);
  }

  /**
   * Throws when disposed; `fn` names the caller in the message.
   *
   * @throws {Error} `<fn>: the packed int8 weights were disposed`.
   * @example
   * ```ts
   * w.check("gemmU8I8");
   * ```
   */
  check(fn: string): void {
    if (this.disposed) throw new Error(`${fn}: the packed int8 weights were disposed`);
  }

  /**
   * The packed data as int16 (a fresh view of wasm memory, or the heap array).
   *
   * @throws never (call {@link PackedInt8.check} first).
   * @example
   * ```ts
   * const d = w.data(); // d[((panel * w.pairs + p) * 8 + c) * 2 + h]
   * ```
   */
  data(): Int16Array {
    if (this.heap) return this.heap;
    if (!this.arena) return new Int16Array(0);
    return new Int16Array(this.arena.memory.buffer, this.ptr, this.length);
  }

  /**
   * The byte address of the packed data in `arena`'s memory, moving it there first if needed
   * (from the heap, or from another arena); -1 when `arena` cannot grow for it.
   *
   * @throws never (call {@link PackedInt8.check} first).
   * @example
   * ```ts
   * const pb = w.addressIn(arena);
   * ```
   */
  addressIn(arena: WasmArena): number {
    if (this.arena === arena) return this.ptr;
    if (this.length === 0) return 0;
    const at = arena.tryAlloc(2 * this.length, true);
    if (at < 0) return -1;
    new Int16Array(arena.memory.buffer, at, this.length).set(this.data());
    this.release();
    this.heap = undefined;
    this.arena = arena;
    this.ptr = at;
    registry?.register(this, { arena, ptr: at }, this);
    return at;
  }

  /**
   * Frees the packed data; later GEMM calls with these weights throw. Idempotent.
   *
   * @throws never.
   * @example
   * ```ts
   * w.dispose();
   * ```
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release();
    this.heap = undefined;
  }

  private release(): void {
    if (!this.arena) return;
    registry?.unregister(this);
    this.arena.free(this.ptr);
    this.arena = undefined;
    this.ptr = 0;
  }
}

/** Writes the packed layout of `w` into zero-filled `dst` (see the file comment). */
function packInto(w: Int8Array, outF: number, inF: number, pairs: number, dst: Int16Array): void {
  const panelLen = pairs * 2 * INT8_NR;
  for (let o = 0; o < outF; o++) {
    const panel = (o / INT8_NR) | 0, c = o - panel * INT8_NR;
    let q = panel * panelLen + 2 * c;
    const row = o * inF;
    for (let k = 0; k + 1 < inF; k += 2, q += 2 * INT8_NR) {
      dst[q] = w[row + k]!;
      dst[q + 1] = w[row + k + 1]!;
    }
    if (inF & 1) dst[q] = w[row + inF - 1]!;
  }
}

/**
 * Packs the row-major `[outFeatures, inFeatures]` qint8 weights `w` (an `nn.Linear` weight, the
 * integers of `int_repr()`) once for {@link gemmU8I8}. `w` is copied, never modified. The packed
 * data lives in wasm memory when the wasm kernels are active (free it with `dispose()`), else on
 * the JS heap (then no WebAssembly is compiled).
 *
 * @param w the weights, `outFeatures·inFeatures` int8 values.
 * @param outFeatures rows of `w` (≥ 0).
 * @param inFeatures columns of `w` (≥ 0).
 * @throws {TypeError} when `w` is not an `Int8Array`.
 * @throws {RangeError} when a size is not a non-negative integer or `w.length` is not `outFeatures·inFeatures`.
 * @example
 * ```ts
 * const w = packInt8Weights(new Int8Array([1, -2, 3, 4, 5, -6]), 2, 3);
 * gemmU8I8(new Uint8Array([10, 20, 30]), 0, 1, w); // Int32Array [60, -40]
 * w.dispose();
 * ```
 */
export function packInt8Weights(w: Int8Array, outFeatures: number, inFeatures: number): PackedInt8Weights {
  if (!(w instanceof Int8Array)) throw new TypeError(`packInt8Weights: w must be an Int8Array (got ${describeValue(w)})`);
  if (!Number.isInteger(outFeatures) || outFeatures < 0) throw new RangeError(`packInt8Weights: outFeatures must be a non-negative integer (got ${outFeatures})`);
  if (!Number.isInteger(inFeatures) || inFeatures < 0) throw new RangeError(`packInt8Weights: inFeatures must be a non-negative integer (got ${inFeatures})`);
  if (w.length !== outFeatures * inFeatures) {
    throw new RangeError(`packInt8Weights: w has ${w.length} elements, expected outFeatures·inFeatures = ${outFeatures}·${inFeatures} = ${outFeatures * inFeatures}`);
  }
  return new PackedInt8(w, outFeatures, inFeatures, kernels().name === "wasm" ? mainArena() : undefined);
}

/**
 * A short description of a value for error messages: the constructor name of objects, else
 * `typeof` (and the value of numbers).
 *
 * @throws never.
 * @example
 * ```ts
 * describeValue(new Float32Array(2)); // "Float32Array"
 * ```
 */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  if (typeof v === "number") return `number ${v}`;
  return typeof v;
}
