/**
 * The calling thread's side of the pool's item hand-out (`threads/take.ts`), on a control block
 * without workers: one cursor word, and thread-affine ranges (own range first, then the other
 * threads' in turn), both refusing words of another job.
 */
import { describe, expect, it } from "vitest";
import { grab, take } from "../../packages/tensor/src/wasm/threads/take.js";

const TAG = 7;
const word = (tag: number, item: number) => (tag << 24) | item;

describe("pool item hand-out", () => {
  it("take: counts up below hi, stops at hi, refuses another job's word", () => {
    const c = new Int32Array(4);
    c[1] = word(TAG, 0);
    expect([take(c, 1, TAG, 3), take(c, 1, TAG, 3), take(c, 1, TAG, 3), take(c, 1, TAG, 3)]).toEqual([0, 1, 2, -1]);
    expect(c[1]! & 0xffffff).toBe(3);
    expect(take(c, 1, TAG + 1, 100)).toBe(-1); // a thread lagging behind with an older tag
    c[2] = word(255, 5); // the largest tag makes the word negative
    expect(take(c, 2, 255, 0x1000000)).toBe(5);
    expect(c[2]).toBe(word(255, 6));
  });

  it("grab: thread 0 takes its own range ⌊t·N/n⌋.. first, then the others' in turn, each item once", () => {
    const n = 3, items = 10, c = new Int32Array(8);
    for (let t = 0; t < n; t++) c[t] = word(TAG, Math.floor((t * items) / n)); // ranges 0-2, 3-5, 6-9
    const taken: number[] = [];
    for (let g = grab(c, 0, TAG, n, items); g >= 0; g = grab(c, 0, TAG, n, items)) taken.push(g);
    expect(taken).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(grab(c, 0, TAG, n, items)).toBe(-1);
  });

  it("grab: what another thread already took from its range is not handed out again", () => {
    const n = 2, items = 8, c = new Int32Array(4);
    c[0] = word(TAG, 0);
    c[1] = word(TAG, 4);
    expect(take(c, 1, TAG, 8)).toBe(4); // thread 1 took items 4 and 5 of its own range
    expect(take(c, 1, TAG, 8)).toBe(5);
    const taken: number[] = [];
    for (let g = grab(c, 0, TAG, n, items); g >= 0; g = grab(c, 0, TAG, n, items)) taken.push(g);
    expect(taken).toEqual([0, 1, 2, 3, 6, 7]);
  });

  it("grab: a block written for another job hands out nothing", () => {
    const c = new Int32Array(4);
    c[0] = word(TAG, 0);
    c[1] = word(TAG, 2);
    expect(grab(c, 0, TAG + 1, 2, 4)).toBe(-1);
  });
});
