/**
 * The training-curves figure written to `output_dir` at the end of a run
 * (`training_curves.svg`): training loss over steps in the top panel, each task's main dev
 * metric over steps in the bottom panel (one line per task, with a legend). Both panels share
 * the step axis. Hand-written SVG 1.1, no dependency; every text is XML-escaped.
 *
 * Non-finite values (a NaN Pearson on a constant prediction, a loss that overflowed) are
 * left out of their line, which joins the neighbouring points; a line of one point is drawn
 * as a dot.
 *
 * @module
 */

import { writeTextAtomic } from "./log.ts";

/** The parts of a log record the plot reads (`LogRecord` in `trainer.ts` has them). */
export interface PlotRecord {
  step: number;
  /** Training loss at this step, if logged. */
  loss?: number;
  /** Dev metrics by task, then by metric key, if evaluated at this step. */
  eval?: Record<string, Record<string, number>>;
}

/** Options of {@linkcode trainingPlotSvg}. */
export interface PlotOptions {
  /** Figure title. Default `"camtl training"`. */
  title?: string;
  /** The metric key to plot for a task; by default the first of `mcc`, `pearson`, `acc`, … it has. */
  mainMetrics?: Record<string, string>;
}

/** One line of a panel. */
export interface Series {
  name: string;
  points: [step: number, value: number][];
}

const WIDTH = 760, PANEL_H = 230, LEFT = 68, RIGHT = 200, TITLE_H = 44, GAP = 70, BOTTOM = 46;
const PLOT_W = WIDTH - LEFT - RIGHT;
// Tableau 10: distinguishable, and readable by most colour-blind viewers.
const COLORS = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];
const PREFERRED = ["mcc", "pearson", "acc", "corr", "f1", "acc_and_f1", "spearmanr"];

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[c]};`,
  )
    // Control characters other than tab and newlines are not allowed in XML 1.0 at all.
    // deno-lint-ignore no-control-regex -- matching them is the point
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "");
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; step: number } {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999) ?? 10 * mag;
  const ticks: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) {
    ticks.push(Number((i * step).toPrecision(12)));
  }
  return { ticks, step };
}

function tickLabel(v: number, step: number): string {
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4)) return v.toExponential(1);
  return v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

/** [lo, hi] widened to round numbers, never empty. */
function domain(values: number[], pad: number): [number, number] {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  } else {
    const d = (hi - lo) * pad;
    lo -= d;
    hi += d;
  }
  const { step } = niceTicks(lo, hi);
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
}

const fmt = (v: number) => Number(v.toFixed(1)).toString();

function panel(
  series: readonly Series[],
  labels: { title: string; y: string },
  frame: { top: number; x: [number, number]; colorOffset: number },
): string[] {
  const { top } = frame;
  const bottom = top + PANEL_H;
  const out = [
    `<text x="${LEFT}" y="${top - 10}" font-size="14" font-weight="bold">${
      escapeXml(labels.title)
    }</text>`,
  ];
  const finite = series.flatMap((s) => s.points.filter(([x, y]) => isFinite(x) && isFinite(y)));
  if (finite.length === 0) {
    out.push(
      `<rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${PANEL_H}" fill="none" stroke="#999"/>`,
      `<text x="${LEFT + PLOT_W / 2}" y="${
        top + PANEL_H / 2
      }" text-anchor="middle" fill="#777">no data</text>`,
    );
    return out;
  }
  const [x0, x1] = frame.x;
  const [y0, y1] = domain(finite.map((p) => p[1]), 0.05);
  const sx = (x: number) => LEFT + ((x - x0) / (x1 - x0)) * PLOT_W;
  const sy = (y: number) => bottom - ((y - y0) / (y1 - y0)) * PANEL_H;
  const yt = niceTicks(y0, y1), xt = niceTicks(x0, x1, 6);
  for (const t of yt.ticks) {
    out.push(
      `<line x1="${LEFT}" y1="${fmt(sy(t))}" x2="${LEFT + PLOT_W}" y2="${
        fmt(sy(t))
      }" stroke="#e5e5e5"/>`,
      `<text x="${LEFT - 6}" y="${fmt(sy(t) + 4)}" font-size="11" text-anchor="end">${
        tickLabel(t, yt.step)
      }</text>`,
    );
  }
  for (const t of xt.ticks) {
    out.push(
      `<line x1="${fmt(sx(t))}" y1="${bottom}" x2="${fmt(sx(t))}" y2="${
        bottom + 5
      }" stroke="#555"/>`,
      `<text x="${fmt(sx(t))}" y="${bottom + 18}" font-size="11" text-anchor="middle">${
        tickLabel(t, xt.step)
      }</text>`,
    );
  }
  out.push(
    `<rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${PANEL_H}" fill="none" stroke="#555"/>`,
    `<text x="${LEFT + PLOT_W / 2}" y="${
      bottom + 36
    }" font-size="12" text-anchor="middle">step</text>`,
    `<text x="18" y="${
      top + PANEL_H / 2
    }" font-size="12" text-anchor="middle" transform="rotate(-90 18 ${top + PANEL_H / 2})">${
      escapeXml(labels.y)
    }</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[(i + frame.colorOffset) % COLORS.length];
    const good = s.points.filter(([x, y]) => isFinite(x) && isFinite(y));
    const pts = good.map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`).join(" ");
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.8" stroke-linejoin="round" points="${pts}"><title>${
        escapeXml(s.name)
      }</title></polyline>`,
    );
    // Dots where the points are few (evaluations), so that single points show too.
    if (good.length <= 40) {
      for (const [x, y] of good) {
        out.push(`<circle cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="2.8" fill="${color}"/>`);
      }
    }
    const ly = top + 12 + 20 * i;
    out.push(
      `<line x1="${WIDTH - RIGHT + 14}" y1="${ly}" x2="${
        WIDTH - RIGHT + 36
      }" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${WIDTH - RIGHT + 42}" y="${ly + 4}" font-size="12">${escapeXml(s.name)}</text>`,
    );
  });
  return out;
}

function mainMetric(
  task: string,
  metrics: Record<string, number>,
  chosen: Record<string, string>,
): [string, number] | null {
  const bare = (k: string) => k.replace(/^eval_/, "");
  const keys = Object.keys(metrics);
  const want = chosen[task];
  const key = want !== undefined
    ? keys.find((k) => k === want || bare(k) === want)
    : PREFERRED.map((p) => keys.find((k) => bare(k) === p)).find((k) => k !== undefined) ??
      keys.find((k) => !["loss", "epoch", "step"].includes(bare(k)));
  return key === undefined ? null : [bare(key), metrics[key]];
}

/** The loss series and one series per task's main metric, in order of first appearance. */
export function plotSeries(
  records: readonly PlotRecord[],
  mainMetrics: Record<string, string> = {},
): { loss: Series; metrics: Series[] } {
  const loss: Series = { name: "train loss", points: [] };
  const tasks = new Map<string, Series>();
  for (const r of records) {
    if (typeof r.loss === "number") loss.points.push([r.step, r.loss]);
    for (const [task, metrics] of Object.entries(r.eval ?? {})) {
      const main = mainMetric(task, metrics, mainMetrics);
      if (main === null) continue;
      const name = `${task} (${main[0]})`;
      if (!tasks.has(name)) tasks.set(name, { name, points: [] });
      tasks.get(name)!.points.push([r.step, main[1]]);
    }
  }
  return { loss, metrics: [...tasks.values()] };
}

/**
 * The figure as SVG text.
 *
 * @param records The run's log records, e.g. `trainer.logHistory`.
 * @param options Title and per-task metric choice.
 * @returns A standalone SVG document.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainingPlotSvg } from "./plot.ts";
 * const svg = trainingPlotSvg([
 *   { step: 50, loss: 0.69, eval: { "demo-rating": { pearson: 0.4, corr: 0.38 } } },
 *   { step: 100, loss: 0.41, eval: { "demo-rating": { pearson: 0.8, corr: 0.79 } } },
 * ]);
 * assert.equal(svg.match(/<polyline/g)?.length, 2);
 * assert.ok(svg.includes("demo-rating (pearson)"));
 * ```
 */
