/**
 * Run outputs in the formats Hugging Face tools read:
 *
 * - `log_history.jsonl`: one JSON object per logged step (step, epoch, loss, learning_rate,
 *   examples_per_second, the sampler's per-task counts, eval metrics), appended by a
 *   {@linkcode JsonlLogger}. Each record is one write of one whole line on a file opened for
 *   appending, so a killed process leaves at most a torn last line, which the next
 *   {@linkcode JsonlLogger.open} cuts off (and {@linkcode readJsonl} skips).
 * - `eval_results_<task>.txt`: HF 2.x `run_glue.py`'s `key = value` lines, values printed as
 *   Python prints a float (`0.8`, `1e-05`, `nan`).
 * - JSON files (`trainer_state.json`, `eval_results.json`) written atomically: a temporary
 *   file in the same folder, synced, then renamed over the target.
 *
 * JSON has no NaN or Infinity; such values are written as `null` (Python's `json.dumps`
 * would write the invalid token `NaN`).
 *
 * @module
 */

import { writeTextAtomic } from "../io/atomic.ts";
import { DataError } from "../data/data_error.ts";

/** One logged record (also a line of the JSONL log). */
export interface LogRecord {
  /** The optimizer step the record was taken at. */
  step: number;
  /** Epochs so far, fractional (epoch index plus the position in the current one). */
  epoch: number;
  /** Mean training loss over the steps since the previous record. */
  loss?: number;
  /** The learning rate of this step. */
  learning_rate?: number;
  /** Training examples per second since the previous record. */
  examples_per_second?: number;
  /** Task name → examples of that task drawn into training batches so far. */
  sampler?: Record<string, number>;
  /** MT-Uncertainty only: candidates kept for training over candidates scored. */
  candidate_fraction?: number;
  /** Loss scale after this step (`fp16` only). */
  loss_scale?: number;
  /** Task name → dev metrics, when this step evaluated. */
  eval?: Record<string, Record<string, number>>;
  /** Task name → best value of each metric over the evaluations so far, with `eval`. */
  best?: Record<string, Record<string, number>>;
}

const ENCODER = new TextEncoder();

function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

/** Writes `text` to `path` atomically (shared with every camtl writer). */
export { writeTextAtomic };

/**
 * Writes `value` as JSON (2-space indent, final newline) to `path` atomically.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeJsonAtomic } from "./log.ts";
 * const dir = await Deno.makeTempDir();
 * await writeJsonAtomic(`${dir}/state.json`, { global_step: 10, best: NaN });
 * assert.equal(await Deno.readTextFile(`${dir}/state.json`), '{\n  "global_step": 10,\n  "best": null\n}\n');
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @throws {TypeError} For a value JSON cannot hold (a cycle, a BigInt).
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

// ---- JSONL -------------------------------------------------------------------------------

/** Options of {@linkcode JsonlLogger.open}. */
export interface JsonlOpenOptions {
  /**
   * A resumed run's step: records with a larger `step` (logged after the checkpoint the run
   * resumes from) are dropped, so that the log reads as if the run had never stopped.
   */
  resumeAtStep?: number;
  /** Sync each line to disk (survives power loss, not only a killed process). Default false. */
  sync?: boolean;
}

/** Offset just past the last newline of `file` (0 when it has none). */
function endOfLastLine(file: Deno.FsFile, size: number): number {
  const chunk = new Uint8Array(4096);
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - chunk.length);
    file.seekSync(start, Deno.SeekMode.Start);
    const view = chunk.subarray(0, end - start);
    let got = 0;
    while (got < view.length) {
      const n = file.readSync(view.subarray(got));
      if (n === null) break;
      got += n;
    }
    const at = view.subarray(0, got).lastIndexOf(0x0a);
    if (at >= 0) return start + at + 1;
    end = start;
  }
  return 0;
}

