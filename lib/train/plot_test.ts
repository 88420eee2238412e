import assert from "node:assert/strict";
import {
  escapeXml,
  niceTicks,
  type PlotRecord,
  plotSeries,
  trainingPlotSvg,
  writeTrainingPlot,
} from "./plot.ts";

/**
 * A small XML well-formedness check: every tag is closed in order, attribute values are
 * quoted, text holds no raw "<" and only known entities, and there is one root element.
 * Returns the element names in document order.
 */
function checkXml(xml: string): string[] {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  const stack: string[] = [];
  const names: string[] = [];
  let roots = 0;
  let i = 0;
  while (i < body.length) {
    const lt = body.indexOf("<", i);
    const text = body.slice(i, lt < 0 ? body.length : lt);
    for (const m of text.matchAll(/&([^;]*);?/g)) {
      assert.ok(/^(amp|lt|gt|quot|apos|#\d+);$/.test(m[0].slice(1)), `bad entity ${m[0]}`);
    }
    if (lt < 0) {
      assert.equal(text.trim(), "", "text after the root");
      break;
    }
    tag.lastIndex = lt;
    const m = tag.exec(body);
    assert.ok(m, `malformed tag at ${lt}: ${body.slice(lt, lt + 60)}`);
    const [whole, close, name, attrs, selfClose] = m;
    for (const a of attrs.matchAll(/="([^"]*)"/g)) {
      for (const e of a[1].matchAll(/&([^;]*);?/g)) {
        assert.ok(/^(amp|lt|gt|quot|apos|#\d+);$/.test(e[0].slice(1)), `bad entity ${e[0]}`);
      }
    }
    if (close) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots++;
      names.push(name);
      if (!selfClose) stack.push(name);
    }
    i = lt + whole.length;
  }
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(roots, 1, "one root element");
  return names;
}

const count = (names: string[], name: string) => names.filter((n) => n === name).length;

function run(steps: number): PlotRecord[] {
  const out: PlotRecord[] = [];
  for (let s = 10; s <= steps; s += 10) {
    const r: PlotRecord = { step: s, loss: 1 / Math.sqrt(s) };
    if (s % 50 === 0) {
      r.eval = {
        "demo-sentiment": { acc: s / (s + 100) },
        "demo-comparison": { acc: 0.5 + s / 1000, f1: 0.6, acc_and_f1: 0.55 },
        "demo-rating": { pearson: s / 600, spearmanr: 0.5, corr: 0.5 },
      };
    }
    out.push(r);
  }
  return out;
}

Deno.test("trainingPlotSvg() is well-formed SVG with one polyline per series and a legend", () => {
  const svg = trainingPlotSvg(run(300), { title: "demo run" });
  const names = checkXml(svg);
  assert.equal(names[0], "svg");
  assert.equal(count(names, "polyline"), 4); // the loss and three tasks
  for (
    const label of [
      "train loss",
      "demo-sentiment (acc)",
      "demo-comparison (acc)",
      "demo-rating (pearson)",
    ]
  ) {
    assert.ok(svg.includes(`>${label}</text>`), label);
  }
  assert.match(svg, /<text[^>]*>demo run<\/text>/);
  assert.ok(svg.includes(">Training loss</text>") && svg.includes(">Dev metric per task</text>"));
  // Step ticks 0…300 on both panels.
  assert.equal(svg.match(/>300<\/text>/g)?.length, 2);
  assert.ok(!/NaN|undefined|Infinity/.test(svg));
  // The loss line has one point per logged step, in order, inside the plotting area.
  const loss = svg.match(/<polyline[^>]*points="([^"]*)"/)![1].split(" ").map((p) =>
    p.split(",").map(Number)
  );
  assert.equal(loss.length, 30);
  for (let i = 1; i < loss.length; i++) assert.ok(loss[i][0] > loss[i - 1][0]);
  assert.ok(
    loss.every(([x, y]) => x >= 68 && x <= 560 && y >= 64 && y <= 294),
    JSON.stringify(loss),
  );
  assert.ok(loss[0][1] < loss.at(-1)![1], "the falling loss is drawn falling (SVG y grows down)");
});

