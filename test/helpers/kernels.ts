/**
 * @file Running test code on a given kernel set and restoring the previous one afterwards.
 */
import { useKernels, type KernelSet } from "@tapegrad/tensor";

/** Runs `fn` with `set` as the active kernel set; the previous set is restored even when `fn` throws. */
export function withKernels<T>(set: KernelSet, fn: () => T): T {
  const prev = useKernels(set);
  try {
    return fn();
  } finally {
    useKernels(prev);
  }
}
