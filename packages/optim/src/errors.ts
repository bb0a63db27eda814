/**
 * @file Error types and argument checks of `@tapegrad/optim`. Every message starts with the op
 * (function, class or `Class.method`) and shows the offending value: `SGD: lr must be >= 0
 * (got -1)`. Wrong kinds of argument throw `TypeError`, out-of-range numbers `RangeError`.
 */

/**
 * Formats a number for messages: `NaN`, `Infinity`, `-0` and ordinary numbers as JS prints them;
 * anything else as JSON (or its type).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * fmtValue(-1); // "-1"
 * fmtValue(NaN); // "NaN"
 * fmtValue("a"); // "\"a\""
 * ```
 */
export function fmtValue(v: unknown): string {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (v === undefined) return "undefined";
  if (typeof v === "function") return "a function";
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return typeof v;
  }
}

/**
 * Thrown when gradients contain NaN or ±Infinity and the non-finite policy is `"error"`
 * (`clipGradNorm`, `clipGradNorm.transform`, `getTotalNorm` and the optimizers' `nonFinite`), or
 * when the `"skip"` policy gives up after too many consecutive non-finite steps. The gradients are
 * left untouched when it is thrown.
 *
 * @throws This is the error type; it is thrown by the clipping functions and optimizers.
 * @example
 * ```ts
 * try { clipGradNorm(params, 1, { nonFinite: "error" }); }
 * catch (e) { if (e instanceof NonFiniteGradientError) console.log(e.totalNorm, e.nonFiniteCount); }
 * ```
 */
export class NonFiniteGradientError extends Error {
  /** Total norm that was measured (NaN or ±Infinity, or finite for norm types that hide them). */
  readonly totalNorm: number;
  /** Number of NaN/±Infinity gradient elements. */
  readonly nonFiniteCount: number;

  constructor(message: string, totalNorm: number, nonFiniteCount: number) {
    super(message);
    this.name = "NonFiniteGradientError";
    this.totalNorm = totalNorm;
    this.nonFiniteCount = nonFiniteCount;
  }
}

/**
 * Checks that `v` is a number that is not NaN and returns it.
 *
 * @throws {TypeError} for non-numbers and NaN.
 * @example
 * ```ts
 * checkNumber("SGD", "lr", 0.1); // 0.1
 * ```
 */
export function checkNumber(op: string, name: string, v: unknown): number {
  if (typeof v !== "number" || Number.isNaN(v)) throw new TypeError(`${op}: ${name} must be a number (got ${fmtValue(v)})`);
  return v;
}

/**
 * Checks `lo <= v <= hi` (ends open when requested) for a number that is not NaN.
 *
 * @throws {TypeError} for non-numbers/NaN; {RangeError} outside the range.
 * @example
 * ```ts
 * checkRange("Adam", "betas[0]", 0.9, 0, 1, { hiOpen: true }); // 0.9
 * ```
 */
export function checkRange(op: string, name: string, v: unknown, lo: number, hi: number, opts: { loOpen?: boolean; hiOpen?: boolean } = {}): number {
  const x = checkNumber(op, name, v);
  const okLo = opts.loOpen ? x > lo : x >= lo;
  const okHi = opts.hiOpen ? x < hi : x <= hi;
  if (okLo && okHi) return x;
  if (hi === Infinity && !opts.hiOpen) throw new RangeError(`${op}: ${name} must be ${opts.loOpen ? ">" : ">="} ${lo} (got ${fmtValue(x)})`);
  if (hi === Infinity) throw new RangeError(`${op}: ${name} must be ${opts.loOpen ? ">" : ">="} ${lo} and finite (got ${fmtValue(x)})`);
  throw new RangeError(`${op}: ${name} must be in ${opts.loOpen ? "(" : "["}${lo}, ${hi}${opts.hiOpen ? ")" : "]"} (got ${fmtValue(x)})`);
}

/**
 * Checks a finite number `>= 0` (learning rates, decay factors, epsilons).
 *
 * @throws {TypeError} for non-numbers/NaN; {RangeError} for negative or infinite values.
 * @example
 * ```ts
 * checkNonNegative("SGD", "lr", -1); // throws "SGD: lr must be >= 0 (got -1)"
 * ```
 */
export function checkNonNegative(op: string, name: string, v: unknown): number {
  const x = checkNumber(op, name, v);
  if (x < 0) throw new RangeError(`${op}: ${name} must be >= 0 (got ${fmtValue(x)})`);
  if (x === Infinity) throw new RangeError(`${op}: ${name} must be finite (got Infinity)`);
  return x;
}

/**
 * Checks a finite number (any sign).
 *
 * @throws {TypeError} for non-numbers/NaN; {RangeError} for ±Infinity.
 * @example
 * ```ts
 * checkFinite("SGD", "dampening", 0.1); // 0.1
 * ```
 */
export function checkFinite(op: string, name: string, v: unknown): number {
  const x = checkNumber(op, name, v);
  if (!Number.isFinite(x)) throw new RangeError(`${op}: ${name} must be finite (got ${fmtValue(x)})`);
  return x;
}

