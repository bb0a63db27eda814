import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Resolve workspace packages to their TypeScript sources (the "source" export condition).
    conditions: ["source"],
  },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    // run inside Chromium by vitest.browser.config.ts (pnpm test:browser)
    exclude: ["test/browser/**", "**/node_modules/**"],
    testTimeout: 60_000,
    // TAPEGRAD_KERNELS=js|wasm|auto picks the kernel set for the run (see the file).
    setupFiles: ["test/setup-backend.ts"],
    // Lets memory tests force a collection (globalThis.gc) to prove the tape is released.
    execArgv: ["--expose-gc"],
  },
});
