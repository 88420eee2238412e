/**
 * Text and HTML renderings of tensor values, laid out as `torch` prints them: nested brackets,
 * one common width and precision for every element (4 decimals, scientific notation when the
 * magnitudes span more than three decades, exceed 1e8 or fall below 1e-4), integers for `i32`,
 * and `...` in place of all but the first and last 3 entries of every dimension once a tensor
 * has more than 1000 elements.
 *
 * These functions only lay values out; `Tensor.format()` and `Tensor.print()` read a tensor
 * back from the GPU and call them.
 *
 * @module
 */

import type { DType } from "./tensor.ts";

/** Layout options; the defaults are torch's print options. */
export interface FormatOptions {
  /** Digits after the decimal point. Default 4. */
  precision?: number;
  /** Tensors with more elements than this are summarised with `...`. Default 1000. */
  threshold?: number;
  /** Entries kept at each end of a summarised dimension. Default 3. */
  edgeItems?: number;
  /** Characters a line may hold before a vector wraps. Default 80. */
  lineWidth?: number;
  /**
   * Columns already taken on the first line (e.g. by a `tensor(` prefix); wrapped and nested
   * lines are indented by as much. Default 0.
   */
  indent?: number;
}

const DEFAULTS: Required<FormatOptions> = {
  precision: 4,
  threshold: 1000,
  edgeItems: 3,
  lineWidth: 80,
  indent: 0,
};

/**
 * Renders `values` (row-major, `shape`'s size of them) as torch renders a tensor's data, e.g.
 * `[[ 0.1000, -2.0000],\n [ 3.5000,  4.0000]]`.
 *
 * @throws {TypeError} when the number of values does not match the shape.
 * @example
 * ```ts
 * import { formatValues } from "./format.ts";
 * formatValues([1, 2.5, -3], [3], "f32"); // "[ 1.0000,  2.5000, -3.0000]"
 * formatValues([1, 2, 3, 4], [2, 2], "i32"); // "[[1, 2],\n [3, 4]]"
 * ```
 */
export function formatValues(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  options: FormatOptions = {},
): string {
  const layout = new Layout(values, shape, dtype, options);
  if (layout.size === 0) return "[]";
  return layout.text(0, 0, layout.opts.indent);
}

/**
 * An HTML table of a 1-D or 2-D tensor's values, formatted and summarised as by
 * {@linkcode formatValues}; `null` for other ranks, which display as text.
 */
export function formatHtmlTable(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  options: FormatOptions = {},
): string | null {
  if (shape.length !== 1 && shape.length !== 2) return null;
  const layout = new Layout(values, shape, dtype, options);
  const [rows, cols] = shape.length === 1 ? [1, shape[0]] : [shape[0], shape[1]];
  const rowIdx = shape.length === 1 ? [0] : layout.shown(rows);
  const colIdx = layout.shown(cols);
  const cell = (s: string) => `<td style="text-align:right;font-family:monospace">${s}</td>`;
  const body = rowIdx.map((r) => {
    const tds = colIdx.map((c) =>
      r === null ? cell(c === null ? "⋱" : "⋮") : c === null ? cell("…") : cell(
        layout.formatter.format(values[r * cols + c]).trim(),
      )
    );
    return `<tr>${tds.join("")}</tr>`;
  });
  return `<table>${body.join("")}</table>`;
}

/** Which values are shown, and the text of the nested brackets that show them. */
class Layout {
  readonly opts: Required<FormatOptions>;
  readonly size: number;
  readonly summarize: boolean;
  readonly formatter: Formatter;
  readonly #strides: number[];

  constructor(
    readonly values: ArrayLike<number>,
    readonly shape: readonly number[],
    dtype: DType,
    options: FormatOptions,
  ) {
    this.opts = { ...DEFAULTS, ...options };
    this.size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== this.size) {
      throw new TypeError(
        `Cannot format values: got ${values.length}, shape [${
          shape.join(", ")
        }] needs ${this.size}`,
      );
    }
    this.summarize = this.size > this.opts.threshold;
    this.#strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const visible: number[] = [];
    if (this.size > 0) this.#collect(0, 0, visible);
    this.formatter = new Formatter(visible, dtype !== "i32", this.opts.precision);
  }

  /** Indices shown along a dimension of length `n`, with `null` where `...` goes. */
  shown(n: number): (number | null)[] {
    const e = this.opts.edgeItems;
    const all = Array.from({ length: n }, (_, i) => i);
    if (!this.summarize || n <= 2 * e) return all;
    return [...all.slice(0, e), null, ...all.slice(n - e)];
  }

  /** The values that will be displayed (torch sizes its columns on these alone). */
  #collect(offset: number, dim: number, out: number[]): void {
    if (dim === this.shape.length) {
      out.push(this.values[offset]);
      return;
    }
    for (const i of this.shown(this.shape[dim])) {
      if (i !== null) this.#collect(offset + i * this.#strides[dim], dim + 1, out);
    }
  }

  /** The bracketed block of dimension `dim` starting at `offset`, its first line at `indent`. */
  text(offset: number, dim: number, indent: number): string {
    const rank = this.shape.length;
    if (rank === 0) return this.formatter.format(this.values[0]);
    const idx = this.shown(this.shape[dim]);
    if (dim === rank - 1) {
      const items = idx.map((i) =>
        i === null ? " ..." : this.formatter.format(this.values[offset + i])
      );
      const perLine = Math.max(
        1,
        Math.floor((this.opts.lineWidth - indent) / (this.formatter.width + 2)),
      );
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) {
        lines.push(items.slice(i, i + perLine).join(", "));
      }
      return "[" + lines.join(",\n" + " ".repeat(indent + 1)) + "]";
    }
    const blocks = idx.map((i) =>
      i === null ? "..." : this.text(offset + i * this.#strides[dim], dim + 1, indent + 1)
    );
    const sep = "," + "\n".repeat(rank - dim - 1) + " ".repeat(indent + 1);
    return "[" + blocks.join(sep) + "]";
  }
}

