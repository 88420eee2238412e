/**
 * The main job as a newcomer runs it: `deno task train` with no arguments trains CA-MTL-tiny
 * with MT-Uncertainty on the embedded synthetic suite and ends well above chance on every
 * task (accuracy ≥ 0.8 where chance is 0.5, Pearson ≥ 0.8). Takes a few minutes on lavapipe.
 */
import assert from "node:assert/strict";
import { testGpu } from "./_util/gpu.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

Deno.test({
  name: "deno task train with no arguments learns every demo task well above chance",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!(await testGpu())) return;
    const cwd = await Deno.makeTempDir();
    const out = await new Deno.Command(Deno.execPath(), {
      // The permissions `deno task train` grants, less the network the demo does not use.
      args: ["run", "-R", "-W", "-E", "--allow-sys=hostname", CLI],
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(stderr, /embedded demo/);
    assert.match(stdout, /Dev metrics after 300 steps/);
    const results = JSON.parse(await Deno.readTextFile(`${cwd}/runs/demo/eval_results.json`));
    const latest = results.latest as Record<string, Record<string, number>>;
    assert.deepEqual(Object.keys(latest), ["demo-sentiment", "demo-comparison", "demo-rating"]);
    assert.ok(latest["demo-sentiment"].acc >= 0.8, JSON.stringify(latest));
    assert.ok(latest["demo-comparison"].acc >= 0.8, JSON.stringify(latest));
    assert.ok(latest["demo-rating"].pearson >= 0.8, JSON.stringify(latest));
    for (
      const f of ["model.safetensors", "config.json", "log_history.jsonl", "training_curves.svg"]
    ) {
      await Deno.stat(`${cwd}/runs/demo/${f}`);
    }
    // --logging_dir's default, as transformers 2.11's: runs/<MonDD_HH-MM-SS>_<host>.
    const boards = [...Deno.readDirSync(`${cwd}/runs`)].map((e) => e.name).filter((n) =>
      n !== "demo"
    );
    assert.equal(boards.length, 1, `${boards}`);
    assert.match(
      boards[0],
      new RegExp(`^[A-Z][a-z]{2}\\d{2}_\\d{2}-\\d{2}-\\d{2}_${Deno.hostname()}$`),
    );
    assert.ok(
      [...Deno.readDirSync(`${cwd}/runs/${boards[0]}`)].some((e) => e.name.includes("tfevents")),
    );
    await Deno.remove(cwd, { recursive: true });
  },
});
