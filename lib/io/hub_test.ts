import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { loadStateDict } from "./checkpoint.ts";
import { HubError, hubRepoFolder, locateModel, resolveModel } from "./hub.ts";

const MODEL = "tiny-bert-camphr-ner";
const REPO = "camtl-test/tiny-ner";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const FILES = [
  "config.json",
  "model.safetensors",
  "pytorch_model.bin",
  "vocab.txt",
  "tokenizer_config.json",
];

interface ServerOptions {
  /** Files answered with 404. */
  missing?: string[];
  /** File whose body stops half way with a connection error. */
  dieOn?: string;
}

/** A loopback hub serving the tiny checkpoint; records the paths asked for. */
function startHub(options: ServerOptions = {}) {
  const requests: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    const prefix = `/${REPO}/resolve/main/`;
    const file = path.startsWith(prefix) ? path.slice(prefix.length) : "";
    if (!FILES.includes(file) || options.missing?.includes(file)) {
      return new Response("Entry not found", { status: 404 });
    }
    const body = await Deno.readFile(dataPath(`${MODEL}/${file}`));
    const headers = { "x-repo-commit": COMMIT, "content-length": String(body.length) };
    if (file === options.dieOn) {
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(body.subarray(0, body.length >> 1));
          c.close(); // fewer bytes than Content-Length promised
        },
      });
      return new Response(stream, { headers });
    }
    return new Response(body, { headers });
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  return { server, endpoint, requests };
}

async function withHome<T>(fn: (home: string) => Promise<T>): Promise<T> {
  const home = await Deno.makeTempDir({ prefix: "hf_home_" });
  try {
    return await fn(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) out.push(...listTree(`${dir}/${e.name}`).map((n) => `${e.name}/${n}`));
    else out.push(e.name);
  }
  return out.sort();
}

const skip = !hasData(MODEL);

