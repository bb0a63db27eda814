/**
 * @file Memory stays flat when models are created and dropped without any call: 1,000 models
 * (784-256-10, one Adam step each, so every parameter has a gradient and two moment buffers) are
 * built, trained for a step and dropped in a plain loop. Long-lived storage outside the JS heap is
 * bounded by its budget and comes back through the garbage collector's finalizer; JS memory is
 * the collector's as always.
 */
import { describe, expect, it } from "vitest";
import { Rng, memoryStats, randn } from "@tapegrad/tensor";
import { crossEntropy } from "@tapegrad/autograd";
import { Linear, ReLU, Sequential } from "@tapegrad/nn";
import { Adam } from "@tapegrad/optim";

const MB = 1 << 20;

describe("creating and dropping models", () => {
  it("1,000 models 784-256-10 with Adam state, dropped without dispose(): memory stays flat", () => {
    const rng = new Rng(0);
    const x = randn([8, 784], rng), y = Int32Array.from({ length: 8 }, (_, i) => i % 10);
    const oneModel = () => {
      const net = new Sequential(new Linear(784, 256, { rng }), new ReLU(), new Linear(256, 10, { rng }));
      const opt = new Adam(net.parameters(), { lr: 1e-3 });
      opt.zeroGrad();
      crossEntropy(net.forward(x), y).backward();
      opt.step();
      return net.parameters().reduce((n, p) => n + p.size, 0);
    };
    const perModel = 4 * 4 * oneModel(); // bytes: value, gradient, two moments
    const sample = () => ({ kernel: memoryStats().kernelMemoryBytes, rss: process.memoryUsage().rss });
    let warm = sample();
    let peakRss = 0;
    for (let i = 1; i <= 1000; i++) {
      oneModel();
      if (i === 300) warm = sample();
      if (i > 300 && i % 50 === 0) peakRss = Math.max(peakRss, sample().rss);
    }
    const end = sample();
    // Without collection, 1,000 models would hold 1,000 × 3.3 MB ≈ 3.3 GB.
    expect(perModel * 1000).toBeGreaterThan(3e9);
    // After warm-up neither the wasm memory nor the process grows any more.
    expect(end.kernel).toBe(warm.kernel);
    expect(end.kernel).toBeLessThanOrEqual(2 * memoryStats().budget); // growth steps overshoot; pages never touched cost nothing
    expect(peakRss - warm.rss).toBeLessThan(256 * MB);
    expect(end.rss - warm.rss).toBeLessThan(256 * MB);
  });
});
