/**
 * @file The per-element update loops of SGD, Adam/AdamW and RMSprop over Float32Arrays: one tight
 * loop per configuration, chosen once per parameter, so the hot loops carry no branches on
 * options, no closures and no property loads (constants are hoisted into locals by the caller).
 *
 * Every loop computes exactly what the reference formulas in sgd.ts, adam.ts and rmsprop.ts say,
 * with the same float32 roundings (`fround`) in the same order, so results are bit-identical to the
 * general loops. Two rewrites are exact and used to drop work:
 * - `sign·g` with `sign = ±1` is exact, so `lr·(sign·g) = (sign·lr)·g` and
 *   `keep·(sign·g) = (keep·sign)·g` bit for bit;
 * - `fround(p·1) = p` for a float32 `p` (NaN and −0 included), so AdamW's decoupled decay needs
 *   no branch when it is off.
 */

const fround = Math.fround;

/**
 * Plain SGD (no momentum): `θ ← θ − lr·g` with `g = sign·grad (+ wd·θ, rounded to float32)`.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * sgdPlain(value, grad, 0.1, 1, 0); // θ ← θ − 0.1·g
 * ```
 */
export function sgdPlain(value: Float32Array, grad: Float32Array, lr: number, sign: number, wd: number): void {
  const n = value.length;
  if (wd === 0) {
    const step = sign * lr;
    for (let i = 0; i < n; i++) value[i] = value[i]! - step * grad[i]!;
    return;
  }
  for (let i = 0; i < n; i++) {
    const p = value[i]!;
    value[i] = p - lr * fround(sign * grad[i]! + wd * p);
  }
}

/**
 * First SGD momentum step (the buffer starts as the gradient, no dampening):
 * `b ← g; θ ← θ − lr·(nesterov ? g + μ·b : b)`. Runs once per parameter, so it keeps its
 * branches.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * sgdMomentumFirst(value, grad, buf, 0.1, 0.9, 1, 0, false);
 * ```
 */
export function sgdMomentumFirst(value: Float32Array, grad: Float32Array, buf: Float32Array, lr: number, mu: number, sign: number, wd: number, nesterov: boolean): void {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    let g = sign * grad[i]!;
    if (wd !== 0) g = fround(g + wd * value[i]!);
    buf[i] = g;
    value[i] = value[i]! - lr * (nesterov ? fround(g + mu * g) : g);
  }
}

/**
 * SGD momentum step after the first: `b ← μ·b + keep·g` (float32 at each step, as PyTorch),
 * `θ ← θ − lr·(nesterov ? g + μ·b : b)`, with `g = sign·grad (+ wd·θ)` and `keep = 1 − dampening`.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * sgdMomentum(value, grad, buf, 0.1, 0.9, 1, 1, 0, false);
 * ```
 */
