/**
 * @file Grad mode: whether ops applied now are recorded on the tape ({@link noGrad},
 * {@link enableGrad}, {@link isGradEnabled}).
 */

let gradEnabled = true;

/**
 * True while ops are being recorded (false inside {@link noGrad}).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * isGradEnabled(); // true
 * ```
 */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording ops (evaluation, parameter updates). Synchronous only: the mode is
 * restored when `fn` returns or throws. Nests.
 *
 * @throws whatever `fn` throws (after the mode is restored).
 * @example
 * ```ts
 * const logits = noGrad(() => model.forward(x)); // no graph is built
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new TypeError(`noGrad: fn must be a function (got ${fn === null ? "null" : typeof fn})`);
  return withGradMode(false, fn);
}

/**
 * Runs `fn` with recording on, even inside {@link noGrad}.
 *
 * @throws whatever `fn` throws (after the mode is restored).
 * @example
 * ```ts
 * noGrad(() => enableGrad(() => sum(mul(w, w))));
 * ```
 */
export function enableGrad<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new TypeError(`enableGrad: fn must be a function (got ${fn === null ? "null" : typeof fn})`);
  return withGradMode(true, fn);
}

/** Runs `fn` with recording set to `enabled`, restoring the previous mode when it returns or throws. */
function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
