/**
 * Progress reporting for long loops (training, evaluation, feature building): a bar with
 * rate, elapsed time, ETA and a short status (loss, learning rate) on a terminal, redrawn in
 * place at most every `redrawMs`; plain log lines every `logEveryMs` when the output is a
 * file or a pipe, so that CI logs stay readable.
 *
 * The library itself never prints: the CLI creates a {@linkcode ProgressBar} and drives it
 * (`start`, `update`, `log`, `finish`). It writes to the writer it is given, stderr by
 * default, so that stdout stays free for results.
 *
 * @example Driving a bar from a training loop
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProgressBar } from "./progress.ts";
 * const chunks: string[] = [];
 * const writer = { writeSync: (b: Uint8Array) => (chunks.push(new TextDecoder().decode(b)), b.length) };
 * const bar = new ProgressBar({ writer, isTerminal: false, label: "train" });
 * bar.start(100);
 * for (let step = 1; step <= 100; step++) bar.update(step, { loss: 1 / step, lr: 2e-5 });
 * bar.log("eval: acc = 0.91");
 * bar.finish();
 * assert.match(chunks.join(""), /\[train\] step 100\/100 \(100\.0%\)/);
 * ```
 *
 * @module
 */

/** Where the bar writes: `Deno.stderr`, `Deno.stdout`, or anything with a `writeSync`. */
export interface ProgressWriter {
  /** Writes some of `bytes` and returns how many were written. */
  writeSync(bytes: Uint8Array): number;
  /** Whether the writer is a terminal (`Deno.stderr.isTerminal()`). */
  isTerminal?(): boolean;
}

/** Options of {@linkcode ProgressBar}. */
export interface ProgressOptions {
  /** Default `Deno.stderr`. */
  writer?: ProgressWriter;
  /** Overrides `writer.isTerminal()`: true draws a bar in place, false writes log lines. */
  isTerminal?: boolean;
  /** A short name before the bar, e.g. `train` or `eval sst-2`. */
  label?: string;
  /** Terminal columns; default the console width, or 100 when it cannot be read. */
  columns?: number;
  /** Terminal mode: least time between two redraws. Default 100 ms (10 per second). */
  redrawMs?: number;
  /** Log-line mode: least time between two progress lines. Default 30 s. */
  logEveryMs?: number;
  /** The clock in milliseconds (tests pass a fake one). Default `performance.now`. */
  now?: () => number;
}

/**
 * The short status shown after the bar: `loss=0.4321 lr=2.00e-5`. An `undefined` value keeps
 * the field's previous value (a step without a loss read back still shows the last loss).
 */
export type ProgressFields = Record<string, number | string | undefined>;

const ENCODER = new TextEncoder();
const BLOCKS = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"];
const CLEAR_LINE = "\r\x1b[2K";

/** `mm:ss`, or `h:mm:ss` from an hour on; `--:--` when unknown. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "--:--";
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** A number in at most ~9 characters: 4 significant digits, exponent form when tiny or huge. */
export function formatValue(v: number | string): string {
  if (typeof v === "string") return v;
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/** Rate as `12.3 it/s`, or `4.56 s/it` when slower than one step a second. */
function formatRate(perSecond: number): string {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) return "? it/s";
  return perSecond >= 1
    ? `${Number(perSecond.toPrecision(3))} it/s`
    : `${Number((1 / perSecond).toPrecision(3))} s/it`;
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 100;
  }
}

/**
 * A progress bar for a loop of `total` steps.
 *
 * Terminal mode draws
 * `train  45%|█████▍      | 450/1000 [01:23<01:42, 5.42 it/s] loss=0.4321 lr=2.00e-5`
 * on one line, rewritten in place. Log mode writes
 * `[train] step 450/1000 (45.0%) 5.42 it/s elapsed 01:23 eta 01:42 loss=0.4321 lr=2.00e-5`
 * on the first update, then at most every `logEveryMs`, and once more at the end.
 */
export class ProgressBar {
  readonly #writer: ProgressWriter;
  readonly #terminal: boolean;
  readonly #label: string;
  readonly #columns: number;
  readonly #redrawMs: number;
  readonly #logEveryMs: number;
  readonly #now: () => number;
  #total = 0;
  #initial = 0;
  #step = 0;
  #fields: Record<string, number | string> = {};
  #startedAt = 0;
  #lastOutput = -Infinity;
  #drawn = false; // terminal mode: a bar is on the current line
  #running = false;

