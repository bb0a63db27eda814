/**
 * @file Golden handler for seed_linreg.json: the motivating linear regression `y_hat = X @ w + b`,
 * `loss = mean((y_hat − y)²)`, trained by full-batch gradient descent (`SGD`, gradient by
 * autograd) with the case's clipping as the optimizer's `clip` transform. Checks the problem's
 * initial loss/gradient and closed-form solution, every checkpoint, `final`, and the whole
 * trajectory. An unknown clip type fails the case.
 */
import { Tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { SGD, clipGradNorm, clipGradValue, getTotalNorm, type GradTransform } from "@tapegrad/optim";
import { Checks, compareNumber, compareTensor, compareValues, isGTensor, num, runCase, toTensor, type CaseResult, type GTensor, type GoldenFile, type Tolerance } from "./schema.js";

type Spec = Record<string, unknown>;

function need(spec: Spec, key: string): number {
  if (spec[key] === undefined || spec[key] === null) throw new Error(`clip spec needs "${key}"`);
  return num(spec[key] as number | string);
}

/** Golden clip type → the optimizer transform that reproduces it (`null` = no clipping). */
export const goldenClips: Record<string, (spec: Spec) => GradTransform | null> = {
  none: () => null,
  value: (s) => clipGradValue.transform(need(s, "clip_value")),
  global_norm: (s) => clipGradNorm.transform(need(s, "max_norm"), { normType: s.norm_type === undefined ? 2 : num(s.norm_type as number | string) }),
};

/** Expected number or list → flat numbers. */
function flat(e: unknown): number[] {
  if (isGTensor(e)) return e.data.map(num);
  if (Array.isArray(e)) return e.flat(Infinity).map((x) => num(x as number | string));
  return [num(e as number | string)];
}

interface Point {
  w: Float32Array;
  b: Float32Array;
  loss: number;
  gradNorm: number;
  gw: Tensor;
  gb: Tensor;
}

/** Float64 least squares of `y ≈ X w + b` by the normal equations (Gaussian elimination). */
function leastSquares(X: Tensor, y: Tensor): { w: number[]; b: number; loss: number } {
  const [n, d] = [X.shape[0]!, X.shape[1]!];
  const x = X.toFloat32Array();
  const t = y.toFloat32Array();
  const m = d + 1; // features + bias
  const row = (i: number, j: number) => (j < d ? x[i * d + j]! : 1);
  const G = Array.from({ length: m }, () => new Float64Array(m + 1));
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < m; a++) {
      for (let c = 0; c < m; c++) G[a]![c]! += row(i, a) * row(i, c);
      G[a]![m]! += row(i, a) * t[i]!;
    }
  }
  for (let k = 0; k < m; k++) {
    let piv = k;
    for (let r = k + 1; r < m; r++) if (Math.abs(G[r]![k]!) > Math.abs(G[piv]![k]!)) piv = r;
    [G[k], G[piv]] = [G[piv]!, G[k]!];
    for (let r = 0; r < m; r++) {
      if (r === k) continue;
      const f = G[r]![k]! / G[k]![k]!;
      for (let c = k; c <= m; c++) G[r]![c]! -= f * G[k]![c]!;
    }
  }
  const theta = G.map((r, k) => r[m]! / r[k]!);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let p = theta[d]!;
    for (let j = 0; j < d; j++) p += theta[j]! * row(i, j);
    loss += (p - t[i]!) ** 2;
  }
  return { w: theta.slice(0, d), b: theta[d]!, loss: loss / n };
}

