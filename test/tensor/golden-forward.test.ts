/**
 * @file Forward values of every tensor-level op case in the golden `ops.json`
 * (`$GOLDEN_DIR` or `<repo>/../shared/golden`), reproduced with the tensor package alone and
 * compared with the file's own tolerance. Shapes, attributes and tolerances all come from the
 * file; nothing is hard-coded.
 *
 * Skipped here (they belong to @tapegrad/autograd / nn, which has its own golden runner):
 * the losses `cross_entropy`, `mse_loss`, `binary_cross_entropy_with_logits`, `nll_loss`,
 * `kl_div`, `kl_div_distill`, and the optional `conv2d`, `max_pool2d`.
 * Any other op name that is not mapped below makes its case FAIL (never a silent skip).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  abs, add, concat, div, exp, gelu, indexSelect, leakyRelu, log, logSoftmax, logsumexp, matmul, max, mean, min, mul, neg, pow, relu,
  sigmoid, softmax, softplus, sqrt, stack, sub, sum, tanh, where, type Tensor,
} from "@tapegrad/tensor";
import { goldenDir } from "../golden/dir.js";
import { compareTensor, num, toIndices, toTensor, type GTensor, type GoldenFile, type Tolerance } from "../golden/schema.js";

interface OpsCase {
  name: string;
  op: string;
  optional?: boolean;
  attrs: Record<string, unknown>;
  input_names: string[];
  inputs: GTensor[];
  output: GTensor;
}

/** Ops of autograd-level losses and optional layers: not tensor-level; test/golden.test.ts runs them. */
const AUTOGRAD_LEVEL = new Set(["cross_entropy", "mse_loss", "binary_cross_entropy_with_logits", "nll_loss", "kl_div", "kl_div_distill", "conv2d", "max_pool2d"]);

const file = JSON.parse(readFileSync(join(goldenDir(), "ops.json"), "utf8")) as GoldenFile;
const cases = file.cases as unknown as OpsCase[];
const tol: Tolerance = { rtol: num(file.tolerance.rtol), atol: num(file.tolerance.atol) };

/** A numeric attribute (golden numbers may be "NaN"/"Infinity" strings). */
function n(c: OpsCase, key: string): number {
  const v = c.attrs[key];
  if (typeof v !== "number" && typeof v !== "string") throw new Error(`${c.name}: attribute ${key} missing`);
  return num(v);
}

/** A reduction axis attribute: a number, or null (= all axes). */
function axisAttr(c: OpsCase): number | null {
  const v = c.attrs["axis"];
  return v === null || v === undefined ? null : num(v as number | string);
}

function keepdim(c: OpsCase): boolean {
  return c.attrs["keepdim"] === true;
}

/** The tensor-level forward of one case, or undefined when the op is not known. */
function forward(c: OpsCase): Tensor | undefined {
  const x = c.inputs.map((t) => toTensor(t));
  const a = x[0]!;
  const b = x[1]!;
  switch (c.op) {
    case "add": return add(a, b);
    case "sub": return sub(a, b);
    case "mul": return mul(a, b);
    case "div": return div(a, b);
    case "mask_mul": return mul(a, b);
    case "neg": return neg(a);
    case "exp": return exp(a);
    case "log": return log(a);
    case "sqrt": return sqrt(a);
    case "abs": return abs(a);
    case "tanh": return tanh(a);
    case "sigmoid": return sigmoid(a);
    case "relu": return relu(a);
    case "pow": return pow(a, n(c, "exponent"));
    case "leaky_relu": return leakyRelu(a, n(c, "negative_slope"));
    case "gelu": {
      const approx = c.attrs["approximate"];
      if (approx !== "none" && approx !== "tanh") throw new Error(`${c.name}: unknown gelu approximation ${String(approx)}`);
      return gelu(a, approx);
    }
    case "softplus": return softplus(a, n(c, "beta"), n(c, "threshold"));
    case "matmul": return matmul(a, b);
    case "transpose": return a.transpose(n(c, "dim0"), n(c, "dim1"));
    case "permute": return a.permute((c.attrs["dims"] as (number | string)[]).map(num));
    case "reshape": return a.reshape((c.attrs["shape"] as (number | string)[]).map(num));
    case "narrow": return a.narrow(n(c, "dim"), n(c, "start"), n(c, "length"));
    case "concat": return concat(x, n(c, "axis"));
    case "stack": return stack(x, n(c, "axis"));
    case "sum": return sum(a, axisAttr(c), keepdim(c));
    case "mean": return mean(a, axisAttr(c), keepdim(c));
    case "max": return max(a, axisAttr(c), keepdim(c));
    case "min": return min(a, axisAttr(c), keepdim(c));
    case "logsumexp": return logsumexp(a, axisAttr(c), keepdim(c));
    case "softmax": return softmax(a, n(c, "axis"));
    case "log_softmax": return logSoftmax(a, n(c, "axis"));
    case "where": return where(a, b, x[2]!);
    case "embedding": {
      const weight = a;
      const indices = c.inputs[1]!;
      const d = weight.shape[1]!;
      return indexSelect(weight, 0, toIndices(indices)).reshape([...indices.shape, d]);
    }
    default:
      return undefined;
  }
}

describe("golden ops.json: tensor-level forward values", () => {
  it("found the golden file with cases and a tolerance", () => {
    expect(file.file).toBe("ops.json");
    expect(cases.length).toBeGreaterThan(0);
    expect(Number.isFinite(tol.rtol) && Number.isFinite(tol.atol)).toBe(true);
  });

  for (const c of cases) {
    if (AUTOGRAD_LEVEL.has(c.op)) continue;
    it(`${c.name} (${c.op})`, () => {
      const out = forward(c);
      if (out === undefined) throw new Error(`unrecognised tensor-level op "${c.op}" in case ${c.name}: map it in golden-forward.test.ts`);
      const msg = compareTensor(`${c.name} output`, out, c.output, tol);
      if (msg !== null) throw new Error(msg);
    });
  }
});
