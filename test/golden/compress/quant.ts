/**
 * @file Golden handler for `compress/quant.json` (see `../shared/golden/compress/README.md`):
 * quantize_per_tensor / quantize_per_channel (int_repr exactly, dequantized within the file's
 * tolerance), observers (effective range and zero points exactly, min/max/scale within the
 * tolerance after every batch), fake quantization through autograd (output within the tolerance,
 * gradient and mask exactly) and quantized_linear through `QuantizedLinear` on the int8 GEMM
 * (integers exactly, the float output against `output_float64` with `quantized_linear_tolerance`).
 *
 * Cases marked `optional` (NaN/Inf inputs, platform dependent in torch) are reported as skipped
 * when the engine raises its non-finite error for them, or when the only differences are at
 * finite values with `|x·inv| >= 2^63`, which the engine saturates (torch's x86 build gives qmin
 * there through an undefined conversion). Everything else must match.
 */
import { Tensor } from "@tapegrad/tensor";
import { variable } from "@tapegrad/autograd";
import {
  MinMaxObserver, MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver, PerChannelMinMaxObserver, QuantizedLinear,
  fakeQuantizePerChannelAffine, fakeQuantizePerChannelAffineCachemask, fakeQuantizePerTensorAffine, fakeQuantizePerTensorAffineCachemask,
  dequantize as dequantizeQ, quantizePerChannel, quantizePerTensor, type ObserverOptions, type QDtype, type QScheme,
} from "@tapegrad/compress";
import { Checks, compareNumber, compareTensor, compareValues, f32, num, runCase, toIndices, toTensor, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "../schema.js";

type Attrs = Record<string, unknown>;
type Inputs = Record<string, unknown>;
type Expected = Record<string, unknown>;
const EXACT: Tolerance = { rtol: 0, atol: 0 };
/** Indices whose expected values are platform dependent (huge finite inputs); null = none. */
type Huge = Set<number> | null;

/** Exact comparison of integers, shape included; positions in `huge` are collected instead of failing. */
function compareInts(label: string, actual: ArrayLike<number>, shape: readonly number[], expected: GTensor, checks: Checks, huge: Huge, platform: string[]): void {
  if (JSON.stringify(Array.from(shape)) !== JSON.stringify(expected.shape)) return checks.add(`${label}: shape ${JSON.stringify(shape)} != expected ${JSON.stringify(expected.shape)}`);
  const e = expected.data.map(num);
  if (e.length !== actual.length) return checks.add(`${label}: ${actual.length} values, expected ${e.length}`);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < e.length; i++) {
    if (actual[i] === e[i]) continue;
    if (huge?.has(i)) {
      platform.push(`${label}[${i}]`);
      continue;
    }
    count++;
    if (bad.length < 3) bad.push(`[${i}] got ${actual[i]} expected ${e[i]}`);
  }
  if (count > 0) checks.add(`${label}: ${count}/${e.length} values differ (${bad.join("; ")})`);
}

/** Float comparison skipping the platform-dependent positions. */
function compareFloats(label: string, actual: Tensor, expected: GTensor, tol: Tolerance, checks: Checks, huge: Huge, platform: string[]): void {
  if (!huge || huge.size === 0) return checks.add(compareTensor(label, actual, expected, tol));
  const a = actual.toFloat32Array(), e = f32(expected);
  const keep = (_: number, i: number) => !huge.has(i);
  const msg = compareValues(label, a.filter(keep), e.filter(keep), tol);
  checks.add(msg);
  for (const i of huge) if (a[i] !== e[i]) platform.push(`${label}[${i}]`);
}