Deno.test({
  name: "resolveModel() downloads into the HF cache layout, then resolves offline from it",
  ignore: skip,
  async fn() {
    const { server, endpoint } = startHub();
    try {
      await withHome(async (home) => {
        const progress = new Map<string, [number, number][]>();
        const env = { HF_HOME: home, HF_ENDPOINT: endpoint, HF_HUB_OFFLINE: "" };
        const got = await resolveModel(REPO, {
          env,
          download: true,
          onProgress: (done, total, file) =>
            progress.set(file, [...(progress.get(file) ?? []), [done, total]]),
        });
        const repo = `${home}/hub/models--camtl-test--tiny-ner`;
        deepEqual(got, {
          folder: `${repo}/snapshots/${COMMIT}`,
          source: "download",
          repoId: REPO,
          commit: COMMIT,
        });
        equal(hubRepoFolder(REPO, { env }), repo);
        const expected = ["config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"];
        deepEqual(listTree(got.folder), expected, "bin not fetched when safetensors exists");
        for (const f of expected) {
          deepEqual(
            await Deno.readFile(`${got.folder}/${f}`),
            await Deno.readFile(dataPath(`${MODEL}/${f}`)),
            f,
          );
          ok((await Deno.lstat(`${got.folder}/${f}`)).isSymlink, `${f} links into blobs/`);
          const [done, total] = progress.get(f)!.at(-1)!;
          equal(done, (await Deno.stat(dataPath(`${MODEL}/${f}`))).size, `${f} progress done`);
          equal(total, done, `${f} progress total`);
          const dones = progress.get(f)!.map(([d]) => d);
          deepEqual(dones, dones.toSorted((a, b) => a - b), "progress only grows");
        }
        equal(listTree(`${repo}/blobs`).length, 4);
        ok(
          listTree(`${repo}/blobs`).every((n) => /^[0-9a-f]{64}$/.test(n)),
          "blobs named by sha256",
        );
        equal(await Deno.readTextFile(`${repo}/refs/main`), COMMIT);

        // Offline, and with a fetch that must not be called: the cache answers.
        const noFetch = () => Promise.reject(new Error("network used"));
        const again = await resolveModel(REPO, {
          env: { ...env, HF_HUB_OFFLINE: "1" },
          fetch: noFetch,
        });
        deepEqual(again, { folder: got.folder, source: "cache", repoId: REPO, commit: COMMIT });
        const { stateDict } = await loadStateDict(again.folder);
        equal(stateDict.size, 24);
      });
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "resolveModel() falls back to pytorch_model.bin when model.safetensors is 404",
  ignore: skip,
  async fn() {
    const { server, endpoint, requests } = startHub({
      missing: ["model.safetensors", "vocab.txt"],
    });
    try {
      await withHome(async (home) => {
        const got = await resolveModel(REPO, {
          env: { HF_HOME: home, HF_ENDPOINT: endpoint },
          download: true,
        });
        deepEqual(listTree(got.folder), [
          "config.json",
          "pytorch_model.bin",
          "tokenizer_config.json",
        ]);
        ok(
          requests.includes(`/${REPO}/resolve/main/model.safetensors`),
          "safetensors was tried first",
        );
        const { file } = await loadStateDict(got.folder);
        ok(file.endsWith("pytorch_model.bin"));
      });
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "resolveModel() leaves no partial file when the server dies mid-file",
  ignore: skip,
  async fn() {
    const { server, endpoint } = startHub({ dieOn: "model.safetensors" });
    try {
      await withHome(async (home) => {
        const env = { HF_HOME: home, HF_ENDPOINT: endpoint };
        await rejects(resolveModel(REPO, { env, download: true }), (e) => {
          ok(e instanceof HubError, String(e));
          ok(/Cannot download "model.safetensors"/.test(e.message), e.message);
          return true;
        });
        const repo = `${home}/hub/models--camtl-test--tiny-ner`;
        deepEqual(listTree(`${repo}/snapshots/${COMMIT}`), ["config.json"]);
        equal(listTree(`${repo}/blobs`).length, 1, "only config.json's blob, no .incomplete file");
        // Nothing is cached under refs, so an offline run still reports a miss.
        await rejects(
          resolveModel(REPO, { env: { ...env, HF_HUB_OFFLINE: "1" }, download: true }),
          HubError,
        );
      });
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test("resolveModel() offline with an empty cache names what it tried and the fix", async () => {
  await withHome(async (home) => {
    await rejects(
      resolveModel("org/absent", {
        env: { HF_HOME: home, HF_HUB_OFFLINE: "1" },
        download: true,
      }),
      (e) => {
        ok(e instanceof HubError);
        ok(e.message.includes("unset HF_HUB_OFFLINE"), e.message);
        ok(e.message.includes("pass a folder"), e.message);
        deepEqual(e.tried, ["org/absent", `${home}/hub/models--org--absent/refs/main`]);
        return true;
      },
    );
  });
});

Deno.test("resolveModel() reports an unreachable endpoint with the URL and the fix", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(),
  );
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  await server.shutdown(); // nothing listens there now
  await withHome(async (home) => {
    const env = { HF_HOME: home, HF_ENDPOINT: endpoint };
    await rejects(resolveModel("org/m", { env, download: true }), (e) => {
      ok(e instanceof HubError);
      ok(e.message.includes(`${endpoint}/org/m/resolve/main/config.json`), e.message);
      ok(e.message.includes("HF_HUB_OFFLINE=1"), e.message);
      return true;
    });
  });
});

Deno.test("resolveModel() uses a local folder as is and rejects one without config.json", async () => {
  await withHome(async (dir) => {
    await rejects(resolveModel(dir), /Cannot use folder .* it has no config.json/);
    await Deno.writeTextFile(`${dir}/config.json`, "{}");
    deepEqual(await resolveModel(dir, { fetch: () => Promise.reject(new Error("no")) }), {
      folder: dir,
      source: "local",
    });
    await rejects(
      resolveModel(`${dir}/missing/../x`),
      /no such folder, and it is not a hub repo id/,
    );
  });
});

Deno.test("resolveModel() finds a snapshot that huggingface_hub wrote, via HF_HUB_CACHE", async () => {
  await withHome(async (cache) => {
    const repo = `${cache}/models--google--bert_uncased_L-2_H-128`;
    await Deno.mkdir(`${repo}/refs`, { recursive: true });
    await Deno.mkdir(`${repo}/snapshots/${COMMIT}`, { recursive: true });
    await Deno.writeTextFile(`${repo}/refs/main`, `${COMMIT}\n`);
    await Deno.writeTextFile(`${repo}/snapshots/${COMMIT}/config.json`, "{}");
    const env = { HF_HUB_CACHE: cache, HF_HOME: "/nonexistent", HF_HUB_OFFLINE: "1" };
    // A snapshot without weights does not count as cached.
    await rejects(resolveModel("google/bert_uncased_L-2_H-128", { env }), HubError);
    await Deno.writeFile(`${repo}/snapshots/${COMMIT}/pytorch_model.bin`, new Uint8Array(1));
    const got = await resolveModel("google/bert_uncased_L-2_H-128", { env });
    deepEqual(got, {
      folder: `${repo}/snapshots/${COMMIT}`,
      source: "cache",
      repoId: "google/bert_uncased_L-2_H-128",
      commit: COMMIT,
    });
  });
});

Deno.test("resolveModel() names the URL when the repo has no config.json", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("nope", { status: 404 }),
  );
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  try {
    await withHome(async (home) => {
      await rejects(
        resolveModel("org/none", { env: { HF_HOME: home, HF_ENDPOINT: endpoint }, download: true }),
        (e) => {
          ok(e instanceof HubError);
          ok(e.message.includes(`${endpoint}/org/none/resolve/main/config.json is 404`), e.message);
          return true;
        },
      );
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("without download: true, a hub id missing from the cache fails without a fetch", async () => {
  await withHome(async (home) => {
    const fetch = () => Promise.reject(new Error("network used"));
    const env = { HF_HOME: home, HF_ENDPOINT: "http://127.0.0.1:9" };
    const finds = [
      () => resolveModel("org/absent", { env, fetch }),
      () => locateModel("org/absent", { env }),
    ];
    for (const find of finds) {
      await rejects(find(), (e) => {
        ok(e instanceof HubError, String(e));
        ok(e.message.includes('resolveModel("org/absent", { download: true })'), e.message);
        deepEqual(e.tried, ["org/absent", `${home}/hub/models--org--absent/refs/main`]);
        return true;
      });
    }
  });
});
