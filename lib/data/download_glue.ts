/**
 * GLUE, fetched as `download_glue_data.py --data_dir DIR --tasks all` fetches it: each task's
 * zip archive from `https://dl.fbaipublicfiles.com/glue/data/`, extracted into its folder
 * (CoLA, SST-2, QQP, STS-B, MNLI, QNLI, RTE, WNLI), the diagnostic set to
 * `diagnostic/diagnostic.tsv`, and MRPC built from SentEval's `msr_paraphrase_train.txt` and
 * `msr_paraphrase_test.txt`, split into `train.tsv` and `dev.tsv` by GLUE's `dev_ids.tsv` as
 * the script splits them, byte for byte. That is the layout `glue.ts` reads.
 *
 * Unlike the script it retries, resumes partial downloads (`download.ts`), skips a task whose
 * folder is already there, and builds each folder beside the target and renames it into place,
 * so that a folder present is a folder complete.
 *
 * @module
 */

import { DataError } from "./data_error.ts";
import { downloadFile, type DownloadOptions } from "./_download.ts";
import { ZipReader } from "../io/torch_zip.ts";

/** Where the script's files live. */
export const GLUE_DOWNLOAD_BASE = "https://dl.fbaipublicfiles.com";

/** `download_glue_data.py`'s task names, in its order (what `all` means). */
export const GLUE_DOWNLOAD_TASKS: readonly GlueDownloadTask[] = [
  "CoLA",
  "SST",
  "MRPC",
  "QQP",
  "STS",
  "MNLI",
  "QNLI",
  "RTE",
  "WNLI",
  "diagnostic",
];

/** One of `download_glue_data.py`'s task names ({@linkcode GLUE_DOWNLOAD_TASKS}). */
export type GlueDownloadTask =
  | "CoLA"
  | "SST"
  | "MRPC"
  | "QQP"
  | "STS"
  | "MNLI"
  | "QNLI"
  | "RTE"
  | "WNLI"
  | "diagnostic";

/** Each task's folder and address (below the base); MRPC's three files are below. */
const SOURCES: Readonly<Record<GlueDownloadTask, { folder: string; path: string }>> = {
  CoLA: { folder: "CoLA", path: "glue/data/CoLA.zip" },
  SST: { folder: "SST-2", path: "glue/data/SST-2.zip" },
  MRPC: { folder: "MRPC", path: "" },
  QQP: { folder: "QQP", path: "glue/data/QQP-clean.zip" },
  STS: { folder: "STS-B", path: "glue/data/STS-B.zip" },
  MNLI: { folder: "MNLI", path: "glue/data/MNLI.zip" },
  QNLI: { folder: "QNLI", path: "glue/data/QNLIv2.zip" },
  RTE: { folder: "RTE", path: "glue/data/RTE.zip" },
  WNLI: { folder: "WNLI", path: "glue/data/WNLI.zip" },
  diagnostic: { folder: "diagnostic", path: "glue/data/AX.tsv" },
};

const MRPC_FILES = {
  "msr_paraphrase_train.txt": "senteval/senteval_data/msr_paraphrase_train.txt",
  "msr_paraphrase_test.txt": "senteval/senteval_data/msr_paraphrase_test.txt",
  "dev_ids.tsv": "glue/data/mrpc_dev_ids.tsv",
} as const;

/**
 * Reads a `--tasks` list: `all`, the script's names (`CoLA`, `SST`, `STS`, …) or camtl's
 * (`cola`, `sst-2`, `sts-b`, …), any case, separated by commas or given one by one.
 *
 * @throws {DataError} naming an unknown task and the known ones
 */
export function resolveDownloadTasks(names: readonly string[]): GlueDownloadTask[] {
  const words = names.flatMap((n) => n.split(",")).map((n) => n.trim()).filter((n) => n);
  if (words.some((w) => w.toLowerCase() === "all")) return [...GLUE_DOWNLOAD_TASKS];
  const out: GlueDownloadTask[] = [];
  for (const word of words) {
    const w = word.toLowerCase();
    const task = GLUE_DOWNLOAD_TASKS.find((t) =>
      t.toLowerCase() === w || SOURCES[t].folder.toLowerCase() === w ||
      (t === "diagnostic" && w === "ax")
    );
    if (task === undefined) {
      throw new DataError(
        `Cannot download GLUE task "${word}": unknown; use all or some of ` +
          `${GLUE_DOWNLOAD_TASKS.join(", ")}`,
      );
    }
    if (!out.includes(task)) out.push(task);
  }
  if (out.length === 0) throw new DataError("Cannot download GLUE: no task named; use all");
  return out;
}

