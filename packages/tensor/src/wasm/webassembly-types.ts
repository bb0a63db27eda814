/**
 * @file The WebAssembly types that this package's declaration files name (`WasmArena`'s module
 * and memory, the worker start-up message), declared so that a consumer compiled without lib
 * `"DOM"` (e.g. `lib: ["ES2022"]`, `types: ["node"]`: neither ES2022 nor `@types/node` declares
 * the `WebAssembly` namespace) still type-checks them with `skipLibCheck: false`.
 *
 * The declarations are empty interfaces in a type-only namespace: they merge with lib.dom's (and
 * lib.webworker's) `WebAssembly.Module`/`WebAssembly.Memory` when those are present, adding
 * nothing and conflicting with nothing, and are opaque handles when they are not. Public types
 * name the aliases below, so every declaration file that mentions them imports this one.
 * Nothing here exists at run time.
 */
declare global {
  namespace WebAssembly {
    interface Module {}
    interface Memory {}
  }
}

/** A compiled WebAssembly module (`WebAssembly.Module`). */
export type WasmModule = WebAssembly.Module;
/** A WebAssembly linear memory (`WebAssembly.Memory`). */
export type WasmMemory = WebAssembly.Memory;
