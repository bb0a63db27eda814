/**
 * @file Self-contained SVG line charts (no dependencies): several named series over a shared x
 * axis, optional log-scale y, gaps for non-finite values, a legend and axis ticks.
 */

/** One line of a chart. */
export interface Series {
  name: string;
  values: readonly number[];
  color: string;
  /** x of each value (default 0, 1, 2, ...). */
  x?: readonly number[];
  dashed?: boolean;
}

/** Options of {@link lineChart}. */
export interface ChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  logY?: boolean;
  width?: number;
  height?: number;
  /** Horizontal reference lines, e.g. a clipping threshold. */
  hLines?: { y: number; label: string; color?: string }[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmtTick(v: number, log: boolean): string {
  if (log) return `1e${Math.round(v)}`;
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

/**
 * Renders series as an inline SVG string.
 *
 * @example
 * ```ts
 * lineChart([{ name: "loss", values: losses, color: "#c33" }], { title: "Training loss", logY: true });
 * ```
 */
export function lineChart(series: readonly Series[], opts: ChartOptions): string {
  const W = opts.width ?? 640, H = opts.height ?? 300;
  const m = { l: 64, r: 16, t: 30, b: 42 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const tf = (v: number) => (opts.logY ? (v > 0 ? Math.log10(v) : NaN) : v);
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const s of series) {
    s.values.forEach((v, i) => {
      const x = s.x?.[i] ?? i;
      const y = tf(v);
      if (!Number.isFinite(y)) return;
      xmin = Math.min(xmin, x); xmax = Math.max(xmax, x);
      ymin = Math.min(ymin, y); ymax = Math.max(ymax, y);
    });
  }
  for (const h of opts.hLines ?? []) { const y = tf(h.y); if (Number.isFinite(y)) { ymin = Math.min(ymin, y); ymax = Math.max(ymax, y); } }
  if (!Number.isFinite(xmin)) { xmin = 0; xmax = 1; ymin = 0; ymax = 1; }
  if (xmax === xmin) xmax = xmin + 1;
  if (ymax === ymin) { ymax += 0.5; ymin -= 0.5; }
  const pad = (ymax - ymin) * 0.05; ymin -= pad; ymax += pad;
  const sx = (x: number) => m.l + ((x - xmin) / (xmax - xmin)) * pw;
  const sy = (y: number) => m.t + ph - ((y - ymin) / (ymax - ymin)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="11">`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${esc(opts.title)}</text>`);
  const yt = opts.logY ? niceTicks(Math.floor(ymin), Math.ceil(ymax)).filter((v) => Number.isInteger(v)) : niceTicks(ymin, ymax);
  for (const v of yt) {
    if (v < ymin || v > ymax) continue;
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmtTick(v, Boolean(opts.logY))}</text>`);
  }
  for (const v of niceTicks(xmin, xmax, 6)) {
    parts.push(`<text x="${sx(v).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle" fill="#555">${fmtTick(v, false)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  if (opts.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle" fill="#333">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) parts.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(opts.yLabel)}${opts.logY ? " (log)" : ""}</text>`);
  for (const h of opts.hLines ?? []) {
    const y = tf(h.y);
    if (!Number.isFinite(y)) continue;
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="${h.color ?? "#888"}" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${m.l + pw - 4}" y="${(sy(y) - 4).toFixed(1)}" text-anchor="end" fill="${h.color ?? "#888"}">${esc(h.label)}</text>`);
  }
  series.forEach((s, k) => {
    let d = "";
    let pen = false;
    const step = Math.max(1, Math.floor(s.values.length / 1500)); // thin very long series
    for (let i = 0; i < s.values.length; i += step) {
      const y = tf(s.values[i]!);
      if (!Number.isFinite(y)) { pen = false; continue; }
      d += `${pen ? "L" : "M"}${sx(s.x?.[i] ?? i).toFixed(1)} ${sy(y).toFixed(1)}`;
      pen = true;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.3"${s.dashed ? ' stroke-dasharray="5 3"' : ""} opacity="0.9"/>`);
    const ly = m.t + 12 + 14 * k;
    parts.push(`<line x1="${m.l + 8}" x2="${m.l + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`);
    parts.push(`<text x="${m.l + 30}" y="${ly}" fill="#222">${esc(s.name)}</text>`);
  });
  parts.push(`</svg>`);
  return parts.join("");
}
