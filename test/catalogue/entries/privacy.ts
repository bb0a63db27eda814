/**
 * @file Bad-input catalogue: `@tapegrad/privacy` (data only; see ../types.ts). One entry per line.
 */
import * as t from "@tapegrad/tensor";
import * as nn from "@tapegrad/nn";
import { SGD } from "@tapegrad/optim";
import * as p from "@tapegrad/privacy";
import type { BadCall } from "../types.js";

const S = "x" as any;
const U = undefined as any;
const O = {} as any;
const G = (): p.PerExampleGrad[] => [{ data: new Float32Array(6), shape: [2, 3] }];
const rng = (): t.Rng => new t.Rng(0);
const opt = (): SGD => new SGD(new nn.Linear(2, 2, { rng: rng() }).parameters(), { lr: 0.1 });
const dp = (o: Record<string, unknown>): p.DPOptimizer => new p.DPOptimizer(opt(), { noiseMultiplier: 1, maxGradNorm: 1, sampleRate: 0.1, rng: rng(), ...o } as any);
const mp = (o: Record<string, unknown>): unknown => { const m = new nn.Linear(2, 2, { rng: rng() }); return p.makePrivate({ module: m, optimizer: new SGD(m.parameters(), { lr: 0.1 }), datasetSize: 100, batchSize: 10, maxGradNorm: 1, noiseMultiplier: 1, delta: 1e-5, rng: rng(), ...o } as any); };