/**
 * Checks an integer `>= min`.
 *
 * @throws {TypeError} for non-integers; {RangeError} below `min`.
 * @example
 * ```ts
 * checkInt("stepLr", "stepSize", 10, 1); // 10
 * ```
 */
export function checkInt(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`${op}: ${name} must be an integer (got ${fmtValue(v)})`);
  if (v < min) throw new RangeError(`${op}: ${name} must be >= ${min} (got ${v})`);
  return v;
}

/**
 * Checks a boolean.
 *
 * @throws {TypeError} for anything else.
 * @example
 * ```ts
 * checkBool("SGD", "nesterov", true); // true
 * ```
 */
export function checkBool(op: string, name: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw new TypeError(`${op}: ${name} must be a boolean (got ${fmtValue(v)})`);
  return v;
}

/**
 * Checks that `v` is one of `choices`.
 *
 * @throws {TypeError} otherwise, listing the choices.
 * @example
 * ```ts
 * checkChoice("clipGradNorm", "compat", "torch", ["torch", "optax"] as const); // "torch"
 * ```
 */
export function checkChoice<T extends string>(op: string, name: string, v: unknown, choices: readonly T[]): T {
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
    throw new TypeError(`${op}: ${name} must be one of ${choices.map((c) => `"${c}"`).join(", ")} (got ${fmtValue(v)})`);
  }
  return v as T;
}

/**
 * Throws when an options object has keys outside `known` (catches typos such as `weight_decay`).
 *
 * @throws {TypeError} naming the first unknown key and the accepted ones.
 * @example
 * ```ts
 * checkKeys("SGD", { lr: 0.1, weight_decay: 1 }, ["lr", "weightDecay"]); // throws
 * ```
 */
export function checkKeys(op: string, obj: object, known: readonly string[], what = "option"): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) throw new TypeError(`${op}: unknown ${what} "${k}" (expected one of ${known.join(", ")})`);
  }
}

/**
 * How {@link checkHypers} checks one hyper-parameter: {@link checkNonNegative}, {@link checkFinite},
 * {@link checkBool}, a closed range `[lo, hi]` ({@link checkRange}), or a check of its own.
 *
 * @example
 * ```ts
 * const alphaRule: HyperRule = [0, 1];
 * ```
 */
export type HyperRule = "nonNegative" | "finite" | "bool" | readonly [lo: number, hi: number] | ((op: string, name: string, v: unknown) => unknown);

/**
 * A rule for every hyper-parameter of `H` (all keys required, so no option goes unchecked).
 *
 * @example
 * ```ts
 * const rules: HyperRules<{ lr: number; nesterov: boolean }> = { lr: "nonNegative", nesterov: "bool" };
 * ```
 */
export type HyperRules<H> = { readonly [K in keyof H]-?: HyperRule };

/**
 * Checks each hyper-parameter of `h` by its rule, in the order of `rules`.
 *
 * @throws {TypeError} / {RangeError} from the first failing check.
 * @example
 * ```ts
 * checkHypers("SGD", { lr: -1, nesterov: false }, { lr: "nonNegative", nesterov: "bool" }); // throws "SGD: lr must be >= 0 (got -1)"
 * ```
 */
export function checkHypers<H extends object>(op: string, h: H, rules: HyperRules<H>): void {
  for (const name of Object.keys(rules) as (keyof H & string)[]) {
    const rule = rules[name], v: unknown = h[name];
    if (rule === "nonNegative") checkNonNegative(op, name, v);
    else if (rule === "finite") checkFinite(op, name, v);
    else if (rule === "bool") checkBool(op, name, v);
    else if (typeof rule === "function") rule(op, name, v);
    else checkRange(op, name, v, rule[0], rule[1]);
  }
}

/**
 * Checks a kernel builder's configuration: an object whose listed flags are booleans (the rule
 * builders cache one kernel per flag combination, so a wrong type would build a wrong kernel).
 *
 * @throws {TypeError} `<op>: …` naming the configuration or the flag.
 * @example
 * ```ts
 * checkFlags("adamRule", c, ["decoupled", "l2", "amsgrad", "epsRoot"]);
 * ```
 */
export function checkFlags(op: string, config: unknown, keys: readonly string[]): void {
  if (config === null || typeof config !== "object") throw new TypeError(`${op}: config must be an object of boolean flags (got ${fmtValue(config)})`);
  for (const k of keys) {
    const v = (config as Record<string, unknown>)[k];
    if (typeof v !== "boolean") throw new TypeError(`${op}: config.${k} must be a boolean (got ${fmtValue(v)})`);
  }
}

/**
 * Checks one boolean flag of a kernel builder.
 *
 * @throws {TypeError} `<op>: <name> must be a boolean (got …)`.
 * @example
 * ```ts
 * checkFlag("lionRule", "decay", decay);
 * ```
 */
export function checkFlag(op: string, name: string, v: unknown): void {
  if (typeof v !== "boolean") throw new TypeError(`${op}: ${name} must be a boolean (got ${fmtValue(v)})`);
}
