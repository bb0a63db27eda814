/**
 * @file Grad mode: whether ops applied now are recorded on the tape ({@link noGrad},
 * {@link enableGrad}, {@link isGradEnabled}).
 */

let gradEnabled = true;

/**
 * True while ops are being recorded (false inside {@link noGrad}).
 *
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
 * @example
 * ```ts
 * const logits = noGrad(() => model.forward(x)); // no graph is built
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Runs `fn` with recording on, even inside {@link noGrad}.
 *
 * @example
 * ```ts
 * noGrad(() => enableGrad(() => sum(mul(w, w))));
 * ```
 */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