/** Options of {@linkcode downloadGlue}. */
export interface GlueDownloadOptions {
  /** The folder that receives the task folders (created if needed). */
  dataDir: string;
  /** As {@linkcode resolveDownloadTasks} reads them. */
  tasks: readonly string[];
  /** Base address of every file; default {@linkcode GLUE_DOWNLOAD_BASE} (tests use a mirror). */
  baseUrl?: string;
  /** A folder holding `msr_paraphrase_train.txt` and `_test.txt`, used instead of downloading. */
  pathToMrpc?: string;
  /** Tries per file (see `downloadFile`). */
  attempts?: number;
  /** The first pause between tries, in milliseconds; it doubles after each failure. */
  retryDelayMs?: number;
  /** What happens, task by task: a line worth showing. */
  onInfo?: (line: string) => void;
  /** Bytes of one file so far and its size (-1 while unknown). */
  onProgress?: (file: string, done: number, total: number) => void;
}

/** What {@linkcode downloadGlue} did. */
export interface GlueDownloadResult {
  /** Task folders written by this call. */
  downloaded: string[];
  /** Task folders that were already there. */
  skipped: string[];
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * Downloads the GLUE tasks into `dataDir`, skipping those already there.
 *
 * @throws {DataError} for an unknown task, a download that failed after its retries (the
 *   `.part` file is kept and resumed by the next call) or a damaged archive (deleted, so the
 *   next call fetches it afresh); tasks finished before the failure stay
 */
export async function downloadGlue(options: GlueDownloadOptions): Promise<GlueDownloadResult> {
  const tasks = resolveDownloadTasks(options.tasks);
  const dataDir = options.dataDir.replace(/\/+$/, "") || "/";
  const base = (options.baseUrl ?? GLUE_DOWNLOAD_BASE).replace(/\/+$/, "");
  Deno.mkdirSync(dataDir, { recursive: true });
  const result: GlueDownloadResult = { downloaded: [], skipped: [] };
  for (const task of tasks) {
    const { folder, path } = SOURCES[task];
    const target = `${dataDir}/${folder}`;
    if (exists(target)) {
      options.onInfo?.(`${task}: ${target} is already there; skipped (remove it to fetch again)`);
      result.skipped.push(folder);
      continue;
    }
    const stage = `${dataDir}/.${folder}.partial`;
    removeIfThere(stage); // left by a killed run
    Deno.mkdirSync(`${stage}/${folder}`, { recursive: true });
    // Downloads stay until their task's folder is in place: a failure later on keeps them.
    const downloads: string[] = [];
    const fetchTo = async (rel: string) => {
      const url = `${base}/${rel}`;
      const dest = `${dataDir}/.${rel.slice(rel.lastIndexOf("/") + 1)}`;
      downloads.push(dest);
      options.onInfo?.(`${task}: downloading ${url}`);
      const how: DownloadOptions = {
        attempts: options.attempts,
        retryDelayMs: options.retryDelayMs,
        onProgress: (done, total) => options.onProgress?.(rel, done, total),
        onRetry: (n, why) => options.onInfo?.(`${task}: try ${n} failed (${why}); retrying`),
      };
      try {
        await downloadFile(url, dest, how);
      } catch (e) {
        const resume = exists(`${dest}.part`)
          ? "; the part downloaded is kept: run again to resume"
          : "";
        throw new DataError(
          `${(e as Error).message}${resume}; offline, skip this step and give deno task train ` +
            `--data_dir a folder that already holds GLUE`,
          { file: dest },
        );
      }
      return { url, dest };
    };
    try {
      if (task === "MRPC") {
        await buildMrpc(`${stage}/${folder}`, options.pathToMrpc, fetchTo);
      } else if (task === "diagnostic") {
        Deno.copyFileSync((await fetchTo(path)).dest, `${stage}/${folder}/diagnostic.tsv`);
      } else {
        const { url, dest } = await fetchTo(path);
        try {
          await extractZip(dest, stage);
        } catch (e) {
          removeIfThere(dest);
          throw new DataError(
            `Cannot extract the archive from "${url}" (${(e as Error).message}); it was ` +
              `deleted: run again to download it afresh`,
          );
        }
        if (!exists(`${stage}/${folder}`)) {
          throw new DataError(`Cannot extract "${folder}" from "${url}": no such folder in it`);
        }
      }
      Deno.renameSync(`${stage}/${folder}`, target);
      downloads.forEach(removeIfThere);
    } finally {
      removeIfThere(stage);
    }
    options.onInfo?.(`${task}: done, ${target}`);
    result.downloaded.push(folder);
  }
  return result;
}

/** Extracts every file of a zip archive below `into`, refusing paths that leave it. */
async function extractZip(archive: string, into: string): Promise<void> {
  const zip = await ZipReader.open(archive);
  try {
    for (const name of zip.entries.keys()) {
      const parts = name.split("/");
      if (name.startsWith("/") || parts.some((p) => p === ".." || p.includes("\\"))) {
        throw new Error(`entry "${name}" points outside the folder`);
      }
      if (name.endsWith("/")) {
        Deno.mkdirSync(`${into}/${name}`, { recursive: true });
        continue;
      }
      Deno.mkdirSync(`${into}/${parts.slice(0, -1).join("/")}`, { recursive: true });
      Deno.writeFileSync(`${into}/${name}`, await zip.read(name));
    }
  } finally {
    zip.close();
  }
}

// ---- MRPC ------------------------------------------------------------------------------------

/** Characters Python's `str.strip()` removes (`str.isspace`). */
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");

/** A text file's lines as Python's text mode reads them (`\r\n` and `\r` become `\n`). */
function pythonLines(bytes: Uint8Array, file: string): string[] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new DataError(`Cannot read "${file}": it is not UTF-8 text`, { file });
  }
  const lines = text.replace(/\r\n?/g, "\n").split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === "" ? [] : lines;
}

