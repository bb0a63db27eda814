/**
 * @file Scalar special functions the JS `Math` object lacks (`erf`) and a log built only from
 * IEEE-754 basic operations (so the seeded normal sampler gives the same bits on every engine).
 */

/* Coefficients of fdlibm's s_erf.c (Sun Microsystems, freely redistributable). */
const ERX = 8.45062911510467529297e-1;
const EFX = 1.28379167095512586316e-1;
const PP = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const QQ = [3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
const PA = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const QA = [1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
const RA = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592];
const SA = [1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2];
const RB = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const SB = [3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

function poly(c: readonly number[], z: number): number {
  let r = c[c.length - 1]!;
  for (let i = c.length - 2; i >= 0; i--) r = c[i]! + z * r;
  return r;
}

/**
 * The error function, accurate to about 1e-15 (fdlibm's rational approximations).
 *
 * @throws {TypeError} when `x` is not a number (NaN gives NaN).
 * @example
 * ```ts
 * erf(0.5); // 0.5204998778130465
 * ```
 */
export function erf(x: number): number {
  if (typeof x !== "number") throw new TypeError(`erf: x must be a number (got ${typeof x})`);
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 3.7252902984e-9) return x + EFX * x;
    const z = x * x;
    return x + x * (poly(PP, z) / (1 + z * poly(QQ, z)));
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const pq = poly(PA, s) / (1 + s * poly(QA, s));
    return x >= 0 ? ERX + pq : -ERX - pq;
  }
  if (ax >= 6) return x >= 0 ? 1 : -1;
  const s = 1 / (ax * ax);
  const rs = ax < 1 / 0.35 ? poly(RA, s) / (1 + s * poly(SA, s)) : poly(RB, s) / (1 + s * poly(SB, s));
  const r = Math.exp(-ax * ax - 0.5625 + rs);
  return x >= 0 ? 1 - r / ax : r / ax - 1;
}

const LN2 = 0.6931471805599453;
const SQRT_HALF = 0.7071067811865476;

/**
 * Natural log of `x` in (0, 1], computed with +, −, ×, ÷ only (exactly specified by IEEE-754), so
 * every JS engine returns the same bits. Used by the seeded normal sampler.
 *
 * @throws never. `x` is not checked: for `x <= 0` the range reduction never ends (the sampler
 * only passes values in (0, 1)).
 * @example
 * ```ts
 * portableLogUnit(0.5); // -0.6931471805599453
 * ```
 */
export function portableLogUnit(x: number): number {
  // Reduce to m in [sqrt(1/2), sqrt(2)) with x = m * 2^k; scaling by 2 is exact.
  let k = 0;
  let m = x;
  while (m < SQRT_HALF) {
    m *= 2;
    k--;
  }
  // log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.1716: the odd series converges fast.
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let term = s;
  let sum = 0;
  for (let n = 1; n < 40; n += 2) {
    sum += term / n;
    term *= s2;
  }
  return k * LN2 + 2 * sum;
}

/**
 * `x ** y` with IEEE-754/C `pow` semantics, as PyTorch has them: `pow(1, y) = 1` for every `y`
 * (NaN included) and `pow(-1, ±Infinity) = 1`, where `Math.pow` gives NaN.
 *
 * @throws never.
 * @example
 * ```ts
 * powIeee(1, NaN); // 1 (Math.pow gives NaN)
 * ```
 */
export function powIeee(x: number, y: number): number {
  return x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y);
}