export const entries: BadCall[] = [
  // special functions
  { fn: "erfc", what: "argument is a string", kind: "type", call: () => p.erfc(S), knownGap: "scalar special function: NaN in, NaN out (as Math.*); a check would cost in the accountant's inner loops" },
  { fn: "logErfc", what: "argument is undefined", kind: "type", call: () => p.logErfc(U), knownGap: "scalar special function: NaN in, NaN out (as Math.*); a check would cost in the accountant's inner loops" },
  { fn: "binom", what: "negative k", kind: "negative", call: () => p.binom(5, -1), error: RangeError, message: /^binom: k must be a non-negative integer, got -1/ },
  { fn: "binom", what: "fractional k", kind: "fractional", call: () => p.binom(5, 1.5), error: RangeError, message: /^binom: k must be a non-negative integer, got 1\.5/ },
  { fn: "logBinom", what: "NaN alpha", kind: "non-finite", call: () => p.logBinom(NaN, 2), knownGap: "scalar special function: NaN in, NaN out (as Math.*); a check would cost in the accountant's inner loops" },
  { fn: "logBinom", what: "negative k", kind: "negative", call: () => p.logBinom(5, -2), error: RangeError, message: /^logBinom: k must be a non-negative integer, got -2/ },
  { fn: "logAdd", what: "NaN argument", kind: "non-finite", call: () => p.logAdd(NaN, 0), knownGap: "scalar special function: NaN in, NaN out (as Math.*); a check would cost in the accountant's inner loops" },
  { fn: "logSub", what: "x below y", kind: "value", call: () => p.logSub(0, 1), error: RangeError, message: /^logSub: the result of subtraction must be non-negative \(x = 0 < y = 1\)/ },
  { fn: "logSub", what: "NaN argument", kind: "non-finite", call: () => p.logSub(NaN, 0), knownGap: "scalar special function: NaN in, NaN out (as Math.*); a check would cost in the accountant's inner loops" },
  // RDP
  { fn: "rdpStep", what: "sample rate above 1", kind: "value", call: () => p.rdpStep(1.5, 1, 2), error: RangeError, message: /^rdpStep: sample rate q must be in \[0, 1\], got 1\.5/ },
  { fn: "rdpStep", what: "negative noise multiplier", kind: "negative", call: () => p.rdpStep(0.1, -1, 2), error: RangeError, message: /^rdpStep: noise multiplier sigma must be >= 0, got -1/ },
  { fn: "rdpStep", what: "NaN alpha", kind: "non-finite", call: () => p.rdpStep(0.1, 1, NaN), error: RangeError, message: /^rdpStep: every RDP order must be > 1, got orders\[0\] = NaN/ },
  { fn: "rdpStep", what: "alpha 1", kind: "value", call: () => p.rdpStep(0.1, 1, 1), error: RangeError, message: /^rdpStep: every RDP order must be > 1, got orders\[0\] = 1/ },
  { fn: "computeRdp", what: "negative steps", kind: "negative", call: () => p.computeRdp(0.1, 1, -1, [2, 4]), error: RangeError, message: /^computeRdp: steps must be a non-negative integer, got -1/ },
  { fn: "computeRdp", what: "fractional steps", kind: "fractional", call: () => p.computeRdp(0.1, 1, 1.5, [2, 4]), error: RangeError, message: /^computeRdp: steps must be a non-negative integer, got 1\.5/ },
  { fn: "computeRdp", what: "an order of 1", kind: "value", call: () => p.computeRdp(0.1, 1, 10, [1, 4]), error: RangeError, message: /^computeRdp: every RDP order must be > 1, got orders\[0\] = 1/ },
  { fn: "computeRdp", what: "NaN sample rate", kind: "non-finite", call: () => p.computeRdp(NaN, 1, 10, [2]), error: RangeError, message: /^computeRdp: sample rate q must be in \[0, 1\], got NaN/ },
  { fn: "computeRdp", what: "orders is a string", kind: "type", call: () => p.computeRdp(0.1, 1, 10, S), error: RangeError, message: /^computeRdp: every RDP order must be > 1, got orders\[0\] = x/ },
  { fn: "epsilonPerAlpha", what: "orders and rdp of other lengths", kind: "shape", call: () => p.epsilonPerAlpha({ orders: [2, 4], rdp: [1], delta: 1e-5 }), error: RangeError, message: /^epsilonPerAlpha: orders \(2\) and rdp \(1\) must have the same length/ },
  { fn: "epsilonPerAlpha", what: "delta 0", kind: "value", call: () => p.epsilonPerAlpha({ orders: [2], rdp: [1], delta: 0 }), error: RangeError, message: /^epsilonPerAlpha: delta must be in \(0, 1\), got 0/ },
  { fn: "epsilonPerAlpha", what: "NaN delta", kind: "non-finite", call: () => p.epsilonPerAlpha({ orders: [2], rdp: [1], delta: NaN }), error: RangeError, message: /^epsilonPerAlpha: delta must be in \(0, 1\), got NaN/ },
  { fn: "getPrivacySpent", what: "delta above 1", kind: "value", call: () => p.getPrivacySpent({ orders: [2], rdp: [1], delta: 2 }), error: RangeError, message: /^getPrivacySpent: delta must be in \(0, 1\), got 2/ },
  { fn: "getPrivacySpent", what: "args is undefined", kind: "type", call: () => p.getPrivacySpent(U), error: TypeError, message: /^getPrivacySpent: expected \{ orders, rdp, delta \} \(got undefined\)/ },
  // accountant
  { fn: "RDPAccountant", name: "step", what: "step() with a sample rate above 1", kind: "value", call: () => new p.RDPAccountant().step({ noiseMultiplier: 1, sampleRate: 2 }), error: RangeError, message: /^RDPAccountant\.step: sample rate q must be in \[0, 1\], got 2/ },
  { fn: "RDPAccountant", name: "step", what: "step() with a negative noise multiplier", kind: "negative", call: () => new p.RDPAccountant().step({ noiseMultiplier: -1, sampleRate: 0.1 }), error: RangeError, message: /^RDPAccountant\.step: noise multiplier sigma must be >= 0, got -1/ },
  { fn: "RDPAccountant", name: "step", what: "step() with a NaN noise multiplier", kind: "non-finite", call: () => new p.RDPAccountant().step({ noiseMultiplier: NaN, sampleRate: 0.1 }), error: RangeError, message: /^RDPAccountant\.step: noise multiplier sigma must be >= 0, got NaN/ },
  { fn: "RDPAccountant", name: "step", what: "step() of undefined", kind: "type", call: () => new p.RDPAccountant().step(U), error: TypeError, message: /^RDPAccountant\.step: expected \{ noiseMultiplier, sampleRate \} \(got undefined\)/ },
  { fn: "RDPAccountant", name: "RDPAccountant", what: "getEpsilon() with delta 0", kind: "value", call: () => new p.RDPAccountant().getEpsilon(0), error: RangeError, message: /^RDPAccountant\.getPrivacySpent: delta must be in \(0, 1\), got 0/ },
  { fn: "RDPAccountant", name: "RDPAccountant", what: "getEpsilon() with NaN delta", kind: "non-finite", call: () => new p.RDPAccountant().getEpsilon(NaN), error: RangeError, message: /^RDPAccountant\.getPrivacySpent: delta must be in \(0, 1\), got NaN/ },
  { fn: "RDPAccountant", name: "getPrivacySpent", what: "getPrivacySpent() with delta above 1", kind: "value", call: () => new p.RDPAccountant().getPrivacySpent(1.5), error: RangeError, message: /^RDPAccountant\.getPrivacySpent: delta must be in \(0, 1\), got 1\.5/ },
  { fn: "RDPAccountant", name: "getRdp", what: "getRdp() with an order below 1", kind: "value", call: () => new p.RDPAccountant().getRdp([0.5]), error: RangeError, message: /^RDPAccountant\.getRdp: every RDP order must be > 1, got orders\[0\] = 0\.5/ },
  { fn: "RDPAccountant", name: "loadStateDict", what: "loadStateDict() of a string", kind: "type", call: () => new p.RDPAccountant().loadStateDict(S), error: TypeError, message: /^RDPAccountant\.loadStateDict: state\.history must be an array/ },
  { fn: "RDPAccountant", name: "loadStateDict", what: "loadStateDict() with a negative step count", kind: "negative", call: () => new p.RDPAccountant().loadStateDict({ history: [{ noiseMultiplier: 1, sampleRate: 0.1, steps: -1 }] } as any), error: RangeError, message: /^RDPAccountant\.loadStateDict: history\[0\]\.steps must be a non-negative integer, got -1/ },
  // calibration
  { fn: "getNoiseMultiplier", what: "negative target epsilon", kind: "negative", call: () => p.getNoiseMultiplier({ targetEpsilon: -1, delta: 1e-5, sampleRate: 0.01, steps: 100 }), error: RangeError, message: /^getNoiseMultiplier: targetEpsilon must be a finite number > 0, got -1/ },
  { fn: "getNoiseMultiplier", what: "NaN target epsilon", kind: "non-finite", call: () => p.getNoiseMultiplier({ targetEpsilon: NaN, delta: 1e-5, sampleRate: 0.01, steps: 100 }), error: RangeError, message: /^getNoiseMultiplier: targetEpsilon must be a finite number > 0, got NaN/ },
  { fn: "getNoiseMultiplier", what: "delta 0", kind: "value", call: () => p.getNoiseMultiplier({ targetEpsilon: 3, delta: 0, sampleRate: 0.01, steps: 100 }), error: RangeError, message: /^getNoiseMultiplier: delta must be in \(0, 1\), got 0/ },
  { fn: "getNoiseMultiplier", what: "neither steps nor epochs", kind: "value", call: () => p.getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.01 }), error: RangeError, message: /^getNoiseMultiplier: give exactly one of steps and epochs/ },
  { fn: "getNoiseMultiplier", what: "fractional steps", kind: "fractional", call: () => p.getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.01, steps: 1.5 }), error: RangeError, message: /^getNoiseMultiplier: steps must be a non-negative integer, got 1\.5/ },
  { fn: "getNoiseMultiplier", what: "sample rate above 1", kind: "value", call: () => p.getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 2, steps: 100 }), error: RangeError, message: /^getNoiseMultiplier: sample rate q must be in \(0, 1\], got 2/ },
  { fn: "getNoiseMultiplier", what: "unknown accountant", kind: "value", call: () => p.getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.01, steps: 100, accountant: "prv" as any }), error: RangeError, message: /^getNoiseMultiplier: accountant "prv" is not supported \(only "rdp"\)/ },
  { fn: "getNoiseMultiplier", what: "options is undefined", kind: "type", call: () => p.getNoiseMultiplier(U), error: TypeError, message: /^getNoiseMultiplier: options must be an object \(got undefined\)/ },
  { fn: "calibrateNoiseMultiplier", what: "Infinity target epsilon", kind: "non-finite", call: () => p.calibrateNoiseMultiplier({ targetEpsilon: Infinity, delta: 1e-5, sampleRate: 0.01, steps: 100 }), error: RangeError, message: /^calibrateNoiseMultiplier: targetEpsilon must be a finite number > 0, got Infinity/ },
  { fn: "calibrateNoiseMultiplier", what: "negative epochs", kind: "negative", call: () => p.calibrateNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.01, epochs: -1 }), error: RangeError, message: /^calibrateNoiseMultiplier: epochs must be a finite number > 0, got -1/ },
  { fn: "calibrateNoiseMultiplier", what: "negative tolerance", kind: "negative", call: () => p.calibrateNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.01, steps: 100, epsilonTolerance: -0.1 }), error: RangeError, message: /^calibrateNoiseMultiplier: epsilonTolerance must be > 0, got -0\.1/ },
  // clipping, noise, scaling
  { fn: "clipAndAccumulate", what: "negative max norm", kind: "negative", call: () => p.clipAndAccumulate(G(), { maxGradNorm: -1 }), error: RangeError, message: /^clipAndAccumulate: maxGradNorm must be a finite number > 0, got -1/ },
  { fn: "clipAndAccumulate", what: "NaN max norm", kind: "non-finite", call: () => p.clipAndAccumulate(G(), { maxGradNorm: NaN }), error: RangeError, message: /^clipAndAccumulate: maxGradNorm must be a finite number > 0, got NaN/ },
  { fn: "clipAndAccumulate", what: "max norm is a string", kind: "type", call: () => p.clipAndAccumulate(G(), { maxGradNorm: S }), error: RangeError, message: /^clipAndAccumulate: maxGradNorm\[0\] must be a finite number > 0, got x/ },
  { fn: "clipAndAccumulate", what: "per-layer norms of another count", kind: "shape", call: () => p.clipAndAccumulate(G(), { maxGradNorm: [1, 1] }), error: RangeError, message: /^clipAndAccumulate: per-layer clipping needs one maxGradNorm per parameter: got 2 thresholds for 1 parameters/ },
  { fn: "clipAndAccumulate", what: "data of another length than the shape", kind: "shape", call: () => p.clipAndAccumulate([{ data: new Float32Array(5), shape: [2, 3] }], { maxGradNorm: 1 }), error: RangeError, message: /^clipAndAccumulate: grads\[0\]\.data has 5 elements but shape \[2, 3\] needs 6/ },
  { fn: "clipAndAccumulate", what: "grads is a string", kind: "type", call: () => p.clipAndAccumulate(S, { maxGradNorm: 1 }), error: RangeError, message: /^clipAndAccumulate: grads\[0\]\.data must be a Float32Array/ },
  { fn: "addNoise", what: "negative noise multiplier", kind: "negative", call: () => p.addNoise([new Float32Array(3)], { noiseMultiplier: -1, maxGradNorm: 1, rng: rng() }), error: RangeError, message: /^addNoise: noiseMultiplier must be a finite number >= 0, got -1/ },
  { fn: "addNoise", what: "NaN max norm", kind: "non-finite", call: () => p.addNoise([new Float32Array(3)], { noiseMultiplier: 1, maxGradNorm: NaN, rng: rng() }), error: RangeError, message: /^addNoise: maxGradNorm must be a finite number > 0, got NaN/ },
  { fn: "addNoise", what: "neither rng nor secure", kind: "value", call: () => p.addNoise([new Float32Array(3)], { noiseMultiplier: 1, maxGradNorm: 1 }), error: TypeError, message: /^addNoise: noiseMultiplier > 0 needs an rng \(or secure: true\)/ },
  { fn: "addNoise", what: "summed is a string", kind: "type", call: () => p.addNoise(S, { noiseMultiplier: 1, maxGradNorm: 1, rng: rng() }), error: TypeError, message: /^addNoise: summed must be an array of Float32Arrays \(got string\)/ },
  { fn: "addNoise", what: "rng is not an Rng", kind: "type", call: () => p.addNoise([new Float32Array(3)], { noiseMultiplier: 1, maxGradNorm: 1, rng: O }), error: TypeError, message: /^addNoise: rng must be an Rng \(got object\)/ },
  { fn: "scaleGrad", what: "unknown loss reduction", kind: "value", call: () => p.scaleGrad([new Float32Array(3)], { lossReduction: "avg" as any, expectedBatchSize: 4 }), error: RangeError, message: /^scaleGrad: lossReduction must be "mean" or "sum", got avg/ },
  { fn: "scaleGrad", what: "expected batch size 0", kind: "value", call: () => p.scaleGrad([new Float32Array(3)], { lossReduction: "mean", expectedBatchSize: 0 }), error: RangeError, message: /^scaleGrad: expectedBatchSize must be a positive integer for lossReduction "mean" with divisor "expected", got / },
  { fn: "scaleGrad", what: "NaN expected batch size", kind: "non-finite", call: () => p.scaleGrad([new Float32Array(3)], { lossReduction: "mean", expectedBatchSize: NaN }), error: RangeError, message: /^scaleGrad: expectedBatchSize must be a positive integer for lossReduction "mean" with divisor "expected", got / },
  { fn: "scaleGrad", what: "grads is undefined", kind: "type", call: () => p.scaleGrad(U, { lossReduction: "sum" }), error: TypeError, message: /^scaleGrad: grads must be an array of Float32Arrays \(got undefined\)/ },
  { fn: "gradDivisor", what: "mean without a batch size", kind: "value", call: () => p.gradDivisor({ lossReduction: "mean" }), error: RangeError, message: /^gradDivisor: expectedBatchSize must be a positive integer for lossReduction "mean" with divisor "expected", go/ },
  { fn: "gradDivisor", what: "negative actual batch size", kind: "negative", call: () => p.gradDivisor({ lossReduction: "mean", divisor: "actual", actualBatchSize: -1 }), error: RangeError, message: /^gradDivisor: actualBatchSize must be a positive integer for lossReduction "mean" with divisor "actual", got -1/ },
  { fn: "gradDivisor", what: "fractional accumulated iterations", kind: "fractional", call: () => p.gradDivisor({ lossReduction: "mean", expectedBatchSize: 4, accumulatedIterations: 1.5 }), error: RangeError, message: /^gradDivisor: accumulatedIterations must be a positive integer, got 1\.5/ },
  { fn: "gradDivisor", what: "unknown divisor", kind: "value", call: () => p.gradDivisor({ lossReduction: "mean", expectedBatchSize: 4, divisor: "median" as any }), error: RangeError, message: /^gradDivisor: divisor must be "expected" or "actual", got median/ },
  // Poisson sampling
  { fn: "expectedBatchSize", what: "negative size", kind: "negative", call: () => p.expectedBatchSize(-100, 0.1), error: RangeError, message: /^expectedBatchSize: size must be a non-negative integer, got -100/ },
  { fn: "expectedBatchSize", what: "fractional size", kind: "fractional", call: () => p.expectedBatchSize(10.5, 0.1), error: RangeError, message: /^expectedBatchSize: size must be a non-negative integer, got 10\.5/ },
  { fn: "expectedBatchSize", what: "sample rate above 1", kind: "value", call: () => p.expectedBatchSize(100, 1.5), error: RangeError, message: /^expectedBatchSize: sampleRate q must be in \(0, 1\], got 1\.5/ },
  { fn: "expectedBatchSize", what: "NaN sample rate", kind: "non-finite", call: () => p.expectedBatchSize(100, NaN), error: RangeError, message: /^expectedBatchSize: sampleRate q must be in \(0, 1\], got NaN/ },
  { fn: "poissonSteps", what: "sample rate 0", kind: "value", call: () => p.poissonSteps({ size: 100, sampleRate: 0, epochs: 1, rng: rng() }), error: RangeError, message: /^poissonSteps: sampleRate q must be in \(0, 1\], got 0/ },
  { fn: "poissonSteps", what: "negative epochs", kind: "negative", call: () => p.poissonSteps({ size: 100, sampleRate: 0.1, epochs: -1, rng: rng() }), error: RangeError, message: /^poissonSteps: epochs must be a non-negative integer, got -1/ },
  { fn: "poissonSteps", what: "fractional size", kind: "fractional", call: () => p.poissonSteps({ size: 1.5, sampleRate: 0.1, epochs: 1, rng: rng() }), error: RangeError, message: /^poissonSteps: size must be a non-negative integer, got 1\.5/ },
  { fn: "poissonBatches", what: "sample rate above 1", kind: "value", call: () => p.poissonBatches({ size: 100, sampleRate: 2, steps: 1, rng: rng() }).next(), error: RangeError, message: /^poissonBatches: sampleRate q must be in \(0, 1\], got 2/ },
  { fn: "poissonBatches", what: "NaN steps", kind: "non-finite", call: () => p.poissonBatches({ size: 100, sampleRate: 0.1, steps: NaN, rng: rng() }).next(), error: RangeError, message: /^poissonBatches: steps must be a non-negative integer, got NaN/ },
  { fn: "poissonBatches", what: "rng is not an Rng", kind: "type", call: () => p.poissonBatches({ size: 100, sampleRate: 0.1, steps: 1, rng: S }).next(), error: TypeError, message: /^poissonBatches: rng must be an Rng \(got string\)/ },
  // DPOptimizer and makePrivate
  { fn: "DPOptimizer", what: "negative noise multiplier", kind: "negative", call: () => dp({ noiseMultiplier: -1 }), error: RangeError, message: /^DPOptimizer: noise multiplier sigma must be >= 0, got -1/ },
  { fn: "DPOptimizer", what: "NaN noise multiplier", kind: "non-finite", call: () => dp({ noiseMultiplier: NaN }), error: RangeError, message: /^DPOptimizer: noise multiplier sigma must be >= 0, got NaN/ },
  { fn: "DPOptimizer", what: "sample rate 0", kind: "value", call: () => dp({ sampleRate: 0 }), error: RangeError, message: /^DPOptimizer: sample rate q must be in \(0, 1\], got 0/ },
  { fn: "DPOptimizer", what: "negative max norm", kind: "negative", call: () => dp({ maxGradNorm: -1 }), error: RangeError, message: /^DPOptimizer: maxGradNorm must be a finite number > 0, got -1/ },
  { fn: "DPOptimizer", what: "unknown loss reduction", kind: "value", call: () => dp({ lossReduction: "avg" }), error: RangeError, message: /^DPOptimizer: lossReduction must be "mean" or "sum" \(got "avg"\)/ },
  { fn: "DPOptimizer", what: "optimizer is not an optimizer", kind: "type", call: () => new p.DPOptimizer(O, { noiseMultiplier: 1, maxGradNorm: 1, sampleRate: 0.1, rng: rng() }), error: TypeError, message: /^DPOptimizer: optimizer must be an @tapegrad\/optim Optimizer/ },
  { fn: "DPOptimizer", name: "step", what: "step() with a negative batch size", kind: "negative", call: () => dp({}).step(-1, () => undefined as any), error: RangeError, message: /^DPOptimizer\.step: batchSize must be a non-negative integer, got -1/ },
  { fn: "DPOptimizer", name: "step", what: "step() with a loss that is not a function", kind: "type", call: () => dp({}).step(2, S), error: TypeError, message: /^DPOptimizer\.step: loss must be a function/ },
  { fn: "DPOptimizer", name: "epsilon", what: "epsilon() with delta 0", kind: "value", call: () => dp({}).epsilon(0), error: RangeError, message: /^DPOptimizer\.epsilon: delta must be in \(0, 1\), got 0/ },
  { fn: "makePrivate", what: "neither noise multiplier nor target epsilon", kind: "value", call: () => mp({ noiseMultiplier: undefined }), error: RangeError, message: /^makePrivate: give exactly one of noiseMultiplier and targetEpsilon/ },
  { fn: "makePrivate", what: "negative dataset size", kind: "negative", call: () => mp({ datasetSize: -1 }), error: RangeError, message: /^makePrivate: datasetSize must be a positive integer, got -1/ },
  { fn: "makePrivate", what: "fractional batch size", kind: "fractional", call: () => mp({ batchSize: 2.5 }), error: RangeError, message: /^makePrivate: batchSize must be an integer in \[1, 100\], got 2\.5/ },
  { fn: "makePrivate", what: "NaN delta", kind: "non-finite", call: () => mp({ delta: NaN }), error: RangeError, message: /^makePrivate: delta must be in \(0, 1\), got NaN/ },
  { fn: "makePrivate", what: "module is not a Module", kind: "type", call: () => mp({ module: O }), error: TypeError, message: /^makePrivate: module must be an @tapegrad\/nn Module \(got object\)/ },
  { fn: "makePrivate", what: "batch size above the dataset size", kind: "value", call: () => mp({ batchSize: 1000 }), error: RangeError, message: /^makePrivate: batchSize must be an integer in \[1, 100\], got 1000/ },
  { fn: "makePrivate", what: "options is undefined", kind: "type", call: () => p.makePrivate(U), error: TypeError, message: /^makePrivate: options must be an object \(got undefined\)/ },
];
