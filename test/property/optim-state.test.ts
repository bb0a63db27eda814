/**
 * @file Property test of optimizer (and scheduler) state round trips (packages/optim): for SGD
 * (momentum, dampening, nesterov, weight decay), Adam and AdamW (amsgrad), RMSprop (momentum,
 * centered) and Adagrad (lr decay, initial accumulator), optionally with a clip stage (stateless
 * clipGradNorm or the stateful AutoClip) and a scheduler (OneCycleLR with its momentum cycle,
 * CosineAnnealingWarmRestarts, ReduceLROnPlateau): run k random steps, save `stateDict()` through
 * JSON.stringify/parse (Float32Arrays as number lists), `loadStateDict` into a fresh optimizer
 * (and scheduler) over cloned parameters, run m more identical steps on both: the parameters must
 * be bit-identical, and so must the learning rates.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Rng, Tensor } from "@tapegrad/tensor";
import { variable, type Var } from "@tapegrad/autograd";
import {
  Adagrad, Adam, AdamW, AutoClip, CosineAnnealingWarmRestarts, OneCycleLR, RMSprop, ReduceLROnPlateau, SGD, clipGradNorm,
  type GradTransform, type Optimizer,
} from "@tapegrad/optim";
import { runs, seedArb, shapeArb } from "./arbitraries.js";

type Clip = "none" | "norm" | "autoclip";
type Sched = "none" | "onecycle" | "restarts" | "plateau";

const OPTIMIZERS: Record<string, (ps: Var[], clip: GradTransform | undefined, h: number[]) => Optimizer> = {
  "SGD momentum": (ps, clip, h) => new SGD(ps, { lr: 0.05 + h[0]! * 0.1, momentum: 0.5 + h[1]! * 0.4, dampening: h[2]! * 0.5, weightDecay: h[3]! * 0.01, clip }),
  "SGD nesterov": (ps, clip, h) => new SGD(ps, { lr: 0.05 + h[0]! * 0.1, momentum: 0.5 + h[1]! * 0.4, nesterov: true, clip }),
  Adam: (ps, clip, h) => new Adam(ps, { lr: 0.01 + h[0]! * 0.05, amsgrad: h[1]! < 0.5, weightDecay: h[2]! * 0.01, clip }),
  AdamW: (ps, clip, h) => new AdamW(ps, { lr: 0.01 + h[0]! * 0.05, amsgrad: h[1]! < 0.5, weightDecay: h[2]! * 0.1, clip }),
  RMSprop: (ps, clip, h) => new RMSprop(ps, { lr: 0.01 + h[0]! * 0.02, momentum: h[1]! * 0.9, centered: h[2]! < 0.5, clip }),
  Adagrad: (ps, clip, h) => new Adagrad(ps, { lr: 0.05 + h[0]! * 0.1, lrDecay: h[1]! * 0.01, initialAccumulatorValue: h[2]! * 0.1, clip }),
};

interface Scheduler {
  step(metric?: number): void;
  stateDict(): unknown;
  loadStateDict(s: never): void;
}

function makeScheduler(kind: Sched, opt: Optimizer, total: number): Scheduler | null {
  switch (kind) {
    case "none": return null;
    // OneCycleLR cycles momentum (SGD) or beta1 (Adam-family); RMSprop/Adagrad without momentum do not take it
    case "onecycle": return new OneCycleLR(opt, { maxLr: 0.2, totalSteps: total, cycleMomentum: opt instanceof SGD || opt instanceof Adam }) as unknown as Scheduler;
    case "restarts": return new CosineAnnealingWarmRestarts(opt, { t0: 2, tMult: 2, etaMin: 0.001 }) as unknown as Scheduler;
    case "plateau": return new ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 }) as unknown as Scheduler;
  }
}

/** A JSON round trip that keeps typed arrays as number lists. */
function throughJson<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Float32Array || v instanceof Float64Array ? Array.from(v) : v))) as T;
}

const bits = (ps: readonly Var[]): number[] => ps.flatMap((p) => Array.from(new Uint32Array(p.value.toFloat32Array().slice().buffer)));

const caseArb = fc.record({
  opt: fc.constantFrom(...Object.keys(OPTIMIZERS)),
  hyper: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }),
  clip: fc.constantFrom<Clip>("none", "norm", "autoclip"),
  sched: fc.constantFrom<Sched>("none", "onecycle", "restarts", "plateau"),
  shapes: fc.array(shapeArb(0, 2, 4), { minLength: 1, maxLength: 3 }),
  k: fc.integer({ min: 0, max: 6 }),
  m: fc.integer({ min: 1, max: 6 }),
  seed: seedArb,
});

describe("optimizer state round trips", () => {
  it("k steps, stateDict → JSON → loadStateDict into a fresh optimizer, m more steps: bit-identical parameters", () => {
    fc.assert(
      fc.property(caseArb, ({ opt: name, hyper, clip, sched, shapes, k, m, seed }) => {
        const rng = new Rng(seed);
        const init = shapes.map((s) => new Tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()), s));
        const grads = Array.from({ length: k + m }, () => init.map((t) => Float32Array.from({ length: t.size }, () => rng.normal() * 2)));
        const metrics = Array.from({ length: k + m }, () => rng.random());
        const clipOf = (): GradTransform | undefined => (clip === "norm" ? clipGradNorm.transform(1) : clip === "autoclip" ? new AutoClip({ percentile: 50 }) : undefined);
        const make = (): { ps: Var[]; opt: Optimizer; sch: Scheduler | null } => {
          const ps = init.map((t) => variable(t.clone()));
          const opt = OPTIMIZERS[name]!(ps, clipOf(), hyper);
          return { ps, opt, sch: makeScheduler(sched, opt, k + m + 1) };
        };
        const run = (x: ReturnType<typeof make>, from: number, to: number): void => {
          for (let t = from; t < to; t++) {
            x.ps.forEach((p, i) => (p.grad = new Tensor(grads[t]![i]!.slice(), init[i]!.shape)));
            x.opt.step();
            if (x.sch) sched === "plateau" ? x.sch.step(metrics[t]) : x.sch.step();
          }
        };
        const a = make();
        run(a, 0, k);
        const savedOpt = throughJson(a.opt.stateDict());
        const savedSched = a.sch ? throughJson(a.sch.stateDict()) : null;
        const b = make();
        b.opt.loadStateDict(savedOpt);
        if (b.sch) b.sch.loadStateDict(savedSched as never);
        // the restored copy starts exactly where the original is
        expect(b.opt.paramGroups.map((g) => g.lr)).toEqual(a.opt.paramGroups.map((g) => g.lr));
        b.ps.forEach((p, i) => p.value.data.set(a.ps[i]!.value.toFloat32Array())); // "cloned params"
        run(a, k, k + m);
        run(b, k, k + m);
        expect(bits(b.ps)).toEqual(bits(a.ps));
        expect(b.opt.paramGroups.map((g) => g.lr)).toEqual(a.opt.paramGroups.map((g) => g.lr));
        expect(throughJson(b.opt.stateDict())).toEqual(throughJson(a.opt.stateDict()));
      }),
      runs(5100, 600),
    );
  });
});