/** The five fields of an MSR paraphrase row: label, id1, id2, sentence1, sentence2. */
function mrpcFields(line: string, file: string, n: number): string[] {
  const fields = line.replace(PY_STRIP, "").split("\t");
  if (fields.length !== 5) {
    throw new DataError(
      `Cannot read "${file}" line ${n}: expected 5 tab-separated fields, found ${fields.length}`,
      { file, line: n },
    );
  }
  return fields;
}

/**
 * MRPC's `train.tsv`, `dev.tsv` and `test.tsv` from the MSR files, as `download_glue_data.py`
 * writes them: the train file's header on both splits, rows whose id pair is in `dev_ids.tsv`
 * to dev, and the test rows numbered under a fixed header.
 *
 * @throws {DataError} naming the file and line of a row without 5 fields
 */
export function formatMrpc(
  train: Uint8Array,
  test: Uint8Array,
  devIds: Uint8Array,
): { train: string; dev: string; test: string } {
  const devKeys = new Set(
    pythonLines(devIds, "dev_ids.tsv").map((l) => l.replace(PY_STRIP, "")),
  );
  const testLines = pythonLines(test, "msr_paraphrase_test.txt");
  let testOut = "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n";
  testLines.slice(1).forEach((line, i) => {
    const [, id1, id2, s1, s2] = mrpcFields(line, "msr_paraphrase_test.txt", i + 2);
    testOut += `${i}\t${id1}\t${id2}\t${s1}\t${s2}\n`;
  });
  const trainLines = pythonLines(train, "msr_paraphrase_train.txt");
  let trainOut = trainLines[0] ?? "", devOut = trainLines[0] ?? "";
  trainLines.slice(1).forEach((line, i) => {
    const f = mrpcFields(line, "msr_paraphrase_train.txt", i + 2);
    const row = f.join("\t") + "\n";
    if (devKeys.has(`${f[1]}\t${f[2]}`)) devOut += row;
    else trainOut += row;
  });
  return { train: trainOut, dev: devOut, test: testOut };
}

async function buildMrpc(
  folder: string,
  pathToMrpc: string | undefined,
  fetchTo: (rel: string) => Promise<{ dest: string }>,
): Promise<void> {
  for (const [name, rel] of Object.entries(MRPC_FILES)) {
    const local = pathToMrpc !== undefined && name !== "dev_ids.tsv";
    const from = local ? `${pathToMrpc}/${name}` : (await fetchTo(rel)).dest;
    Deno.copyFileSync(from, `${folder}/${name}`);
  }
  const read = (name: string) => Deno.readFileSync(`${folder}/${name}`);
  const out = formatMrpc(
    read("msr_paraphrase_train.txt"),
    read("msr_paraphrase_test.txt"),
    read("dev_ids.tsv"),
  );
  const encoder = new TextEncoder();
  for (const split of ["train", "dev", "test"] as const) {
    Deno.writeFileSync(`${folder}/${split}.tsv`, encoder.encode(out[split]));
  }
}
