/**
 * @file The libraries and backends benchmarks run on. tapegrad runs on its pure TypeScript
 * kernels ("js") and, when its default kernel set is a different one (e.g. WebAssembly), on that
 * too. Other libraries (tfjs-cpu, tfjs-wasm, ...) will be added here as more {@link Target}s.
 */
import { jsKernels, kernels, useDefaultKernels, useKernels, type KernelSet } from "@tapegrad/tensor";
import type { Target } from "./types.js";

function tapegradTarget(set: KernelSet): Target {
  return {
    library: "tapegrad",
    backend: set.name,
    threads: 1,
    enter() {
      const prev = useKernels(set);
      return () => {
        useDefaultKernels();
        if (prev !== kernels()) useKernels(prev);
      };
    },
  };
}

/** All targets available in this process, pure TypeScript first. */
export function availableTargets(): Target[] {
  const auto = kernels();
  const targets = [tapegradTarget(jsKernels)];
  if (auto.name !== jsKernels.name) targets.push(tapegradTarget(auto));
  return targets;
}
