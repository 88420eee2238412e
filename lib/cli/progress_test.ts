// deno-lint-ignore-file no-control-regex -- the terminal escape codes are what is tested
import assert from "node:assert/strict";
import { formatDuration, formatValue, ProgressBar, type ProgressWriter } from "./progress.ts";

/** A writer that records what it is given, optionally accepting few bytes per call. */
function fakeWriter(options: { tty: boolean; maxBytes?: number }) {
  const bytes: number[] = [];
  let calls = 0;
  const writer: ProgressWriter = {
    writeSync(b) {
      calls++;
      const n = Math.min(b.length, options.maxBytes ?? b.length);
      bytes.push(...b.subarray(0, n));
      return n;
    },
    isTerminal: () => options.tty,
  };
  return {
    writer,
    text: () => new TextDecoder().decode(new Uint8Array(bytes)),
    calls: () => calls,
  };
}

/** A clock the test moves by hand, in milliseconds. */
function fakeClock() {
  const clock = { t: 0, now: () => clock.t };
  return clock;
}

const redraws = (text: string) => text.split("\r\x1b[2K").length - 1;

Deno.test("ProgressBar on a terminal redraws in place at most every 100 ms", () => {
  const w = fakeWriter({ tty: true }), clock = fakeClock();
  const bar = new ProgressBar({ writer: w.writer, now: clock.now, columns: 120, label: "train" });
  assert.equal(bar.isTerminal, true);
  bar.start(1000);
  for (let s = 1; s <= 1000; s++) {
    clock.t += 10; // 100 steps a second for 10 s
    bar.update(s, { loss: 2 / s, lr: 2e-5 });
  }
  const text = w.text();
  assert.ok(!text.includes("\n"), "no newline before finish");
  // One draw at start, then one per 100 ms over 10 s (the last step also draws).
  const n = redraws(text);
  assert.ok(n >= 95 && n <= 102, `${n} redraws`);
  const last = text.slice(text.lastIndexOf("\r\x1b[2K") + 5);
  assert.match(
    last,
    /^train 100%\|█+\| 1000\/1000 \[00:10<00:00, 100 it\/s\] loss=0\.002 lr=2\.00e-5$/,
  );
  bar.finish();
  assert.ok(w.text().endsWith("\n"));
});

Deno.test("ProgressBar shows percentage, rate and ETA half-way, and fits the terminal width", () => {
  const w = fakeWriter({ tty: true }), clock = fakeClock();
  const bar = new ProgressBar({ writer: w.writer, now: clock.now, columns: 80 });
  bar.start(200);
  clock.t = 50_000;
  bar.update(100, { loss: 0.5, note: "x".repeat(200) });
  const last = w.text().slice(w.text().lastIndexOf("\r\x1b[2K") + 5);
  assert.match(last, /^ 50%\|█{5}/); // the bar shrinks to its minimum of 10 cells
  assert.match(last, /100\/200 \[00:50<00:50, 2 it\/s\] loss=0\.5 note=x+…$/);
  assert.equal([...last].length, 79);
});

