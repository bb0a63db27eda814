/**
 * @file The JS math functions a map kernel may call (`host("sin", x)` in `expr.ts`): computed in
 * float64 by the interpreter on every backend (WebAssembly has no instructions for them). The
 * common transcendentals (exp, log, tanh, sigmoid, softplus, erf, GELU) do not go through here:
 * they are vectorised approximations written in the kernel language itself (`map/math.ts`).
 */
import { powIeee } from "../math.js";

/** One host function. */
export interface HostFunction {
  /** Its name in `host(name, ...)`. */
  readonly name: string;
  /** Number of operands (1 or 2). */
  readonly arity: 1 | 2;
  /** The float64 function. */
  readonly f: (x: number, y: number) => number;
}

/**
 * Every host function, by index (a kernel's `call` instruction stores the index).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * HOST_FUNCTIONS.map((h) => h.name); // ["sin", "cos", ...]
 * ```
 */
export const HOST_FUNCTIONS = [
  { name: "sin", arity: 1, f: (x: number) => Math.sin(x) },
  { name: "cos", arity: 1, f: (x: number) => Math.cos(x) },
  { name: "atan2", arity: 2, f: (y: number, x: number) => Math.atan2(y, x) },
  { name: "pow", arity: 2, f: powIeee },
  { name: "log1p", arity: 1, f: (x: number) => Math.log1p(x) },
  { name: "expm1", arity: 1, f: (x: number) => Math.expm1(x) },
] as const satisfies readonly HostFunction[];

/** The name of a host function. */
export type HostName = (typeof HOST_FUNCTIONS)[number]["name"];
