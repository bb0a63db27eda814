/**
 * @file The compression report: `summary.json` data turned into a self-contained HTML page — a
 * table (mean ± sd over seeds of test accuracy, bytes, ratio to fp32, inference time) and an SVG
 * scatter of accuracy against bytes (log scale) with each configuration's seeds, its mean, and the
 * Pareto front (no configuration both smaller and more accurate).
 */

/** One serialized model of one seed. */
export interface ModelRecord {
  name: string;
  config: string;
  seed: number;
  testAccuracy: number;
  /** Test accuracy of the model decoded back from its file. */
  reloadedAccuracy: number;
  bytes: number;
  fp32Bytes: number;
  path: string;
  inferenceMsPer1k: number;
  /** Fraction of pruned weights (0 when dense). */
  sparsity: number;
}

/** Mean ± sd of one configuration over its seeds. */
export interface ConfigSummary {
  config: string;
  description: string;
  seeds: number;
  accuracyMean: number;
  accuracySd: number;
  bytesMean: number;
  ratioToFp32: number;
  inferenceMsPer1k: number;
  pareto: boolean;
}

/** Sample mean and standard deviation (n − 1; 0 for one value). */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** Groups the records by configuration and marks the Pareto-optimal ones (by mean bytes and mean accuracy). */
export function summarize(records: readonly ModelRecord[], descriptions: Record<string, string>): ConfigSummary[] {
  const configs = [...new Set(records.map((r) => r.config))];
  const out = configs.map((config): ConfigSummary => {
    const rs = records.filter((r) => r.config === config);
    const acc = meanSd(rs.map((r) => r.testAccuracy));
    const bytes = meanSd(rs.map((r) => r.bytes)).mean;
    return {
      config, description: descriptions[config] ?? config, seeds: rs.length, accuracyMean: acc.mean, accuracySd: acc.sd, bytesMean: bytes,
      ratioToFp32: bytes / rs[0]!.fp32Bytes, inferenceMsPer1k: meanSd(rs.map((r) => r.inferenceMsPer1k)).mean, pareto: false,
    };
  });
  for (const c of out) c.pareto = !out.some((d) => d !== c && d.bytesMean <= c.bytesMean && d.accuracyMean >= c.accuracyMean && (d.bytesMean < c.bytesMean || d.accuracyMean > c.accuracyMean));
  return out;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39"];

/** The accuracy-vs-bytes scatter (log-scale x) with the Pareto front as a step line. */
export function paretoChart(records: readonly ModelRecord[], summary: readonly ConfigSummary[], width = 820, height = 480): string {
  const m = { l: 70, r: 230, t: 40, b: 55 };
  const w = width - m.l - m.r, h = height - m.t - m.b;
  const bytes = records.map((r) => r.bytes), accs = records.map((r) => r.testAccuracy);
  const lx0 = Math.floor(Math.log10(Math.min(...bytes)) * 4) / 4, lx1 = Math.ceil(Math.log10(Math.max(...bytes)) * 4) / 4;
  const y0 = Math.floor(Math.min(...accs) * 100 - 0.5) / 100, y1 = Math.ceil(Math.max(...accs) * 100 + 0.5) / 100;
  const X = (b: number) => m.l + ((Math.log10(b) - lx0) / (lx1 - lx0 || 1)) * w;
  const Y = (a: number) => m.t + (1 - (a - y0) / (y1 - y0 || 1)) * h;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<text x="${m.l + w / 2}" y="20" text-anchor="middle" font-size="15">Test accuracy against serialized size (Fashion-MNIST)</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (let e = Math.floor(lx0); e <= Math.floor(lx1); e++) {
    for (const k of [1, 2, 5]) {
      const b = k * 10 ** e;
      if (Math.log10(b) < lx0 || Math.log10(b) > lx1) continue;
      const label = b >= 1e6 ? `${b / 1e6} MB` : `${b / 1e3} kB`;
      parts.push(`<line x1="${X(b)}" x2="${X(b)}" y1="${m.t}" y2="${m.t + h}" stroke="#eee"/><text x="${X(b)}" y="${m.t + h + 16}" text-anchor="middle">${label}</text>`);
    }
  }
  for (let a = y0; a <= y1 + 1e-9; a += Math.max(0.005, Math.round(((y1 - y0) / 6) * 200) / 200)) {
    parts.push(`<line x1="${m.l}" x2="${m.l + w}" y1="${Y(a)}" y2="${Y(a)}" stroke="#eee"/><text x="${m.l - 6}" y="${Y(a) + 4}" text-anchor="end">${(a * 100).toFixed(1)}%</text>`);
  }
  parts.push(`<text x="${m.l + w / 2}" y="${height - 12}" text-anchor="middle">bytes of the serialized model (log scale)</text>`);
  parts.push(`<text transform="translate(18 ${m.t + h / 2}) rotate(-90)" text-anchor="middle">test accuracy</text>`);
  const front = summary.filter((c) => c.pareto).sort((a, b) => a.bytesMean - b.bytesMean);
  if (front.length > 1) {
    let d = `M${X(front[0]!.bytesMean)},${Y(front[0]!.accuracyMean)}`;
    for (let i = 1; i < front.length; i++) d += ` H${X(front[i]!.bytesMean)} V${Y(front[i]!.accuracyMean)}`;
    parts.push(`<path d="${d}" fill="none" stroke="#444" stroke-dasharray="5,4"/>`);
  }
  summary.forEach((c, i) => {
    const color = COLORS[i % COLORS.length]!;
    for (const r of records.filter((r) => r.config === c.config)) parts.push(`<circle cx="${X(r.bytes)}" cy="${Y(r.testAccuracy)}" r="2.5" fill="${color}" opacity="0.5"/>`);
    const cx = X(c.bytesMean), cy = Y(c.accuracyMean);
    parts.push(`<line x1="${cx}" x2="${cx}" y1="${Y(c.accuracyMean - c.accuracySd)}" y2="${Y(c.accuracyMean + c.accuracySd)}" stroke="${color}"/>`);
    parts.push(`<circle cx="${cx}" cy="${cy}" r="5" fill="${c.pareto ? color : "white"}" stroke="${color}" stroke-width="2"/>`);
    const ly = m.t + 8 + i * 17;
    parts.push(`<circle cx="${m.l + w + 18}" cy="${ly}" r="5" fill="${c.pareto ? color : "white"}" stroke="${color}" stroke-width="2"/><text x="${m.l + w + 28}" y="${ly + 4}">${esc(c.config)}</text>`);
  });
  parts.push(`<text x="${m.l + w + 12}" y="${m.t + 14 + summary.length * 17}" fill="#444">filled: on the Pareto front</text>`);
  parts.push("</svg>");
  return parts.join("\n");
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const kb = (b: number) => `${(b / 1000).toFixed(1)} kB`;

/** The whole HTML page. */
export function reportHtml(title: string, intro: string, records: readonly ModelRecord[], summary: readonly ConfigSummary[], notes: readonly string[]): string {
  const rows = summary
    .map((c) => `<tr${c.pareto ? ' class="pareto"' : ""}><td>${esc(c.config)}</td><td>${esc(c.description)}</td><td>${c.seeds}</td><td>${pct(c.accuracyMean)} ± ${(c.accuracySd * 100).toFixed(2)}</td><td>${kb(c.bytesMean)}</td><td>${pct(c.ratioToFp32)}</td><td>${c.inferenceMsPer1k.toFixed(2)}</td><td>${c.pareto ? "yes" : ""}</td></tr>`)
    .join("\n");
  const modelRows = records
    .map((r) => `<tr><td>${esc(r.name)}</td><td>${pct(r.testAccuracy)}</td><td>${pct(r.reloadedAccuracy)}</td><td>${r.bytes}</td><td>${pct(r.sparsity)}</td><td>${r.inferenceMsPer1k.toFixed(2)}</td><td>${esc(r.path)}</td></tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.45}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,td:nth-child(2),th{text-align:left}tr.pareto td{font-weight:bold}code{background:#f4f4f4;padding:0 3px}</style>
</head><body>
<h1>${esc(title)}</h1>
<p>${intro}</p>
${paretoChart(records, summary)}
<h2>Configurations (mean ± sd over seeds)</h2>
<table><tr><th>config</th><th>what</th><th>seeds</th><th>test accuracy</th><th>bytes</th><th>of fp32</th><th>ms / 1k images</th><th>Pareto</th></tr>
${rows}
</table>
<h2>Notes</h2>
<ul>${notes.map((n) => `<li>${n}</li>`).join("\n")}</ul>
<h2>Every model file</h2>
<table><tr><th>model</th><th>test accuracy</th><th>reloaded from file</th><th>bytes</th><th>sparsity</th><th>ms / 1k images</th><th>path</th></tr>
${modelRows}
</table>
</body></html>
`;
}
