// Statistics, the console table and the SVG chart.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// {median, min, max, spreadPct: (max - min) / median, n}
export function summarize(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (!v.length) return { median: null, min: null, max: null, spreadPct: null, n: 0 };
  const m = median(v);
  const min = Math.min(...v);
  const max = Math.max(...v);
  return { median: m, min, max, spreadPct: m ? ((max - min) / m) * 100 : null, n: v.length };
}

// How many items of `list` fall under each value of key(item): {value: count}.
export function countBy(list, key) {
  const out = {};
  for (const x of list) out[key(x)] = (out[key(x)] || 0) + 1;
  return out;
}

export function fmt(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return "-";
  if (typeof x !== "number") return String(x);
  return x.toFixed(digits);
}

export function table(headers, rows) {
  const cells = [headers, ...rows.map((r) => headers.map((_, i) => (r[i] === null || r[i] === undefined ? "-" : String(r[i]))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

export function markdownTable(headers, rows) {
  const esc = (c) => (c === null || c === undefined ? "-" : String(c));
  return [
    `| ${headers.join(" | ")} |`,
    `| ${headers.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

const COLORS = { project: "#f38020", "project+ratelimit": "#b35c14", "plain-js": "#4f6bed", floor: "#8a8a8a", "origin direct": "#2e9e6b" };

function escapeXml(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// panels: [{title, unit, groups: [{label, bars: [{target, value, min, max}]}]}]
// Horizontal bars, one panel per metric; whiskers show the min..max over rounds.
export function chartSvg({ title, subtitle, panels }) {
  const width = 760;
  const labelW = 150;
  const barH = 16;
  const gap = 4;
  const panelGap = 34;
  let y = 58;
  const parts = [];
  for (const panel of panels) {
    const max = Math.max(1e-9, ...panel.groups.flatMap((g) => g.bars.map((b) => Math.max(b.value || 0, b.max || 0))));
    const plotW = width - labelW - 110;
    parts.push(`<text x="16" y="${y}" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`);
    y += 12;
    for (const group of panel.groups) {
      y += 6;
      parts.push(`<text x="16" y="${y + 11}" font-size="12" fill="#333">${escapeXml(group.label)}</text>`);
      for (const bar of group.bars) {
        const w = bar.value ? (bar.value / max) * plotW : 0;
        const color = COLORS[bar.target] || "#999";
        parts.push(`<text x="${labelW - 6}" y="${y + 12}" font-size="11" text-anchor="end" fill="#555">${escapeXml(bar.target)}</text>`);
        parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`);
        if (Number.isFinite(bar.min) && Number.isFinite(bar.max) && bar.max > bar.min) {
          const x1 = labelW + (bar.min / max) * plotW;
          const x2 = labelW + (bar.max / max) * plotW;
          const cy = y + barH / 2;
          parts.push(`<line x1="${x1.toFixed(1)}" y1="${cy}" x2="${x2.toFixed(1)}" y2="${cy}" stroke="#000" stroke-width="1"/>`);
          parts.push(`<line x1="${x1.toFixed(1)}" y1="${cy - 4}" x2="${x1.toFixed(1)}" y2="${cy + 4}" stroke="#000"/>`);
          parts.push(`<line x1="${x2.toFixed(1)}" y1="${cy - 4}" x2="${x2.toFixed(1)}" y2="${cy + 4}" stroke="#000"/>`);
        }
        const text = bar.value === null || bar.value === undefined ? "n/a" : `${fmt(bar.value, bar.value < 100 ? 1 : 0)} ${panel.unit}`;
        parts.push(`<text x="${labelW + Math.max(w, Number.isFinite(bar.max) ? (bar.max / max) * plotW : 0) + 6}" y="${y + 12}" font-size="11">${escapeXml(text)}</text>`);
        y += barH + gap;
      }
    }
    y += panelGap;
  }
  const height = y;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="16" y="42" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}
