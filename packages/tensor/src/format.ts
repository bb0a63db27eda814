/**
 * @file Text rendering of tensors (NumPy-like, summarising large tensors) and nested-array
 * conversion. Works on contiguous row-major values.
 */

/** Nested JS arrays of numbers, as produced by `Tensor.toArray()`. */
export type Nested = number | Nested[];

/** Above this many elements, each dimension shows only its first and last `EDGE` entries. */
const SUMMARY_THRESHOLD = 1000;
const EDGE = 3;

/**
 * Converts row-major `values` of the given `shape` into nested arrays.
 *
 * @throws never.
 * @example
 * ```ts
 * toNested(new Float32Array([1, 2, 3, 4]), [2, 2]); // [[1, 2], [3, 4]]
 * ```
 */
export function toNested(values: Float32Array, shape: readonly number[]): Nested {
  if (shape.length === 0) return values[0]!;
  const build = (dim: number, start: number): Nested[] => {
    const n = shape[dim]!;
    const out: Nested[] = new Array(n);
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = values[start + i]!;
      return out;
    }
    let inner = 1;
    for (let d = dim + 1; d < shape.length; d++) inner *= shape[d]!;
    for (let i = 0; i < n; i++) out[i] = build(dim + 1, start + i * inner);
    return out;
  };
  return build(0, 0);
}

function formatNumber(v: number, integral: boolean, digits: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (integral) return Object.is(v, -0) ? "-0" : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(digits);
  return v.toFixed(digits);
}

/**
 * Renders row-major `values` of `shape` as `tensor([...], shape=[..])`. Above
 * `SUMMARY_THRESHOLD` elements every long dimension shows only its first and last `EDGE` entries;
 * then only those entries are formatted (and decide the number style and column width), so
 * printing a huge tensor costs O(shown elements).
 *
 * @throws never.
 * @example
 * ```ts
 * formatTensor(new Float32Array([1.5, 2]), [2]); // "tensor([1.5000, 2.0000], shape=[2])"
 * ```
 */
export function formatTensor(values: Float32Array, shape: readonly number[]): string {
  const summarise = values.length > SUMMARY_THRESHOLD;
  const shapeText = `shape=${JSON.stringify(Array.from(shape))}`;
  // Positions shown along each dimension (null marks the "..." gap).
  const shown = shape.map((n) => {
    const idx: (number | null)[] = [];
    if (summarise && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idx.push(i);
      idx.push(null);
      for (let i = n - EDGE; i < n; i++) idx.push(i);
    } else for (let i = 0; i < n; i++) idx.push(i);
    return idx;
  });
  const inner = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    inner[d] = acc;
    acc *= shape[d]!;
  }
  // Flat positions of every shown element, in display order.
  const flat: number[] = [];
  const collect = (dim: number, start: number): void => {
    if (dim === shape.length) {
      flat.push(start);
      return;
    }
    for (const i of shown[dim]!) if (i !== null) collect(dim + 1, start + i * inner[dim]!);
  };
  if (values.length > 0) collect(0, 0);
  let integral = true;
  for (const at of flat) {
    const v = values[at]!;
    if (Number.isFinite(v) && v !== Math.trunc(v)) {
      integral = false;
      break;
    }
  }
  const cells = new Map<number, string>();
  let width = 0;
  for (const at of flat) {
    const c = formatNumber(values[at]!, integral, 4);
    cells.set(at, c);
    if (c.length > width) width = c.length;
  }
  if (shape.length === 0) return `tensor(${cells.get(0)}, ${shapeText})`;
  const prefix = "tensor(";
  const render = (dim: number, start: number, indent: number): string => {
    const idx = shown[dim]!;
    if (dim === shape.length - 1) return "[" + idx.map((i) => (i === null ? "..." : cells.get(start + i)!.padStart(width))).join(", ") + "]";
    const sep = "," + "\n".repeat(shape.length - dim - 1) + " ".repeat(indent + 1);
    return "[" + idx.map((i) => (i === null ? "..." : render(dim + 1, start + i * inner[dim]!, indent + 1))).join(sep) + "]";
  };
  return `${prefix}${render(0, 0, prefix.length)}, ${shapeText})`;
}