export function trainingPlotSvg(records: readonly PlotRecord[], options: PlotOptions = {}): string {
  const { loss, metrics } = plotSeries(records, options.mainMetrics);
  const steps = [...loss.points, ...metrics.flatMap((s) => s.points)]
    .filter(([x, y]) => isFinite(x) && isFinite(y)).map(([x]) => x);
  const x: [number, number] = steps.length === 0
    ? [0, 1]
    : domain([Math.min(0, ...steps), Math.max(...steps)], 0);
  const height = TITLE_H + 2 * PANEL_H + GAP + BOTTOM + 20;
  const title = escapeXml(options.title ?? "camtl training");
  const lossTop = TITLE_H + 20, metricTop = lossTop + PANEL_H + GAP;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${title}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="26" font-size="17" text-anchor="middle">${title}</text>`,
    ...panel([loss], { title: "Training loss", y: "loss" }, { top: lossTop, x, colorOffset: 0 }),
    ...panel(metrics, { title: "Dev metric per task", y: "metric" }, {
      top: metricTop,
      x,
      colorOffset: 1,
    }),
    `</svg>`,
  ].join("\n") + "\n";
}

/**
 * Writes the figure to `path` atomically (temporary file, then rename).
 *
 * @param path Usually `<output_dir>/training_curves.svg`.
 * @param records The run's log records.
 * @param options As {@linkcode trainingPlotSvg}.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 */
export async function writeTrainingPlot(
  path: string,
  records: readonly PlotRecord[],
  options: PlotOptions = {},
): Promise<void> {
  await writeTextAtomic(path, trainingPlotSvg(records, options));
}
