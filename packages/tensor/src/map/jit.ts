/**
 * @file Map kernels compiled to JavaScript: one fused loop per kernel (`new Function`), the
 * pure-TS backend's fast path. Each element's program is straight-line float64 code with the
 * interpreter's operations (`Math.fround` for `.f32()`, `Math.max`, the helpers of `loops.ts`),
 * so it gives the interpreter's bits. Where the page's Content-Security-Policy forbids
 * `new Function`, {@link jitBlock} returns false and the caller interprets (`interpret.ts`).
 */
import { MapOp } from "./expr.js";
import type { MapKernel } from "./compile.js";
import { HOST_FUNCTIONS } from "./host.js";
import { copysign, exp2i, nearestEven, pow2F32, scalbnF32 } from "./loops.js";

/** A compiled kernel: `(arrays, offsets, strides, rowStrides, n, m, scalars)`. */
type Compiled = (a: readonly Float32Array[], o: readonly number[], s: readonly number[], r: readonly number[], n: number, m: number, u: readonly number[]) => void;

/** Per kernel: the loop for any strides, and the one for unit strides. */
const compiled = new WeakMap<MapKernel, [Compiled | undefined, Compiled | undefined]>();
let available: boolean | undefined;

/** Float32 bits of one value (exponent, mantissa). */
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);
const exponentOf = (x: number): number => { F32[0] = x; return ((I32[0]! >>> 23) & 255) - 127; };
const mantissaOf = (x: number): number => { F32[0] = x; I32[0] = (I32[0]! & 0x807fffff) | 0x3f800000; return F32[0]!; };
const HOSTS = HOST_FUNCTIONS.map((h) => h.f);

const BINARY: Partial<Record<MapOp, (a: string, b: string) => string>> = {
  [MapOp.add]: (a, b) => `${a} + ${b}`, [MapOp.sub]: (a, b) => `${a} - ${b}`, [MapOp.mul]: (a, b) => `${a} * ${b}`,
  [MapOp.div]: (a, b) => `${a} / ${b}`, [MapOp.max]: (a, b) => `Math.max(${a}, ${b})`, [MapOp.min]: (a, b) => `Math.min(${a}, ${b})`,
  [MapOp.copysign]: (a, b) => `cs(${a}, ${b})`, [MapOp.scalbn]: (a, b) => `sc(${a}, ${b})`,
  [MapOp.gt]: (a, b) => `${a} > ${b}`, [MapOp.ge]: (a, b) => `${a} >= ${b}`, [MapOp.lt]: (a, b) => `${a} < ${b}`,
  [MapOp.le]: (a, b) => `${a} <= ${b}`, [MapOp.eq]: (a, b) => `${a} === ${b}`, [MapOp.ne]: (a, b) => `${a} !== ${b}`,
  [MapOp.and]: (a, b) => `${a} && ${b}`, [MapOp.or]: (a, b) => `${a} || ${b}`,
};
const UNARY: Partial<Record<MapOp, (a: string) => string>> = {
  [MapOp.neg]: (a) => `-${a}`, [MapOp.abs]: (a) => `Math.abs(${a})`, [MapOp.sqrt]: (a) => `Math.sqrt(${a})`, [MapOp.f32]: (a) => `fr(${a})`,
  [MapOp.floor]: (a) => `Math.floor(${a})`, [MapOp.ceil]: (a) => `Math.ceil(${a})`, [MapOp.trunc]: (a) => `Math.trunc(${a})`,
  [MapOp.nearest]: (a) => `ne(${a})`, [MapOp.exponent]: (a) => `ex(${a})`, [MapOp.mantissa]: (a) => `ma(${a})`,
  [MapOp.exp2i]: (a) => `E2(${a})`, [MapOp.pow2]: (a) => `P2(${a})`,
};