/** Flat indices of `x` whose `fl32(x·fl32(1/scale_c))` is finite but `>= 2^63` in magnitude (channel `c` along `axis`). */
function hugeIndices(x: Tensor, scales: Float32Array, axis: number | null): Huge {
  const v = x.toFloat32Array();
  const inner = axis === null ? v.length : x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const C = axis === null ? 1 : x.shape[axis]!;
  const out = new Set<number>();
  for (let i = 0; i < v.length; i++) {
    const c = axis === null ? 0 : Math.floor(i / inner) % C;
    const p = Math.fround(v[i]! * Math.fround(1 / scales[c]!));
    if (Number.isFinite(p) && Math.abs(p) >= 2 ** 63) out.add(i);
  }
  return out.size ? out : null;
}

const tensorIn = (inputs: Inputs, key: string): Tensor => {
  const t = inputs[key];
  if (t === undefined || t === null) throw new Error(`missing input "${key}"`);
  return toTensor(t as GTensor);
};
const gt = (e: Expected, key: string): GTensor => {
  const t = e[key];
  if (t === undefined || t === null) throw new Error(`missing expected "${key}"`);
  return t as GTensor;
};

/** Runs one op, filling `checks`; returns platform-dependent mismatches (for optional cases). */
type OpRunner = (attrs: Attrs, inputs: Inputs, expected: Expected, checks: Checks, tol: Tolerance, qlTol: Tolerance) => string[];

const observerFactories: Record<string, (o: ObserverOptions & { chAxis?: number; averagingConstant?: number }) => MinMaxObserver | PerChannelMinMaxObserver> = {
  MinMaxObserver: (o) => new MinMaxObserver(o),
  MovingAverageMinMaxObserver: (o) => new MovingAverageMinMaxObserver(o),
  PerChannelMinMaxObserver: (o) => new PerChannelMinMaxObserver(o),
  MovingAveragePerChannelMinMaxObserver: (o) => new MovingAveragePerChannelMinMaxObserver(o),
};

