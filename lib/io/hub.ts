/**
 * Find a model's files: a local folder or the Hugging Face cache ({@linkcode locateModel}, what
 * the loaders use), or, when asked with `download: true` and unless offline, a download into
 * that cache ({@linkcode resolveModel}). Loading never downloads: downloading is this explicit
 * step.
 *
 * Cache layout (as `huggingface_hub` writes it): `<cache>/models--<org>--<name>/` with
 * `blobs/<etag or sha256>`, `snapshots/<commit>/<file>` (a relative symlink to the blob, or a
 * copy where links are not allowed) and `refs/<revision>` holding the commit. `<cache>` is
 * `$HF_HUB_CACHE`, else `$HF_HOME/hub`, with `HF_HOME` defaulting to `~/.cache/huggingface`.
 *
 * @module
 */

import { writeAll, writeFileAtomic } from "./_file.ts";
import { WEIGHT_FILES } from "./checkpoint.ts";

/** Environment variables the resolver reads. */
export type HubEnvName = "HF_HOME" | "HF_HUB_CACHE" | "HF_HUB_OFFLINE" | "HF_ENDPOINT" | "HF_TOKEN";

/** Options of {@linkcode locateModel}: where to look, without downloading. */
export interface LocateOptions {
  /** Values that override `Deno.env` (an empty string counts as unset). */
  env?: Partial<Record<HubEnvName, string>>;
  /** Branch, tag or commit; default `"main"`. */
  revision?: string;
}

/** Options of {@linkcode resolveModel}. */
export interface ResolveOptions extends LocateOptions {
  /**
   * Download a hub id that is neither a folder nor in the cache (unless `HF_HUB_OFFLINE` is
   * set). Default false: only a folder or the cache answers.
   */
  download?: boolean;
  /** Download progress of one file: bytes done, total bytes (-1 when unknown), file name. */
  onProgress?: (done: number, total: number, file: string) => void;
  /** The fetch to use (tests pass their own). */
  fetch?: typeof fetch;
}

/** Where a model's files were found. */
export interface ResolvedModel {
  /** Folder holding `config.json` and a weight file. */
  folder: string;
  /** How it was found. */
  source: "local" | "cache" | "download";
  /** Hub repo id, when not local. */
  repoId?: string;
  /** Commit of the snapshot, when not local. */
  commit?: string;
}

