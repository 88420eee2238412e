/**
 * TensorBoard event files, written as PyTorch's `torch.utils.tensorboard.SummaryWriter` writes
 * them and as transformers 2.11's Trainer fills them: a file
 * `events.out.tfevents.<seconds>.<host>.<pid>.<n>` in the log folder, holding TFRecords (a
 * little-endian uint64 length, the masked CRC-32C of those 8 bytes, the data, the masked
 * CRC-32C of the data) of `tensorflow.Event` protobufs. The first event carries
 * `file_version` "brain.Event:2"; later ones a `Summary` of scalar (`simple_value`) or text
 * (a string tensor tagged for TensorBoard's `text` plugin) values.
 *
 * Every event leaves the process in one write as soon as it is added, so TensorBoard follows a
 * live run and a killed run leaves every event it added (at worst a torn last record, which
 * TensorBoard's reader stops at).
 *
 * The protobuf encoding is written out here: it is a handful of fields.
 *
 * @module
 */

import { defaultLoggingDir } from "../cli/flags.ts";

// ---- CRC-32C ---------------------------------------------------------------------------

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord uses.
 *
 * @example Check value of "123456789"
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32c } from "./tensorboard.ts";
 * assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
 * ```
 */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c = CRC32C_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC-32C: rotated right by 15 bits, plus 0xa282ead8 (mod 2^32). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord around `data`. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

// ---- protobuf ----------------------------------------------------------------------------

const ENCODER = new TextEncoder();

/** Appends protobuf fields to a growing byte list (proto3 wire format, fields in call order). */
class Proto {
  readonly #bytes: number[] = [];

  #varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`Cannot encode ${n} as a protobuf varint: expected a safe integer >= 0`);
    }
    while (n >= 0x80) {
      this.#bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.#bytes.push(n);
  }

  #key(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  /** A varint field (int32, int64, enum); zero, the default, is left out. */
  varint(field: number, n: number): this {
    if (n !== 0) {
      this.#key(field, 0);
      this.#varint(n);
    }
    return this;
  }

  /** A double (fixed64) field. */
  double(field: number, v: number): this {
    return this.#fixed(field, 1, 8, (view) => view.setFloat64(0, v, true));
  }

  /** A float (fixed32) field. */
  float(field: number, v: number): this {
    return this.#fixed(field, 5, 4, (view) => view.setFloat32(0, v, true));
  }

  #fixed(field: number, wire: number, size: number, fill: (view: DataView) => void): this {
    const b = new Uint8Array(size);
    fill(new DataView(b.buffer));
    this.#key(field, wire);
    this.#bytes.push(...b);
    return this;
  }

  /** A length-delimited field: bytes, a string (UTF-8) or an embedded message. */
  bytes(field: number, value: Uint8Array | string | Proto): this {
    const b = typeof value === "string"
      ? ENCODER.encode(value)
      : value instanceof Proto
      ? value.finish()
      : value;
    this.#key(field, 2);
    this.#varint(b.length);
    for (const x of b) this.#bytes.push(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
}

// Field numbers of tensorflow/core/framework/summary.proto, tensor.proto, tensor_shape.proto
// and tensorflow/core/util/event.proto.
const EVENT = { wallTime: 1, step: 2, fileVersion: 3, summary: 5, sessionLog: 7 } as const;
const VALUE = { tag: 1, simpleValue: 2, tensor: 8, metadata: 9 } as const;
const SESSION_LOG_START = 1;
const DT_STRING = 7;

/** One value of a `Summary`. */
export type SummaryValue =
  | { tag: string; scalar: number }
  | { tag: string; text: string };

function encodeValue(v: SummaryValue): Proto {
  const value = new Proto().bytes(VALUE.tag, v.tag);
  if ("scalar" in v) return value.float(VALUE.simpleValue, v.scalar);
  // As PyTorch's add_text: a rank-1 string tensor of one element, for the `text` plugin.
  const shape = new Proto().bytes(2, new Proto().varint(1, 1));
  const tensor = new Proto().varint(1, DT_STRING).bytes(2, shape).bytes(8, v.text);
  const metadata = new Proto().bytes(1, new Proto().bytes(1, "text"));
  return value.bytes(VALUE.tensor, tensor).bytes(VALUE.metadata, metadata);
}

/** What an `Event` carries besides its time and step. */
export type EventBody =
  | { fileVersion: string }
  | { summary: readonly SummaryValue[] }
  | { sessionStart: true };

/**
 * Encodes one `tensorflow.Event`.
 *
 * @param wallTime seconds since the epoch
 * @param step the global step, an integer >= 0
 */
export function encodeEvent(wallTime: number, step: number, body: EventBody): Uint8Array {
  const event = new Proto().double(EVENT.wallTime, wallTime).varint(EVENT.step, step);
  if ("fileVersion" in body) {
    event.bytes(EVENT.fileVersion, body.fileVersion);
  } else if ("summary" in body) {
    const summary = new Proto();
    for (const v of body.summary) summary.bytes(1, encodeValue(v));
    event.bytes(EVENT.summary, summary);
  } else {
    event.bytes(EVENT.sessionLog, new Proto().varint(1, SESSION_LOG_START));
  }
  return event.finish();
}

// ---- the writer ----------------------------------------------------------------------------

/** Options of {@linkcode SummaryWriter}. */
export interface SummaryWriterOptions {
  /** Appended to the event file's name, as PyTorch's `filename_suffix`. */
  filenameSuffix?: string;
  /**
   * A resumed run's first new step: TensorBoard then drops the events of earlier files in the
   * folder from this step on (PyTorch's `purge_step`), so a restarted run does not draw twice.
   */
  purgeStep?: number;
}

let fileCounter = 0;

/** The host name, or "localhost" without the permission to read it. */
function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/**
 * Writes TensorBoard event files, as PyTorch's `SummaryWriter` (which transformers 2.11 uses)
 * does: `tensorboard --logdir <folder>` shows them, live or after the run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SummaryWriter } from "./tensorboard.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = new SummaryWriter(`${dir}/runs/exp1`);
 * writer.addScalar("loss", 0.69, 1);
 * writer.addText("args", '{"seed": 42}', 0);
 * writer.close();
 * assert.match(writer.path, /events\.out\.tfevents\.\d{10}\./);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SummaryWriter {
  /** The log folder. */
  readonly logDir: string;
  /** The event file. */
  readonly path: string;
  readonly #file: Deno.FsFile;
  #closed = false;

  /**
   * Creates `logDir` if needed and starts a new event file in it.
   *
   * @param logDir the folder; default `runs/<MonDD_HH-MM-SS>_<host>`, as PyTorch and HF
   * @throws {Deno.errors.PermissionDenied} and other file-system errors, as `Deno.openSync`
   */
  constructor(logDir?: string, options: SummaryWriterOptions = {}) {
    this.logDir = logDir ?? defaultLoggingDir(hostname());
    Deno.mkdirSync(this.logDir, { recursive: true });
    const now = Date.now() / 1000;
    fileCounter++;
    const name = `events.out.tfevents.${String(Math.floor(now)).padStart(10, "0")}.` +
      `${hostname()}.${Deno.pid}.${fileCounter}${options.filenameSuffix ?? ""}`;
    this.path = `${this.logDir}/${name}`;
    this.#file = Deno.openSync(this.path, { write: true, createNew: true });
    this.#write(encodeEvent(now, options.purgeStep ?? 0, { fileVersion: "brain.Event:2" }));
    if (options.purgeStep !== undefined) {
      this.#write(encodeEvent(now, options.purgeStep, { sessionStart: true }));
    }
  }

  #write(event: Uint8Array): void {
    if (this.#closed) throw new Error(`Cannot write to "${this.path}": the writer is closed`);
    const record = tfRecord(event);
    for (let done = 0; done < record.length;) done += this.#file.writeSync(record.subarray(done));
  }

  /** Adds one scalar (`simple_value`, a float32) at `step`. */
  addScalar(tag: string, value: number, step = 0, wallTime: number = Date.now() / 1000): void {
    this.#write(encodeEvent(wallTime, step, { summary: [{ tag, scalar: value }] }));
  }

  /** Adds several scalars at one step, in one event (written together or not at all). */
  addScalarGroup(
    values: Readonly<Record<string, number>>,
    step = 0,
    wallTime: number = Date.now() / 1000,
  ): void {
    const summary = Object.entries(values).map(([tag, scalar]) => ({ tag, scalar }));
    if (summary.length > 0) this.#write(encodeEvent(wallTime, step, { summary }));
  }

  /** Adds text for TensorBoard's Text tab, under `<tag>/text_summary` as PyTorch names it. */
  addText(tag: string, text: string, step = 0, wallTime: number = Date.now() / 1000): void {
    this.#write(encodeEvent(wallTime, step, { summary: [{ tag: `${tag}/text_summary`, text }] }));
  }

  /** Syncs the event file to disk (each event already left the process when it was added). */
  flush(): void {
    if (!this.#closed) this.#file.syncDataSync();
  }

  /** Closes the event file; later adds throw. Closing twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}