/** Golden op name → how to run it with @tapegrad/compress. */
export const goldenQuantOps: Record<string, OpRunner> = {
  quantize_per_tensor: (a, inp, e, checks, tol) => {
    const x = tensorIn(inp, "x");
    const scale = Math.fround(num(a.scale as number));
    const q = quantizePerTensor(x, scale, a.zero_point as number, a.dtype as QDtype);
    const huge = hugeIndices(x, Float32Array.of(scale), null), platform: string[] = [];
    compareInts("int_repr", q.data, q.shape, gt(e, "int_repr"), checks, huge, platform);
    compareFloats("dequantized", dequantizeQ(q), gt(e, "dequantized"), tol, checks, huge, platform);
    return platform;
  },
  quantize_per_channel: (a, inp, e, checks, tol) => {
    const x = tensorIn(inp, "x");
    const scales = f32(inp.scales as GTensor), zps = toIndices(inp.zero_points as GTensor);
    const q = quantizePerChannel(x, scales, zps, a.axis as number, a.dtype as QDtype);
    const huge = hugeIndices(x, scales, q.perChannel!.axis), platform: string[] = [];
    compareInts("int_repr", q.data, q.shape, gt(e, "int_repr"), checks, huge, platform);
    compareFloats("dequantized", dequantizeQ(q), gt(e, "dequantized"), tol, checks, huge, platform);
    return platform;
  },
  observer: (a, inp, e, checks, tol) => {
    const make = observerFactories[a.observer as string];
    if (!make) throw new Error(`unknown observer ${String(a.observer)}`);
    const opts: ObserverOptions & { chAxis?: number; averagingConstant?: number } = {
      dtype: a.dtype as QDtype, qscheme: a.qscheme as QScheme, reduceRange: a.reduce_range === true,
      quantMin: (a.quant_min ?? null) as number | null, quantMax: (a.quant_max ?? null) as number | null,
      ...(a.eps !== undefined && a.eps !== null ? { eps: num(a.eps as number) } : {}),
      ...(a.ch_axis !== undefined && a.ch_axis !== null ? { chAxis: a.ch_axis as number } : {}),
      ...(a.averaging_constant !== undefined && a.averaging_constant !== null ? { averagingConstant: num(a.averaging_constant as number) } : {}),
    };
    const obs = make(opts);
    checks.add(obs.quantMin === e.quant_min ? null : `quant_min: got ${obs.quantMin} expected ${String(e.quant_min)}`);
    checks.add(obs.quantMax === e.quant_max ? null : `quant_max: got ${obs.quantMax} expected ${String(e.quant_max)}`);
    const batches = inp.batches as GTensor[];
    const steps = e.steps as Record<string, unknown>[];
    if (!Array.isArray(batches) || !Array.isArray(steps) || batches.length !== steps.length) throw new Error("observer: batches and steps must be lists of the same length");
    batches.forEach((b, i) => {
      obs.forward(toTensor(b));
      const s = steps[i]!;
      if (obs instanceof PerChannelMinMaxObserver) {
        const q = obs.calculateQparams();
        const vec = (label: string, actual: ArrayLike<number>, key: string, t: Tolerance) => {
          const g = s[key] as GTensor;
          if (g.shape.length !== 1 || g.shape[0] !== actual.length) return checks.add(`step ${i} ${label}: ${actual.length} values, expected shape ${JSON.stringify(g.shape)}`);
          checks.add(compareValues(`step ${i} ${label}`, actual, g.data.map(num), t));
        };
        vec("min_val", obs.minVal, "min_val", tol);
        vec("max_val", obs.maxVal, "max_val", tol);
        vec("scale", q.scales, "scale", tol);
        vec("zero_point", q.zeroPoints, "zero_point", EXACT);
      } else {
        const q = obs.calculateQparams();
        checks.add(compareNumber(`step ${i} min_val`, obs.minVal, s.min_val as number, tol));
        checks.add(compareNumber(`step ${i} max_val`, obs.maxVal, s.max_val as number, tol));
        checks.add(compareNumber(`step ${i} scale`, q.scale, s.scale as number, tol));
        checks.add(compareNumber(`step ${i} zero_point`, q.zeroPoint, s.zero_point as number, EXACT));
      }
    });
    return [];
  },
  fake_quantize_per_tensor_affine: (a, inp, e, checks, tol) => {
    const xv = tensorIn(inp, "x");
    const scale = Math.fround(num(a.scale as number)), zp = a.zero_point as number, qmin = a.quant_min as number, qmax = a.quant_max as number;
    const x = variable(xv.clone());
    const y = fakeQuantizePerTensorAffine(x, scale, zp, qmin, qmax);
    y.backward(tensorIn(inp, "grad_output"));
    const { mask } = fakeQuantizePerTensorAffineCachemask(xv, scale, zp, qmin, qmax);
    return fakeQuantChecks(y.value, x.grad, mask, xv, e, checks, tol, hugeIndices(xv, Float32Array.of(scale), null));
  },
  fake_quantize_per_channel_affine: (a, inp, e, checks, tol) => {
    const xv = tensorIn(inp, "x");
    const scales = f32(inp.scales as GTensor), zps = toIndices(inp.zero_points as GTensor);
    const axis = a.axis as number, qmin = a.quant_min as number, qmax = a.quant_max as number;
    const x = variable(xv.clone());
    const y = fakeQuantizePerChannelAffine(x, scales, zps, axis, qmin, qmax);
    y.backward(tensorIn(inp, "grad_output"));
    const { mask } = fakeQuantizePerChannelAffineCachemask(xv, scales, zps, axis, qmin, qmax);
    return fakeQuantChecks(y.value, x.grad, mask, xv, e, checks, tol, hugeIndices(xv, scales, axis < 0 ? axis + xv.ndim : axis));
  },
  quantized_linear: (a, inp, e, checks, _tol, qlTol) => {
    if (a.x_dtype !== "quint8" || a.w_dtype !== "qint8" || a.w_qscheme !== "per_channel_symmetric" || a.w_axis !== 0) {
      throw new Error(`quantized_linear: unsupported configuration ${JSON.stringify(a)}`);
    }
    const x = tensorIn(inp, "x"), w = tensorIn(inp, "weight");
    const bias = inp.bias === null || inp.bias === undefined ? null : f32(inp.bias as GTensor);
    const xScale = Math.fround(num(a.x_scale as number)), xZp = a.x_zero_point as number;
    const wScales = f32(inp.w_scales as GTensor), wZps = toIndices(inp.w_zero_points as GTensor);
    const [B, I] = x.shape as [number, number], O = w.shape[0]!;
    const xq = quantizePerTensor(x, xScale, xZp, "quint8");
    compareInts("x_int_repr", xq.data, xq.shape, gt(e, "x_int_repr"), checks, null, []);
    const wq = quantizePerChannel(w, wScales, wZps, 0, "qint8");
    compareInts("w_int_repr", wq.data, wq.shape, gt(e, "w_int_repr"), checks, null, []);
    const ql = new QuantizedLinear({
      weight: wq.data as Int8Array, outFeatures: O, inFeatures: I, weightScales: wq.perChannel!.scales, weightZeroPoints: wq.perChannel!.zeroPoints,
      bias, inputScale: xScale, inputZeroPoint: xZp,
    });
    try {
      const xin = ql.quantizeInput(x);
      compareInts("x_int_repr (layer)", xin.data, xin.shape, gt(e, "x_int_repr"), checks, null, []);
      const acc = ql.accumulate(xin.data as Uint8Array, B, xin.perTensor!.zeroPoint);
      compareInts("acc", acc, [B, O], gt(e, "acc"), checks, null, []);
      const y = ql.forward(x);
      checks.add(compareTensor("output (vs output_float64)", y, gt(e, "output_float64"), qlTol));
      checks.add(compareTensor("output (vs torch float32 output)", y, gt(e, "output"), qlTol));
    } finally {
      ql.dispose();
    }
    return [];
  },
};

