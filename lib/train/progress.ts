/**
 * A progress bar with rate and ETA for terminals, redrawn in place at most 10 times a second;
 * when the output is not a terminal, a plain line every `plainEvery` seconds instead. Lines
 * logged while the bar is shown appear above it. The CLI owns it; the library never prints.
 *
 * @module
 */

/** Where the bar writes: stderr by default. */
export interface ProgressWriter {
  writeSync(bytes: Uint8Array): number;
  isTerminal(): boolean;
}

const encoder = new TextEncoder();

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(r)}` : `${pad(m)}:${pad(r)}`;
}

/** Steps done out of a total, with loss and learning rate. */
export class ProgressBar {
  readonly #out: ProgressWriter;
  readonly #tty: boolean;
  readonly #plainEvery: number;
  readonly #now: () => number;
  #total = 0;
  #step = 0;
  #start = 0;
  #lastDraw = -Infinity;
  #shown = false;
  #fields: Record<string, number | undefined> = {};

  constructor(
    options: { writer?: ProgressWriter; plainEvery?: number; now?: () => number } = {},
  ) {
    this.#out = options.writer ?? Deno.stderr;
    this.#tty = this.#out.isTerminal();
    this.#plainEvery = options.plainEvery ?? 30;
    this.#now = options.now ?? (() => performance.now() / 1000);
  }

  #write(text: string): void {
    this.#out.writeSync(encoder.encode(text));
  }

  /** Starts counting toward `total` steps. */
  start(total: number): void {
    this.#total = total;
    this.#step = 0;
    this.#start = this.#now();
    this.#lastDraw = -Infinity;
  }

  /** The current line: `step/total [bar] pct rate ETA fields`. */
  line(width = 24): string {
    const frac = this.#total > 0 ? Math.min(1, this.#step / this.#total) : 0;
    const elapsed = this.#now() - this.#start;
    const rate = this.#step / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.#total - this.#step) / rate : Infinity;
    const filled = Math.round(frac * width);
    const fields = Object.entries(this.#fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${Math.abs(v!) < 1e-2 ? v!.toExponential(2) : v!.toFixed(4)}`);
    return [
      `${this.#step}/${this.#total}`,
      `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`,
      `${(frac * 100).toFixed(0)}%`,
      `${rate.toFixed(2)} it/s`,
      `ETA ${duration(eta)}`,
      `elapsed ${duration(elapsed)}`,
      ...fields,
    ].join("  ");
  }

  /** Records progress; redraws when due. Fields left undefined keep their last value. */
  update(step: number, fields: Record<string, number | undefined> = {}): void {
    this.#step = step;
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) this.#fields[k] = v;
    const t = this.#now();
    const every = this.#tty ? 0.1 : this.#plainEvery;
    if (t - this.#lastDraw < every && step < this.#total) return;
    this.#lastDraw = t;
    if (this.#tty) {
      this.#write(`\r\x1b[2K${this.line()}`);
      this.#shown = true;
    } else {
      this.#write(this.line() + "\n");
    }
  }

  /** Prints `text` on its own line(s), above the bar. */
  log(text: string): void {
    if (this.#tty && this.#shown) {
      this.#write(`\r\x1b[2K${text}\n${this.line()}`);
    } else {
      this.#write(text + "\n");
    }
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.#tty && this.#shown) this.#write("\n");
    this.#shown = false;
  }
}
