/**
 * A checkpoint save that runs out of disk leaves the previous checkpoint intact, removes its
 * partial folder and says which checkpoint to resume from. Run for real on a small tmpfs when
 * this process may mount one (root); otherwise every file write under the output folder goes
 * through a writer that fails with ENOSPC once the same byte budget is spent.
 */
import assert from "node:assert/strict";
import { CheckpointError } from "../io/errors.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { tinyData, tinyModel, tinyOptions } from "../../tests/_util/tiny_trainer.ts";
import { isCheckpoint, listCheckpoints, readCheckpoint } from "./checkpoint.ts";
import { Trainer } from "./trainer.ts";

async function run(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) n += (await Deno.stat(`${dir}/${e.name}`)).size;
  return n;
}

function filesOf(dir: string): Map<string, Uint8Array> {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  return new Map(names.map((n) => [n, Deno.readFileSync(`${dir}/${n}`)]));
}

/** Makes file writes under `dir` fail with ENOSPC past `budget` bytes; returns the undo. */
function injectFullDisk(dir: string, budget: number): () => void {
  const open = Deno.open;
  let used = 0;
  const patched = async (path: string | URL, options?: Deno.OpenOptions) => {
    const file = await open(path, options);
    if (String(path).startsWith(dir) && options?.write) {
      const write = file.write.bind(file);
      file.write = (p: Uint8Array) => {
        if (used + p.length > budget) {
          const e = new Error("No space left on device (os error 28)");
          return Promise.reject(Object.assign(e, { code: "ENOSPC" }));
        }
        used += p.length;
        return write(p);
      };
    }
    return file;
  };
  (Deno as { open: typeof Deno.open }).open = patched as typeof Deno.open;
  return () => (Deno as { open: typeof Deno.open }).open = open;
}

gpuTest(
  "a full disk during a checkpoint save keeps the previous checkpoint and says so",
  async (gpu) => {
    // One checkpoint's size, from a run on the ordinary disk.
    const probe = await Deno.makeTempDir();
    const m0 = tinyModel(gpu);
    const t0 = new Trainer(gpu, m0, tinyData(), tinyOptions(probe, { maxSteps: 2, saveSteps: 2 }));
    await t0.train();
    t0.dispose();
    m0.dispose();
    const oneCheckpoint = await folderBytes(`${probe}/checkpoint-2`);
    await Deno.remove(probe, { recursive: true });

    // Room for one and a half checkpoints: checkpoint-2 fits, checkpoint-4 cannot.
    const budget = Math.ceil((1.5 * oneCheckpoint) / 4096) * 4096;
    const dir = await Deno.makeTempDir();
    const mounted = await run("mount", ["-t", "tmpfs", "-o", `size=${budget}`, "tmpfs", dir]);
    const undo = mounted ? () => {} : injectFullDisk(dir, budget);
    console.log(mounted ? `tmpfs of ${budget} bytes` : `injected ENOSPC writer, ${budget} bytes`);
    const model = tinyModel(gpu);
    let saved = new Map<string, Uint8Array>();
    const trainer = new Trainer(gpu, model, tinyData(), tinyOptions(dir, { saveSteps: 2 }), {
      onCheckpoint: (folder) => saved = filesOf(folder),
    });
    try {
      await assert.rejects(
        trainer.train(),
        (e: Error) =>
          e instanceof CheckpointError &&
          e.message.startsWith(`Cannot save "${dir}/checkpoint-4": No space left on device`) &&
          e.message.endsWith(
            `; the previous checkpoint "${dir}/checkpoint-2" is intact; free disk space, then ` +
              `resume from it (--model_name_or_path ${dir}/checkpoint-2)`,
          ),
      );
      assert.equal(trainer.globalStep, 4);
      assert.deepEqual((await listCheckpoints(dir)).map((c) => c.step), [2]);
      assert.ok(await isCheckpoint(`${dir}/checkpoint-2`));
      const { state } = await readCheckpoint(`${dir}/checkpoint-2`, trainer.paramNames);
      assert.equal(state.global_step, 2);
      assert.deepEqual(
        filesOf(`${dir}/checkpoint-2`),
        saved,
        "checkpoint-2 is byte for byte intact",
      );
      const left = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.deepEqual(left, ["checkpoint-2"], "the partial folder is removed");
    } finally {
      undo();
      trainer.dispose();
      model.dispose();
      if (mounted) await run("umount", [dir]);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
