/**
 * @file How the calling thread takes work items from the pool's control block ({@link take},
 * {@link grab}): the same compare-and-swap steps as the worker program's `take` and `grab` in
 * `protocol.ts` (which is a string constant, so the two are written twice on purpose and must
 * change together). Used by `WorkerPool` (`pool.ts`).
 */
/**
 * The calling thread's (id 0) next item of the phase whose cursor block starts at word `base`, as
 * the worker program's `grab` takes it: its own range first, then the other threads' in turn
 * (thread-affine hand-out, see `protocol.ts`); -1 when none is left.
 *
 * @throws never.
 * @example
 * ```ts
 * const g = grab(ctl, Ctl.cursor, tag, 2, items); // phase 0 of a job on 2 threads
 * ```
 */
export function grab(c: Int32Array, base: number, tag: number, limit: number, items: number): number {
  for (let v = 0; v < limit; v++) {
    const g = take(c, base + v, tag, Math.floor(((v + 1) * items) / limit));
    if (g >= 0) return g;
  }
  return -1;
}

/**
 * Takes the next item from control word `w` (`tag << 24 | item`, compare-and-swap) while it is
 * below `hi` and the word still belongs to job `tag`; -1 otherwise.
 *
 * @throws never.
 * @example
 * ```ts
 * const g = take(ctl, Ctl.cursor + 1, tag, hi); // an item of thread 1's range of phase 0
 * ```
 */
export function take(c: Int32Array, w: number, tag: number, hi: number): number {
  for (;;) {
    const o = Atomics.load(c, w);
    if (o >>> 24 !== tag || (o & 0xffffff) >= hi) return -1;
    if (Atomics.compareExchange(c, w, o, o + 1) === o) return o & 0xffffff;
  }
}
