/**
 * @file Vite config of the live clipping page (`pnpm web`, `pnpm web:build`). Both servers send
 * COOP/COEP so the page is cross-origin isolated (SharedArrayBuffer → the kernels' worker
 * threads); workspace packages resolve to their TypeScript sources (the "source" condition, as
 * `tsx --conditions=source` does); the training worker is an ES module worker.
 */
import { fileURLToPath } from "node:url";
import { defaultClientConditions, defineConfig } from "vite";

/** Headers that make the page cross-origin isolated. */
export const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "./",
  clearScreen: false,
  resolve: { conditions: ["source", ...defaultClientConditions] },
  worker: { format: "es" },
  server: { port: 5173, strictPort: true, headers: ISOLATION_HEADERS },
  preview: { port: 4173, headers: ISOLATION_HEADERS },
  build: { outDir: fileURLToPath(new URL("../../out/web", import.meta.url)), emptyOutDir: true, target: "es2022" },
});
