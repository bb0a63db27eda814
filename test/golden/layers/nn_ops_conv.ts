/**
 * @file `layers/nn_ops.json`: the convolution, pooling and flatten ops (conv1d, conv2d,
 * conv_transpose2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, flatten). Inputs are mapped by
 * `input_names`; the output and every non-null `grad_inputs` entry (the VJP with the case's
 * `grad_output`) are compared with the file's tolerance.
 */
import * as A from "@tapegrad/autograd";
import type { Var } from "@tapegrad/autograd";
import type { Spatial2 } from "@tapegrad/tensor";
import { Checks, compareTensor, toTensor, type CaseResult, type GTensor, type GoldenCase, type Tolerance } from "../schema.js";

type Attrs = Record<string, unknown>;
/** Builds the op's output from its inputs, by name. */
type Builder = (x: Record<string, Var>, a: Attrs) => Var;

/** A 2-D spatial attribute: an int or `[h, w]` (a one-element list means the same for both). */
const sp = (v: unknown): Spatial2 => (Array.isArray(v) ? (v.length === 1 ? (v[0] as number) : [v[0] as number, v[1] as number]) : (v as number));
/** A 1-D spatial attribute: an int or a one-element list. */
const one = (v: unknown): number => (Array.isArray(v) ? (v[0] as number) : (v as number));
/** torch's pooling stride: absent, null or `[]` means the kernel size. */
const poolStride = (a: Attrs): Spatial2 => sp(a.stride === null || a.stride === undefined || (Array.isArray(a.stride) && a.stride.length === 0) ? a.kernel_size : a.stride);
const convPad = (v: unknown): Spatial2 | "same" | "valid" => (v === "same" || v === "valid" ? v : sp(v));
const opt = (v: unknown): number | null => (v === null || v === undefined ? null : (v as number));

const builders: Record<string, Builder> = {
  conv2d: (x, a) => A.conv2d(x.x!, x.weight!, x.bias ?? null, { stride: sp(a.stride), padding: convPad(a.padding), dilation: sp(a.dilation), groups: a.groups as number }),
  conv1d: (x, a) => A.conv1d(x.x!, x.weight!, x.bias ?? null, { stride: one(a.stride), padding: a.padding === "same" || a.padding === "valid" ? a.padding : one(a.padding), dilation: one(a.dilation), groups: a.groups as number }),
  conv_transpose2d: (x, a) =>
    A.convTranspose2d(x.x!, x.weight!, x.bias ?? null, { stride: sp(a.stride), padding: sp(a.padding), outputPadding: sp(a.output_padding), groups: a.groups as number, dilation: sp(a.dilation) }),
  max_pool2d: (x, a) => A.maxPool2d(x.x!, { kernelSize: sp(a.kernel_size), stride: poolStride(a), padding: sp(a.padding), dilation: sp(a.dilation), ceilMode: Boolean(a.ceil_mode) }),
  avg_pool2d: (x, a) =>
    A.avgPool2d(x.x!, { kernelSize: sp(a.kernel_size), stride: poolStride(a), padding: sp(a.padding), ceilMode: Boolean(a.ceil_mode), countIncludePad: a.count_include_pad !== false, divisorOverride: opt(a.divisor_override) }),
  adaptive_avg_pool2d: (x, a) => {
    const s = a.output_size, shape = x.x!.shape;
    // torch's `None` entries keep the input's size
    const size: Spatial2 = Array.isArray(s) ? [opt(s[0]) ?? shape[2]!, opt(s[1]) ?? shape[3]!] : (s as number);
    return A.adaptiveAvgPool2d(x.x!, size);
  },
  flatten: (x, a) => A.flatten(x.x!, a.start_dim as number, a.end_dim as number),
};

/** Runs one case of a conv/pool/flatten op. */
function runConvCase(c: GoldenCase, tol: Tolerance): CaseResult {
  const build = builders[String(c.op)]!;
  const names = c.input_names as string[];
  const raw = c.inputs as GTensor[];
  const vars = raw.map((t) => A.variable(toTensor(t)));
  const byName: Record<string, Var> = {};
  names.forEach((n, i) => (byName[n] = vars[i]!));
  const out = build(byName, (c.attrs ?? {}) as Attrs);
  const checks = new Checks();
  checks.add(compareTensor("output", out.value, c.output as GTensor, tol));
  const expected = (c.grad_inputs ?? []) as (GTensor | null)[];
  const wanted = vars.filter((_, i) => expected[i]);
  const grads = A.gradients(out, wanted, toTensor(c.grad_output as GTensor));
  let k = 0;
  expected.forEach((e, i) => {
    if (e) checks.add(compareTensor(`grad_inputs[${i}] (${names[i]})`, grads[k++]!, e, tol));
  });
  return checks.result(c.name);
}

/** Runners of the conv/pool/flatten cases, by op name (`nn_ops.ts` passes the file's tolerance). */
export const CONV_OPS: Record<string, (c: GoldenCase, tol: Tolerance) => CaseResult> = Object.fromEntries(
  Object.keys(builders).map((op) => [op, (c: GoldenCase, tol: Tolerance) => runConvCase(c, tol)]),
);