function fakeQuantChecks(output: Tensor, grad: Tensor | null, mask: Uint8Array, x: Tensor, e: Expected, checks: Checks, tol: Tolerance, huge: Huge): string[] {
  const platform: string[] = [];
  compareFloats("output", output, gt(e, "output"), tol, checks, huge, platform);
  if (!grad) checks.add("grad_input: no gradient reached x");
  else compareFloats("grad_input", grad, gt(e, "grad_input"), EXACT, checks, huge, platform);
  compareInts("mask", mask, x.shape, gt(e, "mask"), checks, huge, platform);
  return platform;
}

function runQuantCase(c: Record<string, unknown>, tol: Tolerance, qlTol: Tolerance): CaseResult {
  const name = c.name as string;
  const op = goldenQuantOps[c.op as string];
  const optional = c.optional === true;
  if (!op) return optional ? { name, status: "skipped", message: `optional op ${String(c.op)} not implemented` } : { name, status: "failed", message: `unknown op ${String(c.op)}` };
  const checks = new Checks();
  let platform: string[];
  try {
    platform = op((c.attrs ?? {}) as Attrs, (c.inputs ?? {}) as Inputs, (c.expected ?? {}) as Expected, checks, tol, qlTol);
  } catch (err) {
    if (optional && err instanceof RangeError && /non-finite/.test(err.message)) {
      return { name, status: "skipped", message: `optional (platform dependent): the engine raises for non-finite input (${err.message})` };
    }
    throw err;
  }
  if (platform.length > 0) {
    if (!optional) checks.add(`values differ at huge inputs (${platform.slice(0, 3).join(", ")}), and the case is not optional`);
    else if (checks.ok) return { name, status: "skipped", message: `optional (platform dependent): huge finite inputs saturate to qmax where torch's x86 build gives qmin (${platform.slice(0, 3).join(", ")})` };
  }
  return checks.result(name);
}

/** Runs every case of `compress/quant.json`. */
export function runQuantFile(file: GoldenFile): CaseResult[] {
  const qlTol = (file.quantized_linear_tolerance ?? file.tolerance) as Tolerance;
  return file.cases.map((c) => runCase(c.name, () => runQuantCase(c, file.tolerance, qlTol)));
}