  /** @param options Writer, mode, label and timings; see {@linkcode ProgressOptions}. */
  constructor(options: ProgressOptions = {}) {
    this.#writer = options.writer ?? Deno.stderr;
    this.#terminal = options.isTerminal ?? this.#writer.isTerminal?.() ?? false;
    this.#label = options.label ?? "";
    this.#columns = options.columns ?? (this.#terminal ? consoleColumns() : 100);
    this.#redrawMs = options.redrawMs ?? 100;
    this.#logEveryMs = options.logEveryMs ?? 30_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Whether the bar is drawn in place (terminal) rather than written as log lines. */
  get isTerminal(): boolean {
    return this.#terminal;
  }

  /**
   * Starts (or restarts) the clock for a loop of `total` steps.
   *
   * @param total Steps in the loop; 0 when unknown (no percentage or ETA is shown).
   * @param initial The step the loop starts from (a resumed run), so that the rate and ETA
   * count only the steps of this process. Default 0.
   * @throws {RangeError} When `total` or `initial` is negative or not an integer.
   */
  start(total: number, initial = 0): void {
    for (const [name, v] of [["total", total], ["initial", initial]] as const) {
      if (!Number.isInteger(v) || v < 0) {
        throw new RangeError(`Cannot start the progress bar: "${name}" is ${v}`);
      }
    }
    this.#total = total;
    this.#initial = this.#step = initial;
    this.#fields = {};
    this.#startedAt = this.#now();
    this.#lastOutput = -Infinity;
    this.#running = true;
    if (this.#terminal) this.#draw();
  }

  /**
   * Records progress: `step` steps done, and the status fields to show (kept until replaced).
   * Output is throttled, so calling this every step is cheap.
   *
   * @param step Steps done so far (not an increment).
   * @param fields Values to show, e.g. `{ loss, lr }`; merged into the previous ones.
   */
  update(step: number, fields: ProgressFields = {}): void {
    if (!this.#running) this.start(0);
    this.#step = step;
    this.#merge(fields);
    const now = this.#now();
    if (this.#terminal) {
      const last = this.#total > 0 && step >= this.#total;
      if (last || now - this.#lastOutput >= this.#redrawMs) this.#draw();
    } else if (this.#step === this.#initial + 1 || now - this.#lastOutput >= this.#logEveryMs) {
      this.#line();
    }
  }

  /**
   * Writes a line above the bar (evaluation results, checkpoint saved), then redraws the bar.
   *
   * @param line One line of text, without a newline.
   */
  log(line: string): void {
    if (this.#terminal && this.#drawn) {
      this.#write(`${CLEAR_LINE}${line}\n`);
      this.#drawn = false;
      if (this.#running) this.#draw();
    } else {
      this.#write(`${line}\n`);
    }
  }

  /**
   * Shows the final state and ends the line; later `update` calls start a new bar.
   *
   * @param fields Last status values, merged as in {@linkcode update}.
   */
  finish(fields: ProgressFields = {}): void {
    if (!this.#running) return;
    this.#merge(fields);
    if (this.#terminal) {
      this.#draw();
      this.#write("\n");
      this.#drawn = false;
    } else {
      this.#line();
    }
    this.#running = false;
  }

  #merge(fields: ProgressFields): void {
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) this.#fields[k] = v;
  }

  #write(text: string): void {
    const bytes = ENCODER.encode(text);
    let done = 0;
    while (done < bytes.length) done += this.#writer.writeSync(bytes.subarray(done));
  }

  #stats(): { elapsed: number; rate: number; eta: number; fraction: number } {
    const elapsed = this.#now() - this.#startedAt;
    const done = this.#step - this.#initial;
    // A bar started just before its first update (the CLI starts it on step 1) has timed
    // almost nothing yet; a rate from that would read thousands of steps a second.
    const rate = elapsed > 0 && (elapsed >= 200 || done >= 10) ? (done * 1000) / elapsed : NaN;
    const left = this.#total - this.#step;
    const eta = this.#total > 0 && rate > 0 ? (Math.max(0, left) * 1000) / rate : NaN;
    const fraction = this.#total > 0 ? Math.min(1, Math.max(0, this.#step / this.#total)) : NaN;
    return { elapsed, rate, eta, fraction };
  }

  #status(): string {
    return Object.entries(this.#fields).map(([k, v]) => `${k}=${formatValue(v)}`).join(" ");
  }

  #draw(): void {
    const { elapsed, rate, eta, fraction } = this.#stats();
    const label = this.#label ? `${this.#label} ` : "";
    const count = this.#total > 0 ? `${this.#step}/${this.#total}` : `${this.#step}`;
    const timing = this.#total > 0
      ? `[${formatDuration(elapsed)}<${formatDuration(eta)}, ${formatRate(rate)}]`
      : `[${formatDuration(elapsed)}, ${formatRate(rate)}]`;
    const status = this.#status();
    let text: string;
    if (this.#total > 0) {
      const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
      const fixed = `${label}${pct}|| ${count} ${timing}`.length;
      const room = this.#columns - 1 - fixed - (status ? status.length + 1 : 0);
      const width = Math.max(10, Math.min(40, room));
      text = `${label}${pct}|${bar(fraction, width)}| ${count} ${timing}`;
    } else {
      text = `${label}${count} ${timing}`;
    }
    if (status) text += ` ${status}`;
    // Never wrap: a wrapped line cannot be rewritten in place with "\r".
    if (text.length > this.#columns - 1) text = text.slice(0, Math.max(0, this.#columns - 2)) + "…";
    this.#write(`${CLEAR_LINE}${text}`);
    this.#drawn = true;
    this.#lastOutput = this.#now();
  }

  #line(): void {
    const { elapsed, rate, eta, fraction } = this.#stats();
    const parts = [this.#label ? `[${this.#label}]` : "", `step ${this.#step}`];
    if (this.#total > 0) {
      parts[1] += `/${this.#total} (${(fraction * 100).toFixed(1)}%)`;
    }
    parts.push(formatRate(rate), `elapsed ${formatDuration(elapsed)}`);
    if (this.#total > 0) parts.push(`eta ${formatDuration(eta)}`);
    const status = this.#status();
    if (status) parts.push(status);
    this.#write(parts.filter(Boolean).join(" ") + "\n");
    this.#lastOutput = this.#now();
  }
}

/** `width` cells filled to `fraction`, with eighth-cell resolution. */
function bar(fraction: number, width: number): string {
  const eighths = Math.round(fraction * width * 8);
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  const body = "█".repeat(full) + (full < width && part > 0 ? BLOCKS[part] : "");
  return body.padEnd(width, " ");
}
