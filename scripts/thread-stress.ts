/**
 * @file Dev helper that hunts thread-pool races: it runs small GEMMs of several shapes (one wider
 * than 2,048 columns, so it runs as several pool jobs), sum-of-squares vector jobs and `exp` map
 * jobs on storage in wasm memory, interleaved, on 2 threads for a while. Each result is compared
 * bit for bit with the 1-thread result computed first, and the script prints how many differed
 * (exit status 1 when any did).
 *
 * Races need a worker to be descheduled at the wrong moment. To make that likely, run several
 * copies at once on a machine with few cores:
 * `for i in 1 2 3 4; do tsx --conditions=source scripts/thread-stress.ts 60 $i & done; wait`
 * (arguments: seconds, seed). The race fixed in `3523fdf` (a lagging worker running items of the
 * next job) showed up as 7 wrong products in 2.75 million with four copies on two cores.
 */
import { Rng, allocate, exp, foreachSumSquares, matmul, randn, setNumThreads, threadsReady, zeros } from "@tapegrad/tensor";

const seconds = Number(process.argv[2] ?? 20);
const rng = new Rng(Number(process.argv[3] ?? 1));
const shapes = [[48, 48, 48], [64, 56, 48], [56, 64, 72], [96, 40, 48], [48, 96, 64], [40, 200, 48], [128, 48, 24], [24, 40, 2600]] as const;
const products = shapes.map(([m, k, n]) => ({ a: randn([m, k], rng), b: randn([k, n], rng) }));
const lists = [70_001, 90_000].map((n) => {
  const x = allocate(n, { persistent: true });
  for (let i = 0; i < n; i++) x[i] = rng.normal();
  return x;
});
const len = 300_001;
const a = zeros([len], { persistent: true }), out = zeros([len], { persistent: true });
for (let i = 0; i < len; i++) a.data[i] = rng.normal() * 3;

setNumThreads(1);
const refProducts = products.map((p) => matmul(p.a, p.b).data.slice());
const refSumSquares = foreachSumSquares(lists);
exp(a, out);
const refExp = out.data.slice();

setNumThreads(2, { adaptive: false });
if ((await threadsReady()) !== 2) throw new Error("thread-stress: 2 threads could not start here");
const differs = (x: Float32Array, y: Float32Array) => {
  for (let i = 0; i < y.length; i++) if (!Object.is(x[i], y[i])) return true;
  return false;
};
const kinds = products.length + 2;
let ops = 0, wrong = 0;
for (const t0 = performance.now(); performance.now() - t0 < seconds * 1000; ) {
  for (let r = 0; r < 200; r++, ops++) {
    const i = ops % kinds;
    let bad: boolean;
    if (i < products.length) bad = differs(matmul(products[i]!.a, products[i]!.b).data, refProducts[i]!);
    else if (i === products.length) bad = foreachSumSquares(lists) !== refSumSquares;
    else {
      out.data.fill(0);
      exp(a, out);
      bad = differs(out.data, refExp);
    }
    if (bad) {
      wrong++;
      console.log(`op ${ops}: ${i < products.length ? `matmul ${shapes[i]!.join("x")}` : i === products.length ? "foreachSumSquares" : "exp"} differs from 1 thread`);
    }
  }
}
setNumThreads(1);
console.log(`${ops} operations on 2 threads, ${wrong} differed from 1 thread`);
process.exitCode = wrong === 0 ? 0 : 1;
