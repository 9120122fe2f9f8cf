// A dependency-free SVG chart: the cumulative distribution (CDF) of latency samples, one line per series, with
// p50/p99 marked.

export interface Series {
  name: string;
  /** Latency samples in ms (any order). */
  samples: number[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function cdfSvg(series: Series[], opts: { title: string; xLabel: string; subtitle?: string }): string {
  const W = 720;
  const H = 420;
  const m = { left: 60, right: 20, top: 56, bottom: 50 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = series.flatMap((s) => s.samples);
  const xMaxRaw = all.length ? Math.max(...all) : 1;
  const step = niceStep(xMaxRaw || 1, 8);
  const xMax = Math.ceil((xMaxRaw || 1) / step) * step;
  const x = (v: number) => m.left + (v / xMax) * pw;
  const y = (p: number) => m.top + (1 - p) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" role="img" aria-label="${esc(opts.title)}">`,
    `<title>${esc(opts.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(opts.title)}</text>`,
  );
  if (opts.subtitle)
    out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(opts.subtitle)}</text>`);
  // Grid and axes.
  for (let v = 0; v <= xMax + 1e-9; v += step) {
    out.push(
      `<line x1="${x(v).toFixed(1)}" y1="${m.top}" x2="${x(v).toFixed(1)}" y2="${m.top + ph}" stroke="#eee"/>`,
      `<text x="${x(v).toFixed(1)}" y="${m.top + ph + 16}" text-anchor="middle">${+v.toFixed(3)}</text>`,
    );
  }
  for (const p of [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1]) {
    out.push(
      `<line x1="${m.left}" y1="${y(p).toFixed(1)}" x2="${m.left + pw}" y2="${y(p).toFixed(1)}" stroke="${p === 0.5 || p === 0.99 ? '#ccc' : '#eee'}"/>`,
      `<text x="${m.left - 6}" y="${(y(p) + 4).toFixed(1)}" text-anchor="end">${p === 0.99 ? 'p99' : p === 0.5 ? 'p50' : `${p * 100}%`}</text>`,
    );
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
    `<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(opts.xLabel)}</text>`,
  );
  // One step line per series.
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const sorted = [...s.samples].sort((a, b) => a - b);
    const n = sorted.length;
    if (n === 0) return;
    const pts: string[] = [`${x(0).toFixed(1)},${y(0).toFixed(1)}`];
    sorted.forEach((v, k) => {
      pts.push(`${x(v).toFixed(1)},${y(k / n).toFixed(1)}`, `${x(v).toFixed(1)},${y((k + 1) / n).toFixed(1)}`);
    });
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    const p50 = sorted[Math.floor(0.5 * (n - 1))];
    const p99 = sorted[Math.floor(0.99 * (n - 1))];
    out.push(
      `<rect x="${m.left + pw - 260}" y="${m.top + ph - 24 - 20 * (series.length - 1 - i)}" width="12" height="12" fill="${color}"/>`,
      `<text x="${m.left + pw - 242}" y="${m.top + ph - 14 - 20 * (series.length - 1 - i)}">${esc(`${s.name}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (n=${n})`)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