/** The JavaScript source of `k`'s loop (see the file comment); `unit`: every stride is 1. */
function source(k: MapKernel, unit: boolean): string {
  const lines: string[] = [];
  const numUniform = k.numScalars + k.consts.length;
  const v = (s: number) => (s < numUniform ? `u${s}` : `v${s}`);
  for (let s = 0; s < k.numScalars; s++) lines.push(`const u${s} = ${k.f32Scalars ? `fr(u[${s}])` : `u[${s}]`};`);
  k.consts.forEach((c, i) => lines.push(`const u${k.numScalars + i} = ${Number.isNaN(c) ? "NaN" : c === Infinity ? "Infinity" : c === -Infinity ? "-Infinity" : Object.is(c, -0) ? "-0" : String(c)};`));
  for (let j = 0; j < k.numArrays; j++) lines.push(`const a${j} = a[${j}], s${j} = s[${j}], r${j} = r[${j}];`);
  lines.push("for (let row = 0; row < m; row++) {");
  for (let j = 0; j < k.numArrays; j++) lines.push(`${unit ? "const b" : "let p"}${j} = o[${j}] + row * r${j};`);
  lines.push("for (let i = 0; i < n; i++) {");
  const at = (j: number) => (unit ? `b${j} + i` : `p${j}`);
  for (const ins of k.instrs) {
    let e: string;
    if (ins.op === MapOp.input) e = `a${ins.a}[${at(ins.a)}]`;
    else if (ins.op === MapOp.select) e = `${v(ins.a)} ? ${v(ins.b)} : ${v(ins.c)}`;
    else if (ins.op === MapOp.call) e = `H[${ins.fn}](${v(ins.a)}, ${ins.b < 0 ? 0 : v(ins.b)})`;
    else if (ins.b >= 0) e = BINARY[ins.op]!(v(ins.a), v(ins.b));
    else e = UNARY[ins.op]!(v(ins.a));
    lines.push(`const v${ins.dst} = ${e};`);
  }
  for (const [arr, s] of k.outputs) lines.push(`a${arr}[${at(arr)}] = ${v(s)};`);
  if (!unit) lines.push(Array.from({ length: k.numArrays }, (_, j) => `p${j} += s${j};`).join(" "));
  lines.push("}", "}");
  return lines.join("\n");
}

function compile(k: MapKernel, unit: boolean): Compiled | undefined {
  let pair = compiled.get(k);
  let fn = pair?.[unit ? 1 : 0];
  if (fn) return fn;
  if (available === false) return undefined;
  try {
    const factory = new Function("fr", "ne", "sc", "cs", "ex", "ma", "E2", "P2", "H", `return function ${safeName(k.name)}(a, o, s, r, n, m, u) {\n${source(k, unit)}\n};`);
    fn = factory(Math.fround, nearestEven, scalbnF32, copysign, exponentOf, mantissaOf, exp2i, pow2F32, HOSTS) as Compiled;
    available = true;
  } catch (e) {
    if (e instanceof EvalError || (e instanceof Error && /unsafe-eval|Content Security Policy/i.test(e.message))) {
      available = false; // a CSP forbids new Function: interpret from now on
      return undefined;
    }
    throw e;
  }
  if (!pair) compiled.set(k, (pair = [undefined, undefined]));
  pair[unit ? 1 : 0] = fn;
  return fn;
}

const safeName = (name: string) => `map_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;

/**
 * Runs `kernel` over a 2-D block (the layout of `interpretBlock` in `interpret.ts`) with its
 * compiled JavaScript loop; returns false, doing nothing, where code cannot be compiled here.
 *
 * @throws never (an unexpected compile error is an `internal:` bug and is rethrown).
 * @example
 * ```ts
 * if (!jitBlock(k, arrays, offsets, strides, rowStrides, n, m, scalars)) interpretBlock(k, arrays, offsets, strides, rowStrides, n, m, scalars);
 * ```
 */
export function jitBlock(
  kernel: MapKernel, arrays: readonly Float32Array[], offsets: readonly number[], strides: readonly number[],
  rowStrides: readonly number[], n: number, m: number, scalars: readonly number[],
): boolean {
  let unit = true;
  for (let j = 0; j < strides.length; j++) if (strides[j] !== 1) unit = false;
  const fn = compile(kernel, unit);
  if (!fn) return false;
  fn(arrays, offsets, strides, rowStrides, n, m, scalars);
  return true;
}
