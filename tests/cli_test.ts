/**
 * The CLI end to end, as a user runs it: one-line errors with exit code 2 for bad input, a
 * CI-sized GLUE run that writes every output file, and exact resumption after the first
 * process was killed with SIGKILL in the middle of a checkpoint save.
 */
import assert from "node:assert/strict";
import { dataPath, hasData } from "./_util/data.ts";
import { testGpu } from "./_util/gpu.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

function cli(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { CAMTL_CACHE: `${Deno.env.get("TMPDIR") ?? "/tmp"}/camtl-test-cache` },
  }).spawn();
}

async function run(args: string[]) {
  const out = await cli(args).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function usageError(args: string[], pattern: RegExp): Promise<void> {
  const { code, stderr } = await run(args);
  const lines = stderr.trim().split("\n");
  assert.equal(code, 2, stderr);
  assert.equal(lines.length, 1, `one line, no stack trace:\n${stderr}`);
  assert.match(lines[0], pattern);
}

Deno.test("bad command lines get one line on stderr and exit code 2", async () => {
  const data = await Deno.makeTempDir();
  await Deno.mkdir(`${data}/RTE`);
  const busy = await Deno.makeTempDir();
  await Deno.writeTextFile(`${busy}/keep.txt`, "x");
  const base = ["--model_name_or_path", "CA-MTL-base", "--output_dir", `${data}/out`];
  await usageError(
    [...base, "--data_dir", data, "--learnig_rate", "1e-4"],
    /did you mean "--learning_rate"/,
  );
  await usageError([...base, "--data_dir", `${data}/nope`, "--do_train"], /--data_dir/);
  await usageError(
    [
      "--model_name_or_path",
      "CA-MTL-base",
      "--data_dir",
      data,
      "--tasks",
      "rte",
      "--do_train",
      "--output_dir",
      busy,
    ],
    /not empty; add --overwrite_output_dir/,
  );
  await usageError(
    [...base, "--data_dir", data, "--tasks", "rte", "--freeze_encoder_layers", "5-99"],
    /has 12 layers \(0-11\)/,
  );
  await usageError(
    [...base, "--data_dir", data, "--tasks", "rte", "--max_seq_length", "100"],
    /--max_seq_length 100 .*768 is not a multiple of max_seq_length 100; lengths that work: .*128/,
  );
  await Deno.remove(data, { recursive: true });
  await Deno.remove(busy, { recursive: true });
});

const SMALL = (out: string) => [
  "--model_name_or_path",
  "CA-MTL-tiny",
  "--tokenizer_name",
  dataPath("bert-base-cased"),
  "--data_dir",
  dataPath("glue"),
  "--tasks",
  "mrpc",
  "sts-b",
  "--max_seq_length",
  "32",
  "--per_device_train_batch_size",
  "8",
  "--per_device_eval_batch_size",
  "128",
  "--learning_rate",
  "1e-3",
  "--warmup_proportion",
  "0",
  "--use_mt_uncertainty",
  "--freeze_encoder_layers",
  "0-1",
  "--logging_steps",
  "1",
  "--save_steps",
  "4",
  "--output_dir",
  out,
  "--logging_dir",
  `${out}/tb`,
];

Deno.test({
  name: "a CI-sized GLUE run writes the model, checkpoints, eval results, predictions and logs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!hasData("glue") || !hasData("bert-base-cased") || !(await testGpu())) return;
    const out = await Deno.makeTempDir();
    const { code, stderr, stdout } = await run([
      ...SMALL(out),
      "--do_train",
      "--do_eval",
      "--do_predict",
      "--max_steps",
      "16",
      "--save_total_limit",
      "2",
      "--overwrite_output_dir",
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Adapter: /);
    assert.match(stdout, /Dev metrics after 16 steps/);
    const files = new Set([...Deno.readDirSync(out)].map((e) => e.name));
    for (
      const f of [
        "model.safetensors",
        "config.json",
        "vocab.txt",
        "training_args.json",
        "log_history.jsonl",
        "training_curves.svg",
        "eval_results.json",
        "eval_results_mrpc.txt",
        "eval_results_sts-b.txt",
        "mrpc_test_iter_16.tsv",
        "sts-b_test_iter_16.tsv",
        "checkpoint-12",
        "checkpoint-16",
      ]
    ) assert.ok(files.has(f), `${f} in ${[...files]}`);
    assert.ok(!files.has("checkpoint-8"), "pruned to save_total_limit");
    const mrpc = (await Deno.readTextFile(`${out}/mrpc_test_iter_16.tsv`)).trim().split("\n");
    assert.equal(mrpc[0], "index\tprediction");
    assert.equal(mrpc.length, 1726);
    assert.ok(mrpc.slice(1).every((l, i) => new RegExp(`^${i}\t[01]$`).test(l)));
    assert.match(await Deno.readTextFile(`${out}/sts-b_test_iter_16.tsv`), /\n0\t-?\d+\.\d{3}\n/);
    const stsb = await Deno.readTextFile(`${out}/eval_results_sts-b.txt`);
    for (const key of ["corr", "eval_loss", "pearson", "spearmanr"]) {
      assert.match(stsb, new RegExp(`^${key} = -?\\d`, "m"));
    }
    const records = (await Deno.readTextFile(`${out}/log_history.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    // One record per logged step, then the final evaluation.
    const log = records.filter((r) => r.loss !== undefined);
    assert.equal(log.length, 16);
    assert.deepEqual(Object.keys(records.at(-1).eval), ["mrpc", "sts-b"]);
    // Per-step losses are noisy (each batch mixes tasks differently), so compare halves.
    const first = log.slice(0, 8).reduce((s, r) => s + r.loss, 0),
      last = log.slice(-8).reduce((s, r) => s + r.loss, 0);
    assert.ok(last < first, `training loss falls: first 8 steps ${first / 8}, last 8 ${last / 8}`);
    await Deno.remove(out, { recursive: true });
  },
});

Deno.test({
  name: "a run killed by SIGKILL while saving resumes to the losses of an uninterrupted run",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!hasData("glue") || !hasData("bert-base-cased") || !(await testGpu())) return;
    const straight = await Deno.makeTempDir(), killed = await Deno.makeTempDir();
    const args = (
      out: string,
    ) => [...SMALL(out), "--do_train", "--max_steps", "8", "--overwrite_output_dir"];
    assert.equal((await run(args(straight))).code, 0);

    // Kill the second run as soon as its step-8 checkpoint starts being written.
    const child = cli(args(killed));
    const watcher = Deno.watchFs(killed);
    for await (const event of watcher) {
      if (event.paths.some((p) => p.includes(".checkpoint-8.partial"))) break;
    }
    child.kill("SIGKILL");
    watcher.close();
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
    const left = [...Deno.readDirSync(killed)].map((e) => e.name);
    assert.ok(left.includes("checkpoint-4"));
    assert.ok(
      !left.includes("checkpoint-8"),
      `no half-written checkpoint passes for good: ${left}`,
    );

    const resumed = await run([
      ...args(killed).map((a) => a === "CA-MTL-tiny" ? `${killed}/checkpoint-4` : a),
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Resuming from .*checkpoint-4 at step 4/);
    const losses = async (dir: string) =>
      new Map(
        (await Deno.readTextFile(`${dir}/log_history.jsonl`)).trim().split("\n")
          .map((l) => JSON.parse(l)).map((r) => [r.step, r.loss]),
      );
    const a = await losses(straight), b = await losses(killed);
    for (let step = 1; step <= 8; step++) {
      assert.ok(
        Math.abs(a.get(step) - b.get(step)) <= 1e-6,
        `step ${step}: ${a.get(step)} vs ${b.get(step)}`,
      );
    }
    await Deno.remove(straight, { recursive: true });
    await Deno.remove(killed, { recursive: true });
  },
});
