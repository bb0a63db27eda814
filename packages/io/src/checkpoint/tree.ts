/**
 * @file A checkpoint's content as a tree: plain JSON (objects, arrays, strings, booleans, null,
 * numbers — NaN, ±Infinity and −0 included, which JSON loses) with typed arrays and tensors at the
 * leaves. `splitTree` takes the arrays out (to be stored as safetensors tensors, bit-exact) and
 * leaves a JSON skeleton that names them; `joinTree` puts them back.
 */
import { Tensor } from "@tapegrad/tensor";

/** A leaf array of a checkpoint tree. */
export type TreeArray = Tensor | Float32Array | Float64Array | Int32Array;

/** A checkpoint tree: JSON values and {@link TreeArray} leaves. */
export type Tree = null | boolean | number | string | TreeArray | readonly Tree[] | { readonly [key: string]: Tree | undefined };

/** How a leaf array is stored and rebuilt: the safetensors dtype and the JavaScript kind. */
const KINDS = { tensor: "F32", f32: "F32", f64: "F64", i32: "I32" } as const;
type Kind = keyof typeof KINDS;

/** One extracted array: its storage name, dtype, shape and raw bytes. */
export interface TreeTensor {
  readonly name: string;
  readonly dtype: "F32" | "F64" | "I32";
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** The little-endian bytes of a typed array (a copy). */
function bytesOf(a: Float32Array | Float64Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/**
 * Splits `tree` into a JSON skeleton and its arrays: each array becomes
 * `{"$array": name, "kind": …}` (names are `a0`, `a1`, … in depth-first order), each non-finite
 * number or −0 `{"$number": "NaN" | "Infinity" | "-Infinity" | "-0"}`, and a key starting with `$`
 * gets one more `$` (so user data cannot be mistaken for either). `undefined` members are dropped.
 *
 * @throws {TypeError} for a value that is not JSON or a {@link TreeArray} (a function, a bigint, a
 * class instance other than those), naming its path.
 * @example
 * ```ts
 * const { skeleton, arrays } = splitTree({ step: 3, w: new Float32Array([1, 2]) });
 * // skeleton: { step: 3, w: { $array: "a0", kind: "f32" } }; arrays[0].bytes.length === 8
 * ```
 */
export function splitTree(tree: Tree): { skeleton: unknown; arrays: TreeTensor[] } {
  const arrays: TreeTensor[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return v;
    if (typeof v === "number") {
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      return { $number: Object.is(v, -0) ? "-0" : String(v) };
    }
    const leaf = (kind: Kind, data: Float32Array | Float64Array | Int32Array, shape: readonly number[]) => {
      const name = `a${arrays.length}`;
      arrays.push({ name, dtype: KINDS[kind], shape: [...shape], bytes: bytesOf(data) });
      return { $array: name, kind };
    };
    if (v instanceof Tensor) return leaf("tensor", v.toFloat32Array(), v.shape);
    if (v instanceof Float32Array) return leaf("f32", v, [v.length]);
    if (v instanceof Float64Array) return leaf("f64", v, [v.length]);
    if (v instanceof Int32Array) return leaf("i32", v, [v.length]);
    if (Array.isArray(v)) return v.map((x, i) => walk(x === undefined ? null : x, `${path}[${i}]`));
    if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k.startsWith("$") ? `$${k}` : k] = walk(x, `${path}.${k}`);
      return out;
    }
    const what = typeof v === "object" ? `a ${(v as object).constructor?.name ?? "object"}` : `a ${typeof v}`;
    throw new TypeError(`encodeCheckpoint: ${path} is ${what}; a checkpoint holds JSON values, Tensors, Float32Array, Float64Array and Int32Array`);
  };
  return { skeleton: walk(tree, "checkpoint"), arrays };
}

/**
 * Rebuilds a tree from its skeleton and arrays (the inverse of {@link splitTree}).
 *
 * @throws {Error} `decodeCheckpoint: …` for a skeleton that names an array that is missing or
 * stored with another dtype, or an unknown array kind or number code.
 * @example
 * ```ts
 * joinTree(skeleton, new Map(arrays.map((a) => [a.name, a]))); // the original tree
 * ```
 */
export function joinTree(skeleton: unknown, arrays: ReadonlyMap<string, TreeTensor>): Tree {
  const walk = (v: unknown): Tree => {
    if (v === null || typeof v !== "object") return v as Tree;
    if (Array.isArray(v)) return v.map(walk);
    const o = v as Record<string, unknown>;
    if (typeof o.$number === "string") {
      const n = o.$number === "-0" ? -0 : Number(o.$number);
      if (!(o.$number === "-0" || o.$number === "NaN" || n === Infinity || n === -Infinity)) throw new Error(`decodeCheckpoint: unknown number code ${JSON.stringify(o.$number)}`);
      return n;
    }
    if (typeof o.$array === "string") {
      const a = arrays.get(o.$array);
      const kind = o.kind as Kind;
      if (!Object.hasOwn(KINDS, kind)) throw new Error(`decodeCheckpoint: unknown array kind ${JSON.stringify(o.kind)}`);
      if (!a) throw new Error(`decodeCheckpoint: array ${JSON.stringify(o.$array)} is missing from the file`);
      if (a.dtype !== KINDS[kind]) throw new Error(`decodeCheckpoint: array ${JSON.stringify(o.$array)} is stored as ${a.dtype}, expected ${KINDS[kind]}`);
      const buf = a.bytes.slice().buffer; // aligned copy
      if (kind === "f64") return new Float64Array(buf);
      if (kind === "i32") return new Int32Array(buf);
      const f = new Float32Array(buf);
      return kind === "tensor" ? new Tensor(f, a.shape) : f;
    }
    const out: Record<string, Tree> = {};
    for (const [k, x] of Object.entries(o)) out[k.startsWith("$") ? k.slice(1) : k] = walk(x);
    return out;
  };
  return walk(skeleton);
}
