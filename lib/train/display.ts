/**
 * Rich display in the Deno Jupyter kernel: the object a cell ends with is shown through its
 * `Symbol.for("Jupyter.display")` method, which returns a MIME bundle. A run's result shows its
 * metrics as a table and its training curves as SVG.
 *
 * @module
 */

import { escapeXml, type PlotRecord, trainingPlotSvg } from "./plot.ts";

/** The key the Deno Jupyter kernel looks up on a displayed object. */
export const JUPYTER_DISPLAY: symbol = Symbol.for("Jupyter.display");

/** An HTML table of metrics: one row per task, one column per metric key. */
export function metricsTable(metrics: Record<string, Record<string, number>>): string {
  const keys = [...new Set(Object.values(metrics).flatMap((m) => Object.keys(m)))];
  const cell = (v: number | undefined) =>
    `<td style="text-align:right">${v === undefined ? "" : Number(v).toFixed(4)}</td>`;
  const rows = Object.entries(metrics).map(([task, m]) =>
    `<tr><th style="text-align:left">${escapeXml(task)}</th>${
      keys.map((k) => cell(m[k])).join("")
    }</tr>`
  );
  const head = keys.map((k) => `<th>${escapeXml(k)}</th>`).join("");
  return `<table><thead><tr><th>task</th>${head}</tr></thead><tbody>${
    rows.join("")
  }</tbody></table>`;
}

/** The MIME bundle of a finished run: a summary line, its dev metrics and its curves. */
export function runDisplay(result: {
  outputDir: string;
  globalStep: number;
  evalResults: Record<string, Record<string, number>>;
  logHistory: readonly PlotRecord[];
}): Record<string, string> {
  const title = `${result.globalStep} steps; outputs in ${result.outputDir}`;
  const parts = [`<p>${escapeXml(title)}</p>`];
  if (Object.keys(result.evalResults).length > 0) parts.push(metricsTable(result.evalResults));
  if (result.logHistory.length > 0) parts.push(trainingPlotSvg(result.logHistory));
  const text = [
    title,
    ...Object.entries(result.evalResults).map(([t, m]) =>
      `${t}: ${Object.entries(m).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(" ")}`
    ),
  ].join("\n");
  return { "text/plain": text, "text/html": parts.join("\n") };
}
