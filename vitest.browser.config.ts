/**
 * Vitest in a real browser (`pnpm test:browser`): the tensor, autograd and optim unit tests (all
 * but the few that need Node: child processes, file reads) and every golden file a handler can run
 * from its JSON alone, fetched over HTTP from the dev server, run inside headless Chromium
 * (Debian's /usr/bin/chromium, driven by playwright; no browser download). The page is
 * cross-origin isolated, so the wasm kernels' worker threads are available as in a real app.
 */
import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import { goldenDir } from "./test/golden/dir.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const golden = goldenDir();

export default defineConfig({
  resolve: { conditions: ["source"] },
  // the kernel set is the browser's default (wasm); tests that read TAPEGRAD_KERNELS see it unset
  define: { __GOLDEN_URL__: JSON.stringify(`/@fs${golden}`), "process.env.TAPEGRAD_KERNELS": "undefined" },
  server: {
    fs: { allow: [".", golden] },
    headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" },
  },
  test: {
    include: ["test/tensor/**/*.test.ts", "test/autograd/**/*.test.ts", "test/optim/**/*.test.ts", "test/browser/**/*.test.ts"],
    // these spawn Node processes, read files with node:fs, or re-import the package with mocked globals
    exclude: ["test/tensor/wasm-fallback.test.ts", "test/tensor/js-backend.test.ts", "test/tensor/wasm-threads.test.ts", "test/tensor/wasm-threads-lifecycle.test.ts", "test/tensor/gemm-int8-golden.test.ts", "test/tensor/golden-forward.test.ts", "test/optim/optimizers2.test.ts"],
    testTimeout: 60_000,
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: ["--no-sandbox", "--js-flags=--expose-gc"] } }),
      instances: [{ browser: "chromium" }],
      screenshotFailures: false,
    },
  },
});