Deno.test("trainingPlotSvg() draws a single point as a dot and leaves NaN values out", () => {
  const records: PlotRecord[] = [
    { step: 0, loss: NaN },
    { step: 5, loss: 0.7, eval: { "sts-b": { pearson: NaN, spearmanr: NaN, corr: NaN } } },
    { step: 10, loss: Infinity, eval: { "sts-b": { pearson: 0.3, spearmanr: 0.2, corr: 0.25 } } },
  ];
  const svg = trainingPlotSvg(records);
  const names = checkXml(svg);
  assert.equal(count(names, "polyline"), 2);
  assert.ok(!/NaN|Infinity/.test(svg));
  const points = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1].split(" "));
  assert.deepEqual(points.map((p) => p.length), [1, 1]);
  assert.equal(count(names, "circle"), 2);
  const { loss, metrics } = plotSeries(records);
  assert.equal(loss.points.length, 3); // kept in the data, skipped when drawn
  assert.deepEqual(metrics.map((s) => s.name), ["sts-b (pearson)"]);
});

Deno.test("trainingPlotSvg() with no records still gives a valid figure that says so", () => {
  const svg = trainingPlotSvg([]);
  const names = checkXml(svg);
  assert.equal(count(names, "polyline"), 0);
  assert.equal(svg.match(/>no data<\/text>/g)?.length, 2);
});

Deno.test("trainingPlotSvg() escapes task names, metric keys and the title", () => {
  const svg = trainingPlotSvg(
    [{ step: 1, loss: 1, eval: { "a<b>&\"c'": { "x&y": 0.5 } } }, { step: 2, loss: 0.5 }],
    { title: "run <1> & \u0001co" },
  );
  checkXml(svg);
  assert.ok(svg.includes("a&lt;b&gt;&amp;&quot;c&apos; (x&amp;y)"));
  assert.ok(svg.includes("run &lt;1&gt; &amp; co"));
  assert.equal(escapeXml(`<&>"'`), "&lt;&amp;&gt;&quot;&apos;");
});

Deno.test("plotSeries() picks each task's main metric, or the one asked for", () => {
  const records: PlotRecord[] = [{
    step: 3,
    eval: {
      cola: { mcc: 0.2 },
      mrpc: { eval_acc: 0.7, eval_f1: 0.8, eval_loss: 0.6 },
      odd: { eval_loss: 0.3, score: 0.9 },
      none: { eval_loss: 0.3 },
    },
  }];
  assert.deepEqual(plotSeries(records).metrics.map((s) => s.name), [
    "cola (mcc)",
    "mrpc (acc)",
    "odd (score)",
  ]);
  assert.deepEqual(plotSeries(records, { mrpc: "f1" }).metrics[1], {
    name: "mrpc (f1)",
    points: [[3, 0.8]],
  });
});

Deno.test("niceTicks() gives round steps covering the range", () => {
  assert.deepEqual(niceTicks(0, 1), { ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
  assert.deepEqual(niceTicks(0, 600, 6).ticks, [0, 100, 200, 300, 400, 500, 600]);
  assert.deepEqual(niceTicks(-0.13, 0.27).ticks, [-0.1, 0, 0.1, 0.2]);
});

Deno.test("writeTrainingPlot() writes the file atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeTrainingPlot(`${dir}/training_curves.svg`, run(100));
    await writeTrainingPlot(`${dir}/training_curves.svg`, run(200));
    const svg = await Deno.readTextFile(`${dir}/training_curves.svg`);
    assert.ok(svg.includes(">200</text>"));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["training_curves.svg"]);
    await assert.rejects(() => writeTrainingPlot(`${dir}/missing/x.svg`, []), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
