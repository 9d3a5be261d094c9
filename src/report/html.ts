/**
 * Self-contained HTML reports (no network: inline CSS, charts rendered to inline SVG by Vega-Lite/Vega at write
 * time). Every piece of text that comes from the data (ids, document text, source names) goes through `escapeHtml`.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { TOOL_VERSION } from '../version.js';

export function escapeHtml(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A Vega-Lite spec rendered to an SVG string (inline data only). */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface Section {
  heading: string;
  /** Trusted HTML (built with escapeHtml for any data). */
  html: string;
}

/** A table from rows of already-formatted cells (escaped here). */
/** A cell: text (escaped), or text with a class (e.g. `examples`: left-aligned, line breaks kept). */
export type Cell = string | number | { text: string; class: string };

export function table(head: string[], rows: Cell[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const td = (c: Cell) =>
    typeof c === 'object'
      ? `<td class="${escapeHtml(c.class)}">${escapeHtml(c.text)}</td>`
      : `<td>${escapeHtml(c)}</td>`;
  const tr = rows.map((r) => `<tr>${r.map(td).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

export function page(title: string, intro: string, sections: Section[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { border: 1px solid #ddd; padding: .2rem .5rem; text-align: right; }
th { background: #f5f5f5; } td:first-child, th:first-child { text-align: left; }
td.examples { text-align: left; white-space: pre-line; max-width: 40rem; font-size: 12px; }
.chart svg { max-width: 100%; height: auto; } .note { color: #555; } .warn { color: #a40000; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="note">${intro}</p>
${sections.map((s) => `<section><h2>${escapeHtml(s.heading)}</h2>\n${s.html}\n</section>`).join('\n')}
<p class="note">tailguard ${escapeHtml(TOOL_VERSION)} · ${escapeHtml(new Date().toISOString())}</p>
</body></html>
`;
}

/** A share as a percentage, one decimal. */
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
/** A metric with its interval: value (lo–hi), three decimals. */
export const ci = (m: { value: number; ci: { lo: number; hi: number } }): string =>
  `${m.value.toFixed(3)} (${m.ci.lo.toFixed(3)}–${m.ci.hi.toFixed(3)})`;

/** Example documents of a region: each id with the start of its text when the report found it. */
export function examplesCell(c: { examples: string[]; example_texts?: (string | null)[] }): Cell {
  return {
    class: 'examples',
    text: c.examples.map((id, t) => (c.example_texts?.[t] ? `${id}: ${c.example_texts[t]}` : id)).join('\n'),
  };
}
