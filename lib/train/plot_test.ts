import assert from "node:assert/strict";
import { trainingPlotSvg } from "./plot.ts";

const RECORDS = [
  {
    step: 10,
    epoch: 0.1,
    loss: 1.2,
    eval: {
      "sst-2": { eval_loss: 0.7, acc: 0.6 },
      "sts-b": { eval_loss: 2, pearson: 0.3, spearmanr: 0.2, corr: 0.25 },
    },
  },
  {
    step: 20,
    epoch: 0.2,
    loss: 0.8,
    eval: {
      "sst-2": { eval_loss: 0.5, acc: 0.8 },
      "sts-b": { eval_loss: 1, pearson: NaN, spearmanr: 0.5, corr: 0.5 },
    },
  },
  { step: 30, epoch: 0.3, loss: 0.5 },
];

Deno.test("the plot has one polyline per series and a legend entry for each task", () => {
  const svg = trainingPlotSvg(RECORDS, "a <title> & more");
  assert.ok(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"));
  assert.equal((svg.match(/<polyline/g) ?? []).length, 3); // loss, sst-2 acc, sts-b pearson
  assert.match(svg, />sst-2 acc</);
  assert.match(svg, />sts-b pearson</);
  assert.match(svg, /a &lt;title&gt; &amp; more/);
  assert.ok(!/NaN/.test(svg), "NaN points are left out");
  // Every opened element is closed or self-closed.
  const opened = (svg.match(/<(svg|text)\b/g) ?? []).length;
  const closed = (svg.match(/<\/(svg|text)>/g) ?? []).length;
  assert.equal(opened, closed);
});

Deno.test("a single point and an empty log still make a valid figure", () => {
  const one = trainingPlotSvg([{ step: 1, epoch: 0, loss: 0.7 }]);
  assert.match(one, /<circle/);
  const none = trainingPlotSvg([]);
  assert.match(none, /no data/);
});
