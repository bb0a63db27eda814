/**
 * @file The models of `dp/dp.json` (kinds `per_example_grads` and `dp_sgd_step`): a sequential
 * list of `linear`, `relu`, `embedding`, `mean` and `layer_norm` layers applied to the batch, and
 * the summed cross-entropy, built from the file's parameters (PyTorch layouts) with autograd ops.
 */
import * as A from "@tapegrad/autograd";
import { Tensor } from "@tapegrad/tensor";
import { type GTensor, toIndices, toTensor } from "../schema.js";

/** One layer of a golden model. */
export interface DpLayer {
  op: "linear" | "relu" | "embedding" | "mean" | "layer_norm";
  weight?: string;
  bias?: string;
  axis?: number;
  normalized_shape?: number[];
  eps?: number;
}

/** The fields a model case carries. */
export interface DpModelCase {
  model: { layers: DpLayer[] };
  param_names: string[];
  params: GTensor[];
  x: GTensor;
  y: GTensor;
  loss_fn: { op: string; reduction: string; label_smoothing?: number };
}

/** A built model: its parameters (leaves, file order), the forward and the summed loss. */
export interface DpModel {
  params: A.Var[];
  /** Logits of the given input (float `[B, in]` or int64 ids `[B, L]`). */
  forward(x: GTensor): A.Var;
  /** `Σ_i CE(z_i, y_i)` and the logits. */
  loss(x: GTensor, y: GTensor): { loss: A.Var; logits: A.Var };
}

/**
 * Builds the case's model from its parameters.
 *
 * @throws {Error} for a layer op or loss the file's README does not define.
 */
export function buildModel(c: DpModelCase): DpModel {
  if (c.loss_fn.op !== "cross_entropy" || c.loss_fn.reduction !== "sum" || (c.loss_fn.label_smoothing ?? 0) !== 0) {
    throw new Error(`dp model: unsupported loss ${JSON.stringify(c.loss_fn)}`);
  }
  const params = c.params.map((t, i) => A.variable(toTensor(t), { name: c.param_names[i] }));
  const byName = new Map(c.param_names.map((n, i) => [n, params[i]!]));
  const p = (name: string | undefined): A.Var => {
    const v = name === undefined ? undefined : byName.get(name);
    if (!v) throw new Error(`dp model: unknown parameter ${String(name)}`);
    return v;
  };
  const forward = (x: GTensor): A.Var => {
    let h: A.Var | null = null;
    for (const layer of c.model.layers) {
      switch (layer.op) {
        case "embedding":
          h = A.embedding(p(layer.weight), toIndices(x), x.shape);
          break;
        case "linear":
          h = A.linear(h ?? A.constant(toTensor(x)), p(layer.weight), layer.bias ? p(layer.bias) : null);
          break;
        case "relu":
          h = A.relu(need(h));
          break;
        case "mean":
          h = A.mean(need(h), [layer.axis ?? 1]);
          break;
        case "layer_norm":
          h = A.layerNorm(need(h), layer.normalized_shape!, layer.weight ? p(layer.weight) : null, layer.bias ? p(layer.bias) : null, layer.eps ?? 1e-5);
          break;
        default:
          throw new Error(`dp model: unknown layer op ${JSON.stringify((layer as DpLayer).op)}`);
      }
    }
    return need(h);
  };
  return {
    params,
    forward,
    loss: (x, y) => {
      const logits = forward(x);
      return { logits, loss: A.crossEntropy(logits, toIndices(y), { reduction: "sum" }) };
    },
  };
}

function need(h: A.Var | null): A.Var {
  if (h === null) throw new Error("dp model: the first layer must be linear or embedding");
  return h;
}

/** Per-sample losses `l_i` (the summed loss of each sample alone, for the file's `per_example_losses`). */
export function perExampleLosses(logits: A.Var, y: GTensor): Tensor {
  return A.crossEntropy(A.constant(logits.value), toIndices(y), { reduction: "none" }).value;
}

/** Samples `[start, end)` of a case's batch (`x` and `y` cut along the first axis). */
export function sliceCase(c: DpModelCase, start: number, end: number): { x: GTensor; y: GTensor } {
  const cut = (t: GTensor): GTensor => {
    const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
    return { ...t, shape: [end - start, ...t.shape.slice(1)], data: t.data.slice(start * row, end * row) };
  };
  return { x: cut(c.x), y: cut(c.y) };
}
