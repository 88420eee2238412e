// deno-lint-ignore-file no-control-regex no-regex-spaces -- the bar's escape codes and spacing are what is tested
import assert from "node:assert/strict";
import { ProgressBar, type ProgressWriter } from "./progress.ts";

function fakeWriter(tty: boolean) {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const writer: ProgressWriter = {
    writeSync(b) {
      chunks.push(decoder.decode(b));
      return b.length;
    },
    isTerminal: () => tty,
  };
  return { writer, text: () => chunks.join("") };
}

Deno.test("on a terminal the bar redraws in place and logs go above it", () => {
  let t = 0;
  const w = fakeWriter(true);
  const bar = new ProgressBar({ writer: w.writer, now: () => t });
  bar.start(10);
  for (let s = 1; s <= 10; s++) {
    t += 0.5;
    bar.update(s, { loss: 1 / s, lr: 1e-4 });
  }
  bar.log("eval acc=0.9");
  bar.finish();
  const out = w.text();
  assert.match(out, /\r\x1b\[2K10\/10  \[#{24}\]  100%  2\.00 it\/s  ETA 00:00/);
  assert.match(out, /loss 0\.1000  lr 1\.00e-4/);
  assert.match(out, /\r\x1b\[2Keval acc=0\.9\n/);
  assert.ok(out.endsWith("\n"));
});

Deno.test("without a terminal it prints plain lines at an interval and at the end", () => {
  let t = 0;
  const w = fakeWriter(false);
  const bar = new ProgressBar({ writer: w.writer, now: () => t, plainEvery: 10 });
  bar.start(100);
  for (let s = 1; s <= 100; s++) {
    t += 1;
    bar.update(s, { loss: 0.5 });
  }
  const lines = w.text().trim().split("\n");
  assert.ok(!w.text().includes("\r"), "no carriage returns in plain mode");
  assert.equal(lines.length, 11, lines.join("\n")); // at t = 1, 11, …, 91, and the final step
  assert.match(lines.at(-1)!, /^100\/100 /);
});

Deno.test("the ETA follows the measured rate", () => {
  let t = 0;
  const bar = new ProgressBar({ writer: fakeWriter(false).writer, now: () => t });
  bar.start(100);
  t = 20;
  bar.update(10);
  assert.match(bar.line(), /0\.50 it\/s  ETA 03:00/);
});
