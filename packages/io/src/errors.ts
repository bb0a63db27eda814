/**
 * @file The one error a malformed safetensors file raises, with its category (the names of the
 * golden README's reader table) so callers can tell a truncated download from a bad header.
 */

/** Why a file was refused; the names of the safetensors golden README's reader table. */
export type SafetensorsErrorCategory =
  | "truncated"
  | "header_too_large"
  | "invalid_json"
  | "invalid_header"
  | "dtype"
  | "duplicate"
  | "size_mismatch"
  | "overlap"
  | "gap"
  | "trailing_bytes";

/**
 * Every category, in the reference's check order.
 *
 * @example
 * ```ts
 * SAFETENSORS_ERROR_CATEGORIES.includes("gap"); // true
 * ```
 * @throws never (a constant).
 */
export const SAFETENSORS_ERROR_CATEGORIES: readonly SafetensorsErrorCategory[] = [
  "truncated", "header_too_large", "invalid_json", "invalid_header", "dtype", "duplicate", "size_mismatch", "overlap", "gap", "trailing_bytes",
];

/**
 * Thrown by {@link readSafetensors} for a malformed file: `category` says which rule the file
 * breaks, the message names the tensor, offsets or values involved.
 *
 * @throws never when constructed (it is the error the reader throws).
 * @example
 * ```ts
 * try { readSafetensors(bytes); } catch (e) {
 *   if (e instanceof SafetensorsError && e.category === "truncated") console.log("incomplete download:", e.message);
 * }
 * ```
 */
export class SafetensorsError extends Error {
  /** Which rule the file breaks. */
  readonly category: SafetensorsErrorCategory;

  constructor(category: SafetensorsErrorCategory, message: string) {
    super(`readSafetensors: ${message} (${category})`);
    this.name = "SafetensorsError";
    this.category = category;
  }
}