/** One width and style for all displayed values, chosen as torch's `_Formatter` chooses them. */
class Formatter {
  width = 1;
  #intMode = true;
  #sci = false;

  constructor(visible: readonly number[], readonly floating: boolean, readonly precision: number) {
    if (!floating) {
      for (const v of visible) this.width = Math.max(this.width, String(v).length);
      return;
    }
    const nonzero = visible.filter((v) => Number.isFinite(v) && v !== 0);
    if (nonzero.length === 0) return;
    const abs = nonzero.map(Math.abs);
    const min = Math.min(...abs), max = Math.max(...abs);
    this.#intMode = nonzero.every((v) => v === Math.ceil(v));
    this.#sci = max / min > 1000 || max > 1e8 || (!this.#intMode && min < 1e-4);
    for (const v of nonzero) {
      const s = this.#sci
        ? toExponential(v, precision)
        : this.#intMode
        ? toFixed(v, 0) + "."
        : toFixed(v, precision);
      this.width = Math.max(this.width, s.length);
    }
  }

  /** `v` in the common style, left-padded to the common width. */
  format(v: number): string {
    let s: string;
    if (!this.floating) s = String(v);
    else if (!Number.isFinite(v)) s = Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
    else if (this.#sci) s = toExponential(v, this.precision);
    else if (this.#intMode) s = toFixed(v, 0) + ".";
    else s = toFixed(v, this.precision);
    return s.padStart(this.width);
  }
}

const TEN = 10n;

/** |x| as `m · 2^e` with an integer `m`; `x` finite. */
function decompose(x: number): [bigint, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  return biased === 0 ? [fraction, -1074] : [fraction | (1n << 52n), biased - 1075];
}

/** round(|x| · 10^digits), ties to even, computed exactly (as Python's `format` rounds). */
function roundScaled(x: number, digits: number): bigint {
  const [m, e] = decompose(x);
  let num = m, den = 1n;
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  if (digits >= 0) num *= TEN ** BigInt(digits);
  else den *= TEN ** BigInt(-digits);
  const q = num / den, twice = 2n * (num % den);
  return twice > den || (twice === den && (q & 1n) === 1n) ? q + 1n : q;
}

function sign(x: number): string {
  return x < 0 || Object.is(x, -0) ? "-" : "";
}

/** Python's `f"{x:.{digits}f}"` for finite `x`. */
function toFixed(x: number, digits: number): string {
  const s = roundScaled(x, digits).toString().padStart(digits + 1, "0");
  return sign(x) + (digits > 0 ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s);
}

/** Python's `f"{x:.{digits}e}"` for finite `x`, e.g. `1.2346e-05`. */
function toExponential(x: number, digits: number): string {
  let exp = 0, n = 0n;
  if (x !== 0) {
    const low = TEN ** BigInt(digits), high = low * TEN;
    exp = Math.floor(Math.log10(Math.abs(x)));
    for (;;) {
      n = roundScaled(x, digits - exp);
      if (n >= high) exp++;
      else if (n < low) exp--;
      else break;
    }
  }
  const d = n.toString().padStart(digits + 1, "0");
  const mantissa = digits > 0 ? `${d[0]}.${d.slice(1)}` : d;
  return `${sign(x)}${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

/**
 * A Jupyter display bundle: `text/plain` is `header` over {@linkcode formatValues}; 1-D and 2-D
 * tensors also get `text/html`, the header over {@linkcode formatHtmlTable}.
 */
export function displayBundle(
  header: string,
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
): Record<string, string> {
  const bundle: Record<string, string> = {
    "text/plain": `${header}\n${formatValues(values, shape, dtype)}`,
  };
  const table = formatHtmlTable(values, shape, dtype);
  if (table !== null) {
    bundle["text/html"] = `<div><pre style="margin:0">${escapeHtml(header)}</pre>${table}</div>`;
  }
  return bundle;
}

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
