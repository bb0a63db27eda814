/**
 * @file The bad-input catalogue's entry type (issue 17). Each entry is one bad call to one export
 * of a package's public index, with the typed error it must throw and a pattern for its message.
 * The entries live in `entries/<package>.ts` (data only); `catalogue.test.ts` runs them and
 * `scripts/catalogue-table.ts` renders them into `docs/guides/bad-input.md`.
 */

/** Any error class an entry may expect (never plain `Error` for bad user input). */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** The kind of bad input, one column of the rendered table. */
export type BadKind = "shape" | "type" | "non-finite" | "negative" | "fractional" | "value";

export interface BadCall {
  /** The export of the package index this entry exercises (a function or a class). */
  fn: string;
  /**
   * The name the error message must carry, when it is not `fn`: a method (`"reshape"` for
   * `Tensor.reshape`, `"step"` for `SGD.step`), or the inner op a class delegates to.
   */
  name?: string;
  /** What is wrong with the input, in a few words (the table's "bad input" column). */
  what: string;
  kind: BadKind;
  /** The bad call (may return a promise; then the promise must reject). */
  call: () => unknown;
  /** The error class the call must throw (instanceof). */
  error?: ErrorClass;
  /** A pattern the message must match. */
  message?: RegExp;
  /** Set when the call does not yet fail as it should: reported as a todo, not run as a pass. */
  knownGap?: string;
}

/** The packages the catalogue covers, in the order the table lists them. */
export const PACKAGES = ["tensor", "autograd", "optim", "nn", "compress", "privacy", "io"] as const;
export type PackageName = (typeof PACKAGES)[number];
