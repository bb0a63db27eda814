/**
 * @file In the browser (vitest.browser.config.ts): the golden files whose handlers need only the
 * JSON, fetched over HTTP from the dev server, every case passing; and the environment the tests
 * ran in (a real browser, the wasm SIMD kernels).
 */
import { describe, expect, it } from "vitest";
import { kernels, simdSupported } from "@tapegrad/tensor";
import { PORTABLE_HANDLERS } from "../golden/handlers.js";
import type { GoldenFile } from "../golden/schema.js";

declare const __GOLDEN_URL__: string;

describe("in a real browser", () => {
  it("runs in Chromium on the wasm SIMD kernels", () => {
    expect(typeof window).toBe("object");
    expect(navigator.userAgent).toMatch(/Chrome/);
    expect(simdSupported()).toBe(true);
    expect(kernels().name).toBe("wasm");
  });
});

describe("golden files fetched over HTTP", () => {
  for (const [path, handler] of Object.entries(PORTABLE_HANDLERS)) {
    it(path, async () => {
      const res = await fetch(`${__GOLDEN_URL__}/${path}`);
      expect(res.ok, `GET ${path}: ${res.status}`).toBe(true);
      const file = (await res.json()) as GoldenFile;
      expect(file.cases.length).toBeGreaterThan(0);
      const results = handler(file);
      const failed = results.filter((r) => r.status === "failed");
      expect(failed.map((r) => `${r.name}: ${r.message}`)).toEqual([]);
      expect(results.filter((r) => r.status === "passed").length).toBeGreaterThan(0);
    });
  }
});
