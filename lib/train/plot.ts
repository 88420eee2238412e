/**
 * The training-curves figure written to `output_dir` at the end of a run: training loss over
 * steps (top panel) and each task's main dev metric over steps (bottom panel, one line per
 * task, with a legend). Hand-written SVG, no dependency.
 *
 * @module
 */

import type { LogRecord } from "./trainer.ts";

/** One line of a panel. */
export interface Series {
  name: string;
  points: [number, number][];
}

const W = 720, PANEL_H = 260, LEFT = 64, RIGHT = 170, TOP = 36, GAP = 56;
const COLORS = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#e377c2",
  "#17becf",
];

function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) {
    out.push(+v.toPrecision(12));
  }
  return out;
}

function panel(series: Series[], title: string, yLabel: string, top: number): string {
  const pts = series.flatMap((s) => s.points).filter(([x, y]) =>
    Number.isFinite(x) && Number.isFinite(y)
  );
  const parts: string[] = [];
  const pw = W - LEFT - RIGHT;
  parts.push(
    `<text x="${LEFT}" y="${top - 10}" font-size="14" font-weight="bold">${escape(title)}</text>`,
  );
  parts.push(
    `<rect x="${LEFT}" y="${top}" width="${pw}" height="${PANEL_H}" fill="none" stroke="#888"/>`,
  );
  if (pts.length === 0) {
    parts.push(
      `<text x="${LEFT + pw / 2}" y="${
        top + PANEL_H / 2
      }" text-anchor="middle" fill="#888">no data</text>`,
    );
    return parts.join("\n");
  }
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => LEFT + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => top + PANEL_H - ((y - y0) / (y1 - y0)) * PANEL_H;
  for (const t of ticks(x0, x1)) {
    parts.push(
      `<line x1="${sx(t)}" y1="${top + PANEL_H}" x2="${sx(t)}" y2="${
        top + PANEL_H + 5
      }" stroke="#888"/>`,
    );
    parts.push(
      `<text x="${sx(t)}" y="${
        top + PANEL_H + 18
      }" font-size="11" text-anchor="middle">${t}</text>`,
    );
  }
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${LEFT}" y1="${sy(t)}" x2="${LEFT + pw}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(
      `<text x="${LEFT - 6}" y="${sy(t) + 4}" font-size="11" text-anchor="end">${t}</text>`,
    );
  }
  parts.push(
    `<text x="${LEFT + pw / 2}" y="${
      top + PANEL_H + 34
    }" font-size="12" text-anchor="middle">step</text>`,
  );
  parts.push(
    `<text x="16" y="${
      top + PANEL_H / 2
    }" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${top + PANEL_H / 2})">${
      escape(yLabel)
    }</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const good = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const d = good.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${d}"/>`);
    if (good.length === 1) {
      parts.push(`<circle cx="${sx(good[0][0])}" cy="${sy(good[0][1])}" r="3" fill="${color}"/>`);
    }
    const ly = top + 14 + 18 * i;
    parts.push(
      `<line x1="${W - RIGHT + 12}" y1="${ly}" x2="${
        W - RIGHT + 32
      }" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${W - RIGHT + 38}" y="${ly + 4}" font-size="12">${escape(s.name)}</text>`);
  });
  return parts.join("\n");
}

/** The main metric of a task's metric record: the first of its HF keys. */
function mainMetric(metrics: Record<string, number>): [string, number] | null {
  for (const k of ["acc", "mcc", "pearson", "corr", "f1"]) if (k in metrics) return [k, metrics[k]];
  const k = Object.keys(metrics).find((k) => k !== "eval_loss");
  return k ? [k, metrics[k]] : null;
}

/** The figure as SVG text, from the run's log records. */
export function trainingPlotSvg(records: readonly LogRecord[], title = "camtl training"): string {
  const loss: Series = { name: "train loss", points: [] };
  const tasks = new Map<string, Series>();
  for (const r of records) {
    if (r.loss !== undefined) loss.points.push([r.step, r.loss]);
    for (const [task, m] of Object.entries(r.eval ?? {})) {
      const main = mainMetric(m);
      if (!main) continue;
      const name = `${task} ${main[0]}`;
      if (!tasks.has(name)) tasks.set(name, { name, points: [] });
      tasks.get(name)!.points.push([r.step, main[1]]);
    }
  }
  const height = TOP + 2 * PANEL_H + GAP + 50;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="20" font-size="16" text-anchor="middle">${escape(title)}</text>`,
    panel([loss], "Training loss", "loss", TOP + 20),
    panel([...tasks.values()], "Dev metric per task", "metric", TOP + 20 + PANEL_H + GAP),
    `</svg>`,
  ].join("\n") + "\n";
}

/** Writes the figure to `path` atomically. */
export async function writeTrainingPlot(
  path: string,
  records: readonly LogRecord[],
): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, trainingPlotSvg(records));
  await Deno.rename(tmp, path);
}