export function sgdMomentum(value: Float32Array, grad: Float32Array, buf: Float32Array, lr: number, mu: number, keep: number, sign: number, wd: number, nesterov: boolean): void {
  const n = value.length;
  if (wd === 0) {
    const ks = keep * sign;
    if (!nesterov) {
      for (let i = 0; i < n; i++) {
        const b = fround(fround(mu * buf[i]!) + ks * grad[i]!);
        buf[i] = b;
        value[i] = value[i]! - lr * b;
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      const g = sign * grad[i]!;
      const b = fround(fround(mu * buf[i]!) + keep * g);
      buf[i] = b;
      value[i] = value[i]! - lr * fround(g + mu * b);
    }
    return;
  }
  if (!nesterov) {
    for (let i = 0; i < n; i++) {
      const p = value[i]!;
      const b = fround(fround(mu * buf[i]!) + keep * fround(sign * grad[i]! + wd * p));
      buf[i] = b;
      value[i] = p - lr * b;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const p = value[i]!;
    const g = fround(sign * grad[i]! + wd * p);
    const b = fround(fround(mu * buf[i]!) + keep * g);
    buf[i] = b;
    value[i] = p - lr * fround(g + mu * b);
  }
}

/** Loop constants of one Adam step (see adam.ts for their meaning). */
export interface AdamConsts {
  /** `lr / (1 − β1^t)`. */
  stepSize: number;
  b1: number;
  b2: number;
  /** `1 − β1`, `1 − β2`. */
  c1: number;
  c2: number;
  eps: number;
  /** `1 − β2^t` and its square root. */
  bc2: number;
  bc2Sqrt: number;
  /** `1 − lr·λ` for AdamW, else 1. */
  decay: number;
  /** λ for Adam (coupled L2), else 0. */
  l2: number;
  sign: number;
  epsRoot: number;
}

/**
 * One Adam/AdamW step: `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
 * `θ ← θ·decay − stepSize·m/(√v/√bc2 + eps)`; `vmax` (AMSGrad) or `epsRoot > 0` take the
 * general loop, the rest one branch-free loop (with or without coupled L2).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * adamUpdate(value, grad, m, v, null, consts);
 * ```
 */
export function adamUpdate(value: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, vmax: Float32Array | null, k: AdamConsts): void {
  const n = value.length;
  const { stepSize, b1, b2, c1, c2, eps, bc2, bc2Sqrt, decay, l2, sign, epsRoot } = k;
  if (vmax === null && epsRoot === 0) {
    if (l2 === 0) {
      for (let i = 0; i < n; i++) {
        const p = fround(value[i]! * decay);
        const g = sign * grad[i]!;
        const mi = fround(fround(m[i]! * b1) + c1 * g);
        const vi = fround(fround(v[i]! * b2) + c2 * g * g);
        m[i] = mi;
        v[i] = vi;
        value[i] = p - stepSize * (mi / fround(fround(Math.sqrt(vi) / bc2Sqrt) + eps));
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      const p = fround(value[i]! * decay);
      const g = fround(sign * grad[i]! + l2 * p);
      const mi = fround(fround(m[i]! * b1) + c1 * g);
      const vi = fround(fround(v[i]! * b2) + c2 * g * g);
      m[i] = mi;
      v[i] = vi;
      value[i] = p - stepSize * (mi / fround(fround(Math.sqrt(vi) / bc2Sqrt) + eps));
    }
    return;
  }
  // General loop: AMSGrad and/or Optax's epsRoot.
  for (let i = 0; i < n; i++) {
    const p = fround(value[i]! * decay);
    let g = sign * grad[i]!;
    if (l2 !== 0) g = fround(g + l2 * p);
    const mi = fround(fround(m[i]! * b1) + c1 * g);
    const vi = fround(fround(v[i]! * b2) + c2 * g * g);
    m[i] = mi;
    v[i] = vi;
    let vv = vi;
    if (vmax !== null) {
      vv = Math.max(vmax[i]!, vi); // propagates NaN like torch.maximum
      vmax[i] = vv;
    }
    const denom = epsRoot === 0 ? fround(fround(Math.sqrt(vv) / bc2Sqrt) + eps) : Math.sqrt(vv / bc2 + epsRoot) + eps;
    value[i] = p - stepSize * (mi / denom);
  }
}

/**
 * One RMSprop step: `s ← α·s + (1−α)·g²`, `avg = √s + eps` (centered: `√(s − a²) + eps` with
 * `a ← α·a + (1−α)·g`), then `θ ← θ − lr·g/avg` or, with momentum, `b ← μ·b + g/avg`,
 * `θ ← θ − lr·b`. Plain and momentum-only configurations without weight decay run branch-free
 * loops; the rest the general loop.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * rmspropUpdate(value, grad, sq, null, null, 0.01, 0.99, 1e-8, 0, 0, 1);
 * ```
 */
export function rmspropUpdate(
  value: Float32Array, grad: Float32Array, sq: Float32Array, ga: Float32Array | null, buf: Float32Array | null,
  lr: number, alpha: number, eps: number, wd: number, mu: number, sign: number,
): void {
  const n = value.length;
  const c = 1 - alpha;
  if (ga === null && wd === 0) {
    if (buf === null) {
      for (let i = 0; i < n; i++) {
        const g = sign * grad[i]!;
        const s = fround(fround(alpha * sq[i]!) + c * g * g);
        sq[i] = s;
        value[i] = value[i]! - lr * (g / fround(fround(Math.sqrt(s)) + eps));
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      const g = sign * grad[i]!;
      const s = fround(fround(alpha * sq[i]!) + c * g * g);
      sq[i] = s;
      const b = fround(fround(mu * buf[i]!) + g / fround(fround(Math.sqrt(s)) + eps));
      buf[i] = b;
      value[i] = value[i]! - lr * b;
    }
    return;
  }
  // General loop: weight decay and/or centered.
  for (let i = 0; i < n; i++) {
    let g = sign * grad[i]!;
    if (wd !== 0) g = fround(g + wd * value[i]!);
    const s = fround(fround(alpha * sq[i]!) + c * g * g);
    sq[i] = s;
    let avg: number;
    if (ga !== null) {
      const a = fround(fround(alpha * ga[i]!) + c * g);
      ga[i] = a;
      avg = fround(fround(Math.sqrt(fround(s - a * a))) + eps);
    } else {
      avg = fround(fround(Math.sqrt(s)) + eps);
    }
    if (buf !== null) {
      const b = fround(fround(mu * buf[i]!) + g / avg);
      buf[i] = b;
      value[i] = value[i]! - lr * b;
    } else {
      value[i] = value[i]! - lr * (g / avg);
    }
  }
}
