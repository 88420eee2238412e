import assert from "node:assert/strict";
import { serveFiles } from "../../tests/_util/file_server.ts";
import { DataError } from "./data_error.ts";
import { downloadFile } from "./_download.ts";

const FILE = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 251);

Deno.test({
  name: "downloadFile resumes a dropped answer with a Range request and keeps every byte",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = serveFiles(new Map([["f.bin", FILE]]), new Map([["f.bin", { after: 20_000 }]]));
    const retries: string[] = [];
    await downloadFile(`${server.baseUrl}/f.bin`, `${dir}/f.bin`, {
      retryDelayMs: 1,
      onRetry: (_, why) => retries.push(why),
    });
    assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), FILE);
    assert.equal(retries.length, 1);
    assert.deepEqual(server.requests.map((r) => r.range), [null, "bytes=20000-"]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f.bin"]);
    // Present already: no request at all.
    await downloadFile(`${server.baseUrl}/f.bin`, `${dir}/f.bin`);
    assert.equal(server.requests.length, 2);
    await server.close();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "downloadFile stops at once on 404, names the address, and restarts a part it cannot resume",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = serveFiles(new Map([["f.bin", FILE]]));
    const missing = `${server.baseUrl}/nope.bin`;
    await assert.rejects(
      downloadFile(missing, `${dir}/nope.bin`, { retryDelayMs: 1 }),
      (e: Error) =>
        e instanceof DataError && e.message === `Cannot download "${missing}": HTTP 404 Not Found`,
    );
    assert.equal(server.requests.length, 1, "a 404 is not retried");
    // A part longer than the file (another file's leftovers): 416, then a fresh start.
    await Deno.writeFile(`${dir}/f.bin.part`, new Uint8Array(60_000));
    await downloadFile(`${server.baseUrl}/f.bin`, `${dir}/f.bin`, { retryDelayMs: 1 });
    assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), FILE);
    assert.deepEqual(server.requests.slice(1).map((r) => r.range), ["bytes=60000-", null]);
    // A complete part from a run killed before its rename: 416 with the same size, kept.
    await Deno.rename(`${dir}/f.bin`, `${dir}/g.bin.part`);
    await downloadFile(`${server.baseUrl}/f.bin`, `${dir}/g.bin`, { retryDelayMs: 1 });
    assert.deepEqual(await Deno.readFile(`${dir}/g.bin`), FILE);
    await server.close();
    await Deno.remove(dir, { recursive: true });
  },
});
