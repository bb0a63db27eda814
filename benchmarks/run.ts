/**
 * @file Entry point of `pnpm bench` (see README.md and `cli.ts`). This process only orchestrates:
 * every measurement runs in a fresh `node` process (`child.ts`) started with `--require
 * preload.cjs` ahead of the same loader flags, so that no ArrayBuffer detach from another
 * library, another backend or from loading CommonJS through tsx slows what is being measured.
 *
 * @example
 * ```sh
 * pnpm bench --json
 * ```
 */
export {};
await import("./cli.js");
