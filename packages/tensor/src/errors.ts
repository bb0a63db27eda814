/**
 * @file Error types and message helpers shared by every tapegrad package.
 *
 * User mistakes (bad shapes, bad axes, bad arguments) throw {@link ShapeError} or a plain
 * `TypeError`/`RangeError` whose message starts with the op name and shows shapes as JSON:
 * `matmul: inner dimensions differ (got [2,3] and [4,5])`. Violated internal invariants (our
 * bugs, never the user's) throw an `Error` whose message starts with `internal:`.
 */

/**
 * Formats a shape (or any small array) as compact JSON, e.g. `[2,3]`; a 0-d shape is `[]`.
 * Non-finite entries print as `NaN`/`Infinity` (JSON would print `null`, hiding the mistake).
 *
 * @throws {TypeError} for something that is not array-like.
 * @example
 * ```ts
 * fmt([2, 3]); // "[2,3]"
 * fmt([2, NaN]); // "[2,NaN]"
 * ```
 */
export function fmt(shape: readonly number[] | ArrayLike<number>): string {
  if (shape == null || typeof shape.length !== "number") throw new TypeError(`fmt: expected a shape (an array of sizes) (got ${String(shape)})`);
  const parts: string[] = [];
  for (let i = 0; i < shape.length; i++) {
    const v = (shape as ArrayLike<unknown>)[i];
    parts.push(typeof v === "number" ? String(v) : JSON.stringify(v) ?? String(v));
  }
  return `[${parts.join(",")}]`;
}

/**
 * Thrown when shapes, axes or sizes are invalid for an op. `op` names the op, `shapes` holds the
 * offending shapes (also printed as JSON in the message).
 *
 * @throws never when constructed (it is the error ops throw).
 * @example
 * ```ts
 * try { matmul(zeros([2, 3]), zeros([4, 5])); } catch (e) {
 *   if (e instanceof ShapeError) console.log(e.op, e.message);
 *   // matmul matmul: inner dimensions differ (got [2,3] and [4,5])
 * }
 * ```
 */
export class ShapeError extends RangeError {
  /** The op that rejected its input. */
  readonly op: string;
  /** The shapes involved, in argument order. */
  readonly shapes: readonly (readonly number[])[];

  constructor(op: string, problem: string, shapes: readonly (readonly number[])[] = []) {
    const got = shapes.length > 0 ? ` (got ${shapes.map(fmt).join(" and ")})` : "";
    super(`${op}: ${problem}${got}`);
    this.name = "ShapeError";
    this.op = op;
    this.shapes = shapes.map((s) => Array.from(s));
  }
}

/**
 * Builds the error for a violated internal invariant (a tapegrad bug, not a user error).
 *
 * @throws never (it returns the error; the caller throws it).
 * @example
 * ```ts
 * if (grad.size !== x.size) throw internalError("mul.backward gave [3] for input 0 of shape [2,3]");
 * ```
 */
export function internalError(message: string): Error {
  return new Error(`internal: ${message}`);
}

/**
 * Throws a `TypeError` naming the op when `cond` is false. The message is built lazily.
 *
 * @throws {TypeError} when `cond` is false.
 * @example
 * ```ts
 * assertArg(Number.isInteger(n), "arange", () => `step must be finite (got ${n})`);
 * ```
 */
export function assertArg(cond: boolean, op: string, message: () => string): asserts cond {
  if (!cond) throw new TypeError(`${op}: ${message()}`);
}