function runLinregCase(c: Record<string, unknown>, problem: Record<string, unknown>, tol: Tolerance): CaseResult {
  const name = c.name as string;
  const spec = (c.clip ?? { type: "none" }) as Spec;
  const build = goldenClips[spec.type as string];
  if (!build) return { name, status: "failed", message: `unknown clip type ${String(spec.type)}` };
  const X = A.constant(toTensor(problem.X as GTensor));
  const y = A.constant(toTensor(problem.y as GTensor));
  const w = A.variable(toTensor(problem.w_init as GTensor), { name: "w" });
  const b = A.variable(toTensor(problem.b_init as GTensor), { name: "b" });
  const transform = build(spec);
  const opt = new SGD([w, b], { lr: num(c.lr as number | string), clip: transform ? [transform] : [] });
  const evaluate = (): Point => {
    opt.zeroGrad();
    const loss = A.mseLoss(A.add(A.matmul(X, w), b), y);
    loss.backward();
    return { w: w.value.toFloat32Array(), b: b.value.toFloat32Array(), loss: loss.item(), gradNorm: getTotalNorm([w, b]), gw: w.grad!.clone(), gb: b.grad!.clone() };
  };
  const steps = c.steps as number;
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`steps must be a non-negative integer (got ${String(steps)})`);
  const checks = new Checks();
  const trajectory: Point[] = [];
  let telemetryOk = true;
  for (let k = 0; k < steps; k++) {
    const p = evaluate();
    opt.step();
    // The optimizer's telemetry reports the same pre-clip norm as getTotalNorm.
    if (telemetryOk && opt.lastStats!.preClipNorm !== p.gradNorm) {
      checks.add(`step ${k}: lastStats.preClipNorm ${opt.lastStats!.preClipNorm} != getTotalNorm ${p.gradNorm}`);
      telemetryOk = false;
    }
    trajectory.push(p);
  }
  const final = evaluate();
  const at = (k: number): Point => (k === steps ? final : trajectory[k]!);
  const point = (label: string, p: Point, e: Record<string, unknown>) => {
    if (e.w !== undefined) checks.add(compareValues(`${label}.w`, p.w, flat(e.w), tol));
    if (e.b !== undefined) checks.add(compareValues(`${label}.b`, p.b, flat(e.b), tol));
    if (e.loss !== undefined) checks.add(compareNumber(`${label}.loss`, p.loss, e.loss as number, tol));
    if (e.grad_norm !== undefined) checks.add(compareNumber(`${label}.grad_norm`, p.gradNorm, e.grad_norm as number, tol));
  };
  const initial = problem.initial as Record<string, unknown> | undefined;
  if (initial) {
    const p0 = steps > 0 ? trajectory[0]! : final;
    point("initial", p0, initial);
    if (isGTensor(initial.grad_w)) checks.add(compareTensor("initial.grad_w", p0.gw, initial.grad_w, tol));
    if (isGTensor(initial.grad_b)) checks.add(compareTensor("initial.grad_b", p0.gb, initial.grad_b, tol));
  }
  const closed = problem.closed_form as Record<string, unknown> | undefined;
  if (closed) {
    const ls = leastSquares(X.value, y.value);
    checks.add(compareValues("closed_form.w", ls.w, flat(closed.w), tol));
    checks.add(compareValues("closed_form.b", [ls.b], flat(closed.b), tol));
    if (closed.loss !== undefined) checks.add(compareNumber("closed_form.loss", ls.loss, closed.loss as number, tol));
  }
  for (const cp of (c.checkpoints ?? []) as Record<string, unknown>[]) {
    const k = cp.step as number;
    if (!Number.isInteger(k) || k < 0 || k > steps) checks.add(`checkpoint step ${String(k)} is outside 0..${steps}`);
    else point(`checkpoint ${k}`, at(k), cp);
  }
  if (c.final) point("final", final, c.final as Record<string, unknown>);
  const tr = c.trajectory as Record<string, unknown[]> | undefined;
  if (tr) {
    const series: Record<string, (p: Point) => number> = { loss: (p) => p.loss, grad_norm: (p) => p.gradNorm, w: (p) => p.w[0]!, b: (p) => p.b[0]! };
    for (const [key, values] of Object.entries(tr)) {
      const get = series[key];
      if (!get) {
        checks.add(`trajectory.${key}: unknown series`);
        continue;
      }
      checks.add(compareValues(`trajectory.${key}`, trajectory.map(get), values.map((v) => num(v as number | string)), tol));
    }
  }
  return checks.result(name);
}

/** Runs every case of seed_linreg.json. */
export function runSeedLinregFile(file: GoldenFile): CaseResult[] {
  const problem = file.problem as Record<string, unknown>;
  return file.cases.map((c) => runCase(c.name, () => runLinregCase(c, problem, file.tolerance)));
}