/**
 * Appends one JSON object per line to a log file, in call order, without buffering: each
 * record leaves the process in one write of its whole line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonlLogger, readJsonl } from "./log.ts";
 * const dir = await Deno.makeTempDir();
 * const log = JsonlLogger.open(`${dir}/log_history.jsonl`);
 * log.append({ step: 50, epoch: 0.4, loss: 0.69, learning_rate: 2e-5 });
 * log.close();
 * assert.equal((await readJsonl(`${dir}/log_history.jsonl`)).records.length, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JsonlLogger {
  /** The log file. */
  readonly path: string;
  readonly #file: Deno.FsFile;
  readonly #sync: boolean;
  #closed = false;

  private constructor(path: string, file: Deno.FsFile, sync: boolean) {
    this.path = path;
    this.#file = file;
    this.#sync = sync;
  }

  /**
   * Opens (creating if needed) a log for appending. A torn last line, left by a process
   * killed mid-write, is cut off first, so the next record starts on a line of its own.
   *
   * @param path The `.jsonl` file.
   * @param options `resumeAtStep` drops records logged after a resumed checkpoint; `sync`.
   * @returns The logger; call {@linkcode JsonlLogger.close} when done.
   * @throws {DataError} When `resumeAtStep` is given and a complete line is not JSON.
   */
  static open(path: string, options: JsonlOpenOptions = {}): JsonlLogger {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    try {
      const size = file.statSync().size;
      const end = endOfLastLine(file, size);
      if (end < size) file.truncateSync(end);
      if (options.resumeAtStep !== undefined) {
        const text = new TextDecoder().decode(Deno.readFileSync(path));
        const kept = parseJsonl(path, text).records.filter((r) => {
          const step = (r as { step?: unknown }).step;
          return typeof step !== "number" || step <= options.resumeAtStep!;
        });
        const out = kept.map((r) => JSON.stringify(r) + "\n").join("");
        file.truncateSync(0);
        file.seekSync(0, Deno.SeekMode.Start);
        writeAllSync(file, ENCODER.encode(out));
        file.syncDataSync();
      }
      file.seekSync(0, Deno.SeekMode.End);
    } catch (err) {
      file.close();
      throw err;
    }
    return new JsonlLogger(path, file, options.sync ?? false);
  }

  /**
   * Appends `record` as one line.
   *
   * @throws {Error} When the logger is closed. @throws {TypeError} When JSON cannot hold it.
   */
  append(record: unknown): void {
    if (this.#closed) throw new Error(`Cannot append to "${this.path}": the log is closed`);
    writeAllSync(this.#file, ENCODER.encode(JSON.stringify(record) + "\n"));
    if (this.#sync) this.#file.syncDataSync();
  }

  /** Closes the file; later appends throw. Closing twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}

/**
 * Appends one record to a JSONL file (open, one whole-line write, close). The write happens
 * before this returns, so calls keep their order even when the promise is not awaited.
 *
 * @param path The `.jsonl` file, created if missing.
 * @param record Any JSON-serialisable value.
 */
export function appendJsonl(path: string, record: unknown): Promise<void> {
  try {
    const file = Deno.openSync(path, { append: true, create: true });
    try {
      writeAllSync(file, ENCODER.encode(JSON.stringify(record) + "\n"));
    } finally {
      file.close();
    }
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** What {@linkcode readJsonl} found. */
export interface JsonlContents {
  /** One parsed value per complete line. */
  records: unknown[];
  /** Whether the file ended in a torn line (no final newline) that was skipped. */
  truncated: boolean;
}

function parseJsonl(path: string, text: string): JsonlContents {
  const lines = text.split("\n");
  const truncated = lines.at(-1) !== "";
  lines.pop(); // the empty string after the final newline, or the torn line
  const records: unknown[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      records.push(JSON.parse(line));
    } catch (err) {
      throw new DataError(
        `Cannot read "${path}" line ${i + 1}: it is not JSON (${(err as Error).message})`,
        { file: path, line: i + 1 },
      );
    }
  });
  return { records, truncated };
}

/**
 * Reads a JSONL file written by {@linkcode JsonlLogger}, skipping a torn last line.
 *
 * @throws {DataError} When a complete line is not JSON (naming file and line).
 * @throws {Deno.errors.NotFound} When the file does not exist.
 */
export async function readJsonl(path: string): Promise<JsonlContents> {
  return parseJsonl(path, await Deno.readTextFile(path));
}

// ---- eval_results_<task>.txt -------------------------------------------------------------

/**
 * A number as Python's `str(float)` prints it: shortest round-trip digits, fixed notation
 * for exponents -4 … 15 (`0.0001`, `3.0`), otherwise `1e-05` / `1.5e+16`, and `nan`, `inf`.
 *
 * @example
 * ```ts
 * import { formatPythonFloat } from "./log.ts";
 * const out = [0.85, 3, 1e-5, 1.5e16, NaN].map(formatPythonFloat).join(" ");
 * if (out !== "0.85 3.0 1e-05 1.5e+16 nan") throw new Error(out);
 * ```
 */
export function formatPythonFloat(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
  const sign = v < 0 ? "-" : "";
  const [mantissa, expText] = Math.abs(v).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const e = `${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
    return `${sign}${mantissa}e${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}.${frac || "0"}`;
}

/**
 * Writes HF 2.x's `eval_results_<task>.txt` in `dir`: one `key = value` line per metric,
 * in the order given (HF writes `result.items()`), values as Python prints floats.
 *
 * @param dir The output folder (must exist).
 * @param task The task name, used in the file name as given.
 * @param metrics Metric values by key, e.g. `{ eval_acc: 0.85, eval_loss: 0.41 }`.
 * @returns The path written.
 * @throws {RangeError} For a task name that is empty or contains `/`.
 */
export async function writeEvalResults(
  dir: string,
  task: string,
  metrics: Record<string, number>,
): Promise<string> {
  if (task === "" || task.includes("/")) {
    throw new RangeError(`Cannot write eval results for task "${task}": not a file-name part`);
  }
  const path = `${dir}/eval_results_${task}.txt`;
  const lines = Object.entries(metrics).map(([k, v]) => `${k} = ${formatPythonFloat(v)}\n`);
  await writeTextAtomic(path, lines.join(""));
  return path;
}
