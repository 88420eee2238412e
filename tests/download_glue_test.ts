/**
 * `deno task download-glue` end to end against a loopback server that serves GLUE as
 * dl.fbaipublicfiles.com lays it out, with zip archives built from the shared GLUE folders:
 * every file arrives byte-identical (MRPC rebuilt from the MSR files), a connection dropped
 * mid-file is resumed, a server that dies mid-file gives a one-line error and the next run
 * resumes the partial file, a corrupt archive is refused without leaving anything half
 * extracted, and a second run skips every task without a request.
 */
import assert from "node:assert/strict";
import { downloadGlue } from "../lib/data/download_glue.ts";
import { dataPath, hasData } from "./_util/data.ts";
import { type Breakage, serveFiles } from "./_util/file_server.ts";
import { makeZip } from "./_util/zip.ts";

const CLI = new URL("../lib/cli/download_glue.ts", import.meta.url).pathname;

/** Paths below `dir`, with their bytes. */
function tree(dir: string, prefix = ""): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const e of Deno.readDirSync(`${dir}/${prefix}`)) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory) { for (const [k, v] of tree(dir, `${rel}/`)) out.set(k, v); }
    else out.set(rel, Deno.readFileSync(`${dir}/${rel}`));
  }
  return out;
}

/** Archive address → task folder in the shared data. */
const ARCHIVES: Record<string, string> = {
  "glue/data/CoLA.zip": "CoLA",
  "glue/data/SST-2.zip": "SST-2",
  "glue/data/STS-B.zip": "STS-B",
  "glue/data/QNLIv2.zip": "QNLI",
  "glue/data/RTE.zip": "RTE",
  "glue/data/WNLI.zip": "WNLI",
};
const MRPC_SOURCES: Record<string, string> = {
  "senteval/senteval_data/msr_paraphrase_train.txt": "msr_paraphrase_train.txt",
  "senteval/senteval_data/msr_paraphrase_test.txt": "msr_paraphrase_test.txt",
  "glue/data/mrpc_dev_ids.tsv": "dev_ids.tsv",
};
const AX = new TextEncoder().encode("index\tsentence1\tsentence2\n0\tThe cat sat.\tA cat sat.\n");

let served: Map<string, Uint8Array> | null = null;

/** What the loopback server offers: archives of the shared folders, the MRPC files, AX.tsv. */
async function glueFiles(): Promise<Map<string, Uint8Array>> {
  if (served) return served;
  served = new Map([["glue/data/AX.tsv", AX]]);
  for (const [path, folder] of Object.entries(ARCHIVES)) {
    const entries = [...tree(dataPath(`glue/${folder}`))].map(([rel, bytes]) =>
      [`${folder}/${rel}`, bytes] as [string, Uint8Array]
    );
    served.set(path, await makeZip(entries, "deflate"));
  }
  for (const [path, name] of Object.entries(MRPC_SOURCES)) {
    served.set(path, Deno.readFileSync(dataPath(`glue/MRPC/${name}`)));
  }
  return served;
}

const TASKS = ["CoLA", "SST", "MRPC", "STS", "QNLI", "RTE", "WNLI", "diagnostic"];