Deno.test("ProgressBar.log() prints above the bar and redraws it", () => {
  const w = fakeWriter({ tty: true }), clock = fakeClock();
  const bar = new ProgressBar({ writer: w.writer, now: clock.now, columns: 100 });
  bar.start(10);
  clock.t = 1000;
  bar.update(5, { loss: 1.25 });
  bar.log("eval: acc = 0.91");
  const text = w.text();
  const at = text.indexOf("\r\x1b[2Keval: acc = 0.91\n");
  assert.ok(at > 0, JSON.stringify(text));
  assert.match(text.slice(at), /\n\r\x1b\[2K 50%\|.*\| 5\/10 .* loss=1\.25$/);
});

Deno.test("ProgressBar without a terminal writes plain lines at the log interval and at the end", () => {
  const w = fakeWriter({ tty: false }), clock = fakeClock();
  const bar = new ProgressBar({ writer: w.writer, now: clock.now, logEveryMs: 10_000 });
  assert.equal(bar.isTerminal, false);
  bar.log("before start");
  bar.start(100);
  for (let s = 1; s <= 100; s++) {
    clock.t += 1000;
    bar.update(s, { loss: s === 50 ? undefined : 1 / s });
  }
  bar.finish({ loss: 0.001 });
  const text = w.text();
  assert.ok(!text.includes("\r") && !text.includes("\x1b"), "no terminal codes");
  const lines = text.trimEnd().split("\n");
  assert.equal(lines[0], "before start");
  // Step 1, then every 10 s (steps 11, 21, …, 91), then the final line.
  assert.equal(lines.length, 1 + 1 + 9 + 1, lines.join("\n"));
  assert.equal(lines[1], "step 1/100 (1.0%) 1 it/s elapsed 00:01 eta 01:39 loss=1");
  assert.match(lines[2], /^step 11\/100 \(11\.0%\) .* eta 01:29 loss=0\.09091$/);
  assert.equal(lines.at(-1), "step 100/100 (100.0%) 1 it/s elapsed 01:40 eta 00:00 loss=0.001");
});

Deno.test("ProgressBar counts the rate from the resumed step and keeps a field left undefined", () => {
  const w = fakeWriter({ tty: false }), clock = fakeClock();
  const bar = new ProgressBar({ writer: w.writer, now: clock.now, label: "train" });
  bar.start(1000, 600);
  clock.t = 2000;
  bar.update(601, { loss: 0.25, lr: 1e-4 });
  clock.t = 40_000;
  bar.update(620, { loss: undefined, lr: 5e-5 });
  const lines = w.text().trimEnd().split("\n");
  assert.equal(
    lines[0],
    "[train] step 601/1000 (60.1%) 2 s/it elapsed 00:02 eta 13:18 loss=0.25 lr=1.00e-4",
  );
  assert.equal(
    lines[1],
    "[train] step 620/1000 (62.0%) 2 s/it elapsed 00:40 eta 12:40 loss=0.25 lr=5.00e-5",
  );
  assert.throws(() => bar.start(-1), RangeError);
  assert.throws(() => bar.start(10, 1.5), RangeError);
});

Deno.test("ProgressBar shows no rate or ETA before it has timed anything", () => {
  const w = fakeWriter({ tty: false }), clock = fakeClock();
  const bar = new ProgressBar({ writer: w.writer, now: clock.now });
  bar.start(400);
  clock.t = 0.1; // the CLI starts the bar on step 1, right before updating it
  bar.update(1, { lr: 0 });
  assert.equal(w.text(), "step 1/400 (0.3%) ? it/s elapsed 00:00 eta --:-- lr=0\n");
});

Deno.test("ProgressBar with an unknown total shows the count and rate only", () => {
  const w = fakeWriter({ tty: true }), clock = fakeClock();
  const bar = new ProgressBar({ writer: w.writer, now: clock.now, columns: 100 });
  bar.start(0);
  clock.t = 4000;
  bar.update(8);
  assert.match(w.text(), /\r\x1b\[2K8 \[00:04, 2 it\/s\]$/);
});

Deno.test("ProgressBar writes everything even when the writer takes a few bytes at a time", () => {
  const w = fakeWriter({ tty: false, maxBytes: 3 });
  const bar = new ProgressBar({ writer: w.writer });
  bar.log("a line with ünïcödé");
  assert.equal(w.text(), "a line with ünïcödé\n");
  assert.ok(w.calls() > 5);
  bar.finish(); // finishing a bar that never started writes nothing
  assert.equal(w.text(), "a line with ünïcödé\n");
});

Deno.test("formatDuration() and formatValue() keep numbers short", () => {
  assert.equal(formatDuration(59_400), "00:59");
  assert.equal(formatDuration(3_723_000), "1:02:03");
  assert.equal(formatDuration(NaN), "--:--");
  assert.equal(formatValue(0.123456), "0.1235");
  assert.equal(formatValue(2e-5), "2.00e-5");
  assert.equal(formatValue(123456.7), "1.23e+5");
  assert.equal(formatValue(42), "42");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue("warmup"), "warmup");
});
