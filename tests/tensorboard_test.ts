/**
 * `--logging_dir` end to end: a short run of the embedded demo (MT-Uncertainty, evaluation
 * during training, `--logging_first_step`) writes a TensorBoard event file that the independent
 * Python protobuf reader decodes into the run's arguments at step 0 and, at each logged step,
 * the loss, learning rate, epoch, examples per second, MT-Uncertainty task mix and each task's
 * dev metrics: the values of `log_history.jsonl`, rounded to float32.
 */
import assert from "node:assert/strict";
import { runTraining } from "../lib/train/run.ts";
import { recordScalars } from "../lib/train/tensorboard_log.ts";
import type { LogRecord } from "../lib/train/log.ts";
import { testGpu } from "./_util/gpu.ts";
import { eventFileIn, readEventsIndependently } from "./_util/tensorboard_reader.ts";

Deno.test({
  name: "a run's event file holds every logged scalar at its step, read by protobuf",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!(await testGpu())) return;
    const dir = await Deno.makeTempDir();
    const lines: string[] = [];
    await runTraining({
      demo: true,
      outputDir: `${dir}/out`,
      loggingDir: `${dir}/tb`,
      maxSteps: 6,
      loggingSteps: 3,
      loggingFirstStep: true,
      saveSteps: 0,
    }, { onInfo: (l) => lines.push(l) });
    assert.ok(lines.includes(`TensorBoard: tensorboard --logdir ${dir}/tb`), lines.join("\n"));
    const events = await readEventsIndependently(eventFileIn(`${dir}/tb`));
    if (events === null) return;
    assert.equal(events[0].file_version, "brain.Event:2");
    const text = events.find((e) => e.values?.[0].tag === "args/text_summary");
    assert.equal(text?.step, 0);
    assert.equal(JSON.parse(text!.values![0].text![0]).loggingDir, `${dir}/tb`);

    const scalars = new Map<number, Map<string, number>>();
    for (const e of events) {
      for (const v of e.values ?? []) {
        if (typeof v.simple_value !== "number") continue;
        const at = scalars.get(e.step) ?? new Map();
        at.set(v.tag, v.simple_value);
        scalars.set(e.step, at);
      }
    }
    const history = (await Deno.readTextFile(`${dir}/out/log_history.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l) as LogRecord);
    assert.deepEqual([...scalars.keys()], [1, 3, 6]);
    assert.deepEqual(history.map((r) => r.step), [1, 3, 6]);
    const tasks = ["demo-sentiment", "demo-comparison", "demo-rating"];
    const listed = ["loss", "learning_rate", "epoch", "examples_per_second", "candidate_fraction"];
    for (const record of history) {
      const got = scalars.get(record.step)!;
      const has = (tag: string) => assert.ok(got.has(tag), `step ${record.step}: no ${tag}`);
      listed.forEach(has);
      for (const task of tasks) {
        has(`task_mix/${task}`);
        has(`eval/${task}/eval_loss`);
      }
      has("eval/demo-sentiment/acc");
      has("eval/demo-rating/pearson");
      const mix = tasks.reduce((s, t) => s + got.get(`task_mix/${t}`)!, 0);
      assert.ok(Math.abs(mix - 1) < 1e-6, `task mix sums to ${mix}`);
      const want = recordScalars(record);
      assert.deepEqual([...got.keys()].sort(), Object.keys(want).sort());
      for (const [tag, v] of Object.entries(want)) {
        assert.equal(got.get(tag), Math.fround(v), `step ${record.step} ${tag}`);
      }
    }
    await Deno.remove(dir, { recursive: true });
  },
});