/** A model that could not be found or downloaded; `tried` lists each place looked at. */
export class HubError extends Error {
  /** Folders and URLs tried, in order. */
  readonly tried: string[];
  /**
   * Makes the error; {@linkcode resolveModel} throws it.
   *
   * @param message One line: what failed and the fix.
   * @param tried Places tried.
   * @param options Cause.
   */
  constructor(message: string, tried: string[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HubError";
    this.tried = tried;
  }
}

/** Files downloaded besides the weights; these may be absent from a repo. */
const OPTIONAL_FILES = ["vocab.txt", "tokenizer_config.json"];

/** `Deno.env.get`, or undefined without env permission. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function envOf(options: ResolveOptions): (name: HubEnvName) => string | undefined {
  return (name) => {
    const own = options.env && Object.hasOwn(options.env, name);
    const v = own ? options.env![name] : readEnv(name);
    return v === "" ? undefined : v;
  };
}

async function exists(path: string, kind: "file" | "dir"): Promise<boolean> {
  try {
    const s = await Deno.stat(path);
    return kind === "file" ? s.isFile : s.isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function hasModel(folder: string): Promise<boolean> {
  if (!(await exists(`${folder}/config.json`, "file"))) return false;
  for (const w of WEIGHT_FILES) if (await exists(`${folder}/${w}`, "file")) return true;
  return false;
}

/**
 * The cache folder of a hub repo.
 *
 * @param repoId `"org/name"` or `"name"`.
 * @param options `env` overrides, as for {@linkcode resolveModel}.
 * @returns `<cache>/models--<org>--<name>`.
 * @throws {HubError} When neither `HF_HUB_CACHE`, `HF_HOME` nor `HOME` is set.
 */
export function hubRepoFolder(repoId: string, options: Pick<ResolveOptions, "env"> = {}): string {
  const env = envOf(options);
  let cache = env("HF_HUB_CACHE");
  if (!cache) {
    let home = env("HF_HOME");
    if (!home) {
      const user = readEnv("HOME") || readEnv("USERPROFILE");
      if (!user) throw new HubError(`Cannot find the hub cache: set HF_HOME or HOME`, []);
      home = `${user}/.cache/huggingface`;
    }
    cache = `${home}/hub`;
  }
  return `${cache}/models--${repoId.replaceAll("/", "--")}`;
}

const REPO_ID = /^(?!.*\.\.)[\w.-]+(\/[\w.-]+)?$/;
const COMMIT = /^[0-9a-f]{40}$/;

/**
 * Find a model folder: (1) `nameOrPath` itself when it is a folder with `config.json`;
 * (2) the hub cache snapshot of repo `nameOrPath`; (3) with `download: true` and unless
 * `HF_HUB_OFFLINE` is set, a download of `config.json`, the weights (`model.safetensors`, else
 * `pytorch_model.bin`), `vocab.txt` and `tokenizer_config.json` from `$HF_ENDPOINT` into the
 * cache. Each file is written to a temporary file and renamed, so an interrupted download
 * leaves no partial file.
 *
 * @param nameOrPath A folder, or a hub repo id such as `"bert-base-uncased"`.
 * @param options `download`, progress callback, fetch, env overrides, revision.
 * @returns The folder and how it was found.
 * @throws {HubError} When the model is in none of these places, naming each place tried and
 * the fix.
 *
 * @example Resolve a local folder
 * ```ts
 * import { resolveModel } from "./hub.ts";
 * import { equal } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/config.json`, "{}");
 * equal((await resolveModel(dir)).source, "local");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resolveModel(
  nameOrPath: string,
  options: ResolveOptions = {},
): Promise<ResolvedModel> {
  const env = envOf(options);
  const tried: string[] = [];
  if (await exists(nameOrPath, "dir")) {
    if (await exists(`${nameOrPath}/config.json`, "file")) {
      return { folder: nameOrPath, source: "local" };
    }
    throw new HubError(
      `Cannot use folder "${nameOrPath}" as a model: it has no config.json`,
      [nameOrPath],
    );
  }
  tried.push(nameOrPath);
  if (!REPO_ID.test(nameOrPath)) {
    throw new HubError(
      `Cannot find model "${nameOrPath}": no such folder, and it is not a hub repo id ` +
        `("org/name")`,
      tried,
    );
  }
  const repoId = nameOrPath;
  const revision = options.revision ?? "main";
  const repo = hubRepoFolder(repoId, options);
  let commit: string | undefined = COMMIT.test(revision) ? revision : undefined;
  try {
    commit ??= (await Deno.readTextFile(`${repo}/refs/${revision}`)).trim();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (commit !== undefined) {
    const folder = `${repo}/snapshots/${commit}`;
    tried.push(folder);
    if (await hasModel(folder)) return { folder, source: "cache", repoId, commit };
  } else {
    tried.push(`${repo}/refs/${revision}`);
  }
  if (!options.download) {
    throw new HubError(
      `Cannot find model "${repoId}": it is not a folder and not in the hub cache (tried ` +
        `${tried.join(", ")}); download it first with resolveModel("${repoId}", ` +
        `{ download: true }) (deno task train does this for --model_name_or_path), or pass a ` +
        `folder holding config.json and weights`,
      tried,
    );
  }
  if (env("HF_HUB_OFFLINE") && !/^(0|false|no|off)$/i.test(env("HF_HUB_OFFLINE")!)) {
    throw new HubError(
      `Cannot find model "${repoId}" offline: not in the cache (tried ${tried.join(", ")}); ` +
        `unset HF_HUB_OFFLINE to download it, or pass a folder holding config.json and weights`,
      tried,
    );
  }
  return await download({ repoId, revision, repo, tried, options });
}

/**
 * Find a model folder without downloading: `nameOrPath` itself when it is a folder with
 * `config.json`, else the hub cache snapshot of repo `nameOrPath`. What the loaders
 * (`fromPretrained`, `loadCaMtl`) use; {@linkcode resolveModel} with `download: true` fetches
 * what is missing.
 *
 * @throws {HubError} When the model is neither, naming each place tried and the fix.
 */
export function locateModel(
  nameOrPath: string,
  { env, revision }: LocateOptions = {},
): Promise<ResolvedModel> {
  return resolveModel(nameOrPath, { env, revision, download: false });
}

interface DownloadJob {
  repoId: string;
  revision: string;
  repo: string;
  tried: string[];
  options: ResolveOptions;
}

async function download(job: DownloadJob): Promise<ResolvedModel> {
  const { repoId, revision, repo, tried, options } = job;
  const env = envOf(options);
  const endpoint = (env("HF_ENDPOINT") ?? "https://huggingface.co").replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const token = env("HF_TOKEN");
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const fix = "set HF_ENDPOINT or your network, or set HF_HUB_OFFLINE=1 and pass a local folder";

  // Returns the response, or null on 404.
  const get = async (file: string): Promise<Response | null> => {
    const url = `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${file}`;
    tried.push(url);
    let res: Response;
    try {
      res = await doFetch(url, { headers, redirect: "follow" });
    } catch (e) {
      throw new HubError(`Cannot download "${url}": ${(e as Error).message}; ${fix}`, tried, {
        cause: e,
      });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      const hint = res.status === 401 || res.status === 403
        ? "the repo may be private or gated: set HF_TOKEN"
        : fix;
      throw new HubError(`Cannot download "${url}": HTTP ${res.status}; ${hint}`, tried);
    }
    return res;
  };

  const first = await get("config.json");
  if (!first) {
    throw new HubError(
      `Cannot download model "${repoId}": ${tried.at(-1)} is 404 (check the repo id and ` +
        `HF_ENDPOINT, or pass a local folder)`,
      tried,
    );
  }
  const commit = first.headers.get("x-repo-commit") ?? revision;
  const snapshot = `${repo}/snapshots/${commit}`;
  await Deno.mkdir(`${repo}/blobs`, { recursive: true });
  await Deno.mkdir(snapshot, { recursive: true });
  const store = (file: string, res: Response) =>
    storeFile({ repo, snapshot, file, res, options, tried });

  await store("config.json", first);
  let weights: string | undefined;
  for (const w of WEIGHT_FILES) {
    if (await exists(`${snapshot}/${w}`, "file")) {
      weights = w;
      break;
    }
    const res = await get(w);
    if (res) {
      await store(w, res);
      weights = w;
      break;
    }
  }
  if (!weights) {
    throw new HubError(
      `Cannot download model "${repoId}": it has neither ${WEIGHT_FILES.join(" nor ")}`,
      tried,
    );
  }
  for (const file of OPTIONAL_FILES) {
    if (await exists(`${snapshot}/${file}`, "file")) continue;
    const res = await get(file);
    if (res) await store(file, res);
  }
  if (commit !== revision) {
    await Deno.mkdir(`${repo}/refs`, { recursive: true });
    await writeFileAtomic(`${repo}/refs/${revision}`, async (f) => {
      await writeAll(f, new TextEncoder().encode(commit));
    });
  }
  return { folder: snapshot, source: "download", repoId, commit };
}

interface StoreJob {
  repo: string;
  snapshot: string;
  file: string;
  res: Response;
  options: ResolveOptions;
  tried: string[];
}

/** Stream a response into `blobs/`, then expose it in the snapshot; both steps atomic. */
async function storeFile({ repo, snapshot, file, res, options, tried }: StoreJob): Promise<void> {
  const length = res.headers.get("content-length");
  const total = length !== null && /^\d+$/.test(length) ? Number(length) : -1;
  const tmp = `${repo}/blobs/.${file}.${crypto.randomUUID()}.incomplete`;
  let done = 0;
  try {
    const out = await Deno.open(tmp, { write: true, createNew: true });
    try {
      if (res.body) {
        for await (const chunk of res.body) {
          await writeAll(out, chunk);
          done += chunk.length;
          options.onProgress?.(done, total, file);
        }
      }
      if (total >= 0 && done !== total) {
        throw new Error(`connection closed after ${done} of ${total} bytes`);
      }
      if (done === 0) options.onProgress?.(0, total, file);
      await out.syncData();
    } finally {
      out.close();
    }
    const blob = `${repo}/blobs/${await blobName(res, tmp)}`;
    await Deno.rename(tmp, blob);
    await linkIntoSnapshot(blob, `${snapshot}/${file}`);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new HubError(
      `Cannot download "${file}" (${res.url || "response"}): ${(e as Error).message}; ` +
        `the partial file was deleted, run again to retry`,
      tried,
      { cause: e },
    );
  }
}

/** The blob's name: the server's ETag when it is a hash (as the hub sends), else its SHA-256. */
async function blobName(res: Response, path: string): Promise<string> {
  const tag = (res.headers.get("x-linked-etag") ?? res.headers.get("etag") ?? "")
    .replace(/^W\//, "").replaceAll('"', "");
  if (/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(tag)) return tag;
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Make `target` appear at `dest` atomically: a relative symlink, or a copy if links fail. */
async function linkIntoSnapshot(blob: string, dest: string): Promise<void> {
  const tmp = `${dest}.${crypto.randomUUID()}.tmp`;
  const name = blob.slice(blob.lastIndexOf("/") + 1);
  try {
    await Deno.symlink(`../../blobs/${name}`, tmp);
  } catch {
    await Deno.copyFile(blob, tmp);
  }
  try {
    await Deno.rename(tmp, dest);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
