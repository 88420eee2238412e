/**
 * One run per output folder: a live holder (in this process or another) is refused with its
 * pid, a lock left by a killed run is taken over with a note, and `runTraining` refuses a held
 * folder before it touches anything (through the CLI: one line, exit 1).
 */
import assert from "node:assert/strict";
import { LOCK_FILE, OutputLock, OutputLockedError } from "./output_lock.ts";

const LOCK_MODULE = new URL("./output_lock.ts", import.meta.url).href;
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** A child process that takes `dir`'s lock, says so on stdout, then waits to be killed. */
async function holder(dir: string): Promise<Deno.ChildProcess> {
  const code = `import { OutputLock } from "${LOCK_MODULE}";
await OutputLock.acquire(${JSON.stringify(dir)});
console.log("locked");
setInterval(() => {}, 1000);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.equal(new TextDecoder().decode(value).trim(), "locked");
  reader.releaseLock();
  return child;
}

Deno.test("a held output folder is refused in the same process; released, it is free again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lock = await OutputLock.acquire(dir);
    assert.equal(lock.tookOverFrom, null);
    const refused = (e: Error) =>
      e instanceof OutputLockedError && e.holder?.pid === Deno.pid &&
      e.message.startsWith(`Cannot write to --output_dir "${dir}": run pid ${Deno.pid} on `) &&
      e.message.endsWith(
        `is writing into it (lock "${dir}/${LOCK_FILE}"); wait for it to finish, or choose ` +
          "another folder",
      );
    await assert.rejects(OutputLock.acquire(dir), refused);
    await assert.rejects(OutputLock.assertFree(dir), refused);
    await lock.release();
    assert.deepEqual([...Deno.readDirSync(dir)], [], "the lock file goes with the lock");
    await OutputLock.assertFree(dir);
    await (await OutputLock.acquire(dir)).release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "another live run's lock is refused; once it is killed, its stale lock is taken over",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const child = await holder(dir);
    try {
      await assert.rejects(
        OutputLock.acquire(dir),
        (e: Error) => e instanceof OutputLockedError && e.holder?.pid === child.pid,
      );
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel();
      const notes: string[] = [];
      const lock = await OutputLock.acquire(dir, (line) => notes.push(line));
      assert.equal(lock.tookOverFrom?.pid, child.pid);
      assert.equal(notes.length, 1);
      assert.match(
        notes[0],
        new RegExp(
          `^Taking over the lock of ".*" from run pid ${child.pid} on .* \\(started .*\\): ` +
            "that process has ended without releasing it$",
        ),
      );
      await lock.release();
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the CLI refuses an output folder a live run holds, in one line, before any work",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const lock = await OutputLock.acquire(`${dir}/out`);
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          CLI,
          "--model_name_or_path",
          "CA-MTL-tiny",
          "--data_dir",
          dir,
          "--tasks",
          "rte",
          "--do_train",
          "--output_dir",
          `${dir}/out`,
          "--overwrite_output_dir",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr).trim();
      assert.equal(out.code, 1, stderr);
      assert.equal(stderr.split("\n").length, 1, stderr);
      assert.match(
        stderr,
        new RegExp(`^error: Cannot write to --output_dir ".*": run pid ${Deno.pid} `),
      );
    } finally {
      await lock.release();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