async function cli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-R", "-W", "--allow-net=127.0.0.1", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...opts,
  name: "GLUE arrives byte-identical to the served files, through a dropped connection",
  async fn() {
    if (!hasData("glue")) return;
    const files = await glueFiles();
    const sst = files.get("glue/data/SST-2.zip")!;
    const cut: Breakage = { after: Math.floor(sst.length / 2) };
    const server = serveFiles(files, new Map([["glue/data/SST-2.zip", cut]]));
    const dir = await Deno.makeTempDir();
    const lines: string[] = [];
    const first = await downloadGlue({
      dataDir: `${dir}/glue_data`,
      tasks: TASKS,
      baseUrl: server.baseUrl,
      retryDelayMs: 1,
      onInfo: (l) => lines.push(l),
    });
    assert.deepEqual(first.downloaded, [
      "CoLA",
      "SST-2",
      "MRPC",
      "STS-B",
      "QNLI",
      "RTE",
      "WNLI",
      "diagnostic",
    ]);
    assert.ok(lines.some((l) => /^SST: try 1 failed/.test(l)), lines.join("\n"));
    const sstRequests = server.requests.filter((r) => r.path === "glue/data/SST-2.zip");
    assert.deepEqual(sstRequests.map((r) => r.range), [null, `bytes=${cut.after}-`]);

    const got = tree(`${dir}/glue_data`);
    for (const folder of Object.values(ARCHIVES)) {
      const want = tree(dataPath(`glue/${folder}`));
      for (const [rel, bytes] of want) {
        assert.deepEqual(got.get(`${folder}/${rel}`), bytes, `${folder}/${rel}`);
      }
    }
    const mrpc = tree(dataPath("glue/MRPC"));
    assert.equal(mrpc.size, 6);
    for (const [rel, bytes] of mrpc) assert.deepEqual(got.get(`MRPC/${rel}`), bytes, rel);
    assert.deepEqual(got.get("diagnostic/diagnostic.tsv"), AX);
    const sharedCount = Object.values(ARCHIVES)
      .reduce((n, f) => n + tree(dataPath(`glue/${f}`)).size, 0);
    assert.equal(got.size, sharedCount + mrpc.size + 1, "no temporary file left behind");

    const before = server.requests.length;
    const second = await downloadGlue({
      dataDir: `${dir}/glue_data`,
      tasks: TASKS,
      baseUrl: server.baseUrl,
    });
    assert.equal(second.downloaded.length, 0);
    assert.equal(second.skipped.length, TASKS.length);
    assert.equal(server.requests.length, before, "a second run asks the server nothing");
    await server.close();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  ...opts,
  name: "a server that dies mid-file gives a one-line error; the next run resumes the file",
  async fn() {
    if (!hasData("glue")) return;
    const files = await glueFiles();
    const zip = files.get("glue/data/CoLA.zip")!;
    const half = Math.floor(zip.length / 2);
    const dying = serveFiles(files, new Map([["glue/data/CoLA.zip", { after: half, die: true }]]));
    const dir = await Deno.makeTempDir();
    const args = ["--data_dir", dir, "--tasks", "CoLA", "--base_url"];
    const failed = await cli([...args, dying.baseUrl]);
    await dying.finished;
    const last = failed.stderr.trim().split("\n").at(-1)!;
    assert.equal(failed.code, 1, failed.stderr);
    assert.ok(!/^\s+at /m.test(failed.stderr), `no stack trace:\n${failed.stderr}`);
    assert.match(
      last,
      new RegExp(
        `^error: Cannot download "${dying.baseUrl}/glue/data/CoLA\\.zip": .*\\(4 tries\\); ` +
          `the part downloaded is kept: run again to resume; offline, .*deno task train --data_dir`,
      ),
    );
    assert.equal(Deno.statSync(`${dir}/.CoLA.zip.part`).size, half);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [".CoLA.zip.part"]);

    const revived = serveFiles(files);
    const resumed = await cli([...args, revived.baseUrl]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(revived.requests, [{ path: "glue/data/CoLA.zip", range: `bytes=${half}-` }]);
    const want = tree(dataPath("glue/CoLA"));
    const got = tree(`${dir}/CoLA`);
    assert.equal(got.size, want.size);
    for (const [rel, bytes] of want) assert.deepEqual(got.get(rel), bytes, rel);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["CoLA"]);
    await revived.close();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  ...opts,
  name: "a corrupt archive is refused and deleted, with nothing half extracted",
  async fn() {
    if (!hasData("glue")) return;
    const files = new Map(await glueFiles());
    const good = files.get("glue/data/RTE.zip")!;
    const bad = good.slice();
    bad[Math.floor(bad.length / 3)] ^= 0x55; // inside the first entry's compressed data
    files.set("glue/data/RTE.zip", bad);
    const server = serveFiles(files);
    const dir = await Deno.makeTempDir();
    const run = () =>
      downloadGlue({ dataDir: dir, tasks: ["rte"], baseUrl: server.baseUrl, retryDelayMs: 1 });
    await assert.rejects(run(), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `^Cannot extract the archive from "${server.baseUrl}/glue/data/RTE\\.zip" \\(.*` +
            `(CRC-32|DEFLATE|inflates).*\\); it was deleted: run again to download it afresh$`,
        ),
      );
      assert.ok(!e.message.includes("\n"));
      return true;
    });
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no RTE folder, stage or download left");
    files.set("glue/data/RTE.zip", good);
    const result = await run();
    assert.deepEqual(result.downloaded, ["RTE"]);
    await server.close();
    await Deno.remove(dir, { recursive: true });
  },
});
