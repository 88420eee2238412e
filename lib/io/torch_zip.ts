/**
 * Read the zip container that `torch.save` writes (PyTorch ≥ 1.6): `<root>/data.pkl` holds the
 * pickled state dict and `<root>/data/<key>` each storage's raw bytes. The zip central
 * directory is parsed here (APPNOTE.TXT sections 4.3.7, 4.3.12, 4.3.14-16, zip64 4.5.3);
 * entries are STORED, or DEFLATE when `DecompressionStream("deflate-raw")` exists. Every size
 * and offset is checked against the file before anything is read, and CRC-32s are verified.
 *
 * @module
 */

import { readExactAt } from "./_file.ts";
import { CheckpointError } from "./errors.ts";
import { DTYPE_SIZES, type HostTensor, type StateDict } from "./host_tensor.ts";
import { materializeTensor, type TensorRef, unpickleTorch } from "./torch_pickle.ts";

/** One file in a zip archive, as the central directory describes it. */
export interface ZipEntry {
  /** Path inside the archive. */
  name: string;
  /** 0 = STORED, 8 = DEFLATE. */
  method: number;
  /** CRC-32 of the uncompressed bytes. */
  crc32: number;
  /** Bytes stored in the archive. */
  compressedSize: number;
  /** Bytes after decompression. */
  size: number;
  /** Offset of the entry's local header. */
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** DEFLATE cannot expand data more than about 1032 times. */
const MAX_DEFLATE_RATIO = 1032;

/** Slicing-by-8 tables: row 0 is the classic byte table, row k advances k more bytes. */
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
    }
  }
  return t;
})();

/**
 * CRC-32 (IEEE 802.3, as zip uses it).
 *
 * @param bytes Data to checksum.
 * @returns The checksum as an unsigned 32-bit integer.
 *
 * @example Check value of "123456789"
 * ```ts
 * import { crc32 } from "./torch_zip.ts";
 * import { equal } from "node:assert/strict";
 * equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  for (const end8 = bytes.length - 7; i < end8; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c = t[1792 + (lo & 0xff)] ^ t[1536 + ((lo >>> 8) & 0xff)] ^ t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^ t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive open for reading. Close it when done. */
export class ZipReader {
  /** Entries by name, in central-directory order. */
  readonly entries: Map<string, ZipEntry>;
  readonly #file: Deno.FsFile;
  readonly #path: string;
  readonly #size: number;

  private constructor(
    file: Deno.FsFile,
    info: { path: string; size: number; entries: Map<string, ZipEntry> },
  ) {
    this.#file = file;
    this.#path = info.path;
    this.#size = info.size;
    this.entries = info.entries;
  }

  /**
   * Open `path` and read its central directory.
   *
   * @param path A zip file.
   * @returns The open reader.
   * @throws {CheckpointError} When the file is not a zip or its directory is inconsistent.
   */
  static async open(path: string): Promise<ZipReader> {
    const file = await Deno.open(path, { read: true });
    try {
      const { size } = await file.stat();
      const entries = await readCentralDirectory(file, { path, size });
      return new ZipReader(file, { path, size, entries });
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /**
   * Read one entry's uncompressed bytes, checking its local header, size and CRC-32.
   *
   * @param name Path inside the archive.
   * @returns The entry's bytes.
   * @throws {CheckpointError} When the entry is missing, damaged or uses another method.
   */
  async read(name: string): Promise<Uint8Array> {
    const path = this.#path;
    const fail = (state: string): never => {
      throw new CheckpointError(`Cannot read "${name}" from zip "${path}": ${state}`, {
        file: path,
      });
    };
    const e = this.entries.get(name) ?? fail("no such entry");
    if (e.localHeaderOffset + 30 > this.#size) fail("local header lies past the end of the file");
    const local = await readExactAt(this.#file, { offset: e.localHeaderOffset, length: 30 }, path);
    const lv = new DataView(local.buffer);
    if (lv.getUint32(0, true) !== LOCAL_SIG) fail("local header signature is wrong");
    const start = e.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (start + e.compressedSize > this.#size) {
      fail(`data [${start}, +${e.compressedSize}) lies past the end of the file (${this.#size})`);
    }
    const raw = await readExactAt(this.#file, { offset: start, length: e.compressedSize }, path);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) fail("stored entry has different packed and real sizes");
      data = raw;
    } else if (e.method === 8) {
      data = await inflateRaw(raw, e.size, fail);
    } else {
      return fail(`compression method ${e.method} is not supported (only STORED and DEFLATE)`);
    }
    if (crc32(data) !== e.crc32) fail("CRC-32 does not match (file corrupt)");
    return data;
  }

  /** Close the file. */
  close(): void {
    this.#file.close();
  }
}

async function inflateRaw(
  raw: Uint8Array<ArrayBuffer>,
  size: number,
  fail: (state: string) => never,
): Promise<Uint8Array> {
  if (typeof DecompressionStream === "undefined") {
    fail("entry is DEFLATE-compressed and this runtime has no DecompressionStream");
  }
  const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  const out = new Uint8Array(size);
  let n = 0;
  try {
    for await (const chunk of stream) {
      if (n + chunk.length > size) fail(`inflates past its declared ${size} bytes`);
      out.set(chunk, n);
      n += chunk.length;
    }
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    fail(`DEFLATE data is corrupt (${(e as Error).message})`);
  }
  if (n !== size) fail(`inflates to ${n} bytes, declared ${size}`);
  return out;
}

async function readCentralDirectory(
  file: Deno.FsFile,
  { path, size }: { path: string; size: number },
): Promise<Map<string, ZipEntry>> {
  const fail = (state: string): never => {
    throw new CheckpointError(`Cannot read "${path}" as a zip archive: ${state}`, { file: path });
  };
  // The end-of-central-directory record is 22 bytes plus a comment of up to 65535.
  const tailLen = Math.min(size, 22 + 0xffff);
  const tailStart = size - tailLen;
  const tail = await readExactAt(file, { offset: tailStart, length: tailLen }, path);
  const tv = new DataView(tail.buffer);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG && i + 22 + tv.getUint16(i + 20, true) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) fail("no end-of-central-directory record (not a zip file, or truncated)");
  let count = tv.getUint16(at + 10, true);
  let cdSize = tv.getUint32(at + 12, true);
  let cdOffset = tv.getUint32(at + 16, true);
  let cdEnd = tailStart + at; // the directory must end before the EOCD record
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = at - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== ZIP64_LOCATOR_SIG) fail("zip64 locator is missing");
    const z64 = Number(tv.getBigUint64(loc + 8, true));
    if (!(z64 + 56 <= tailStart + loc)) fail("zip64 end record lies outside the file");
    const rec = await readExactAt(file, { offset: z64, length: 56 }, path);
    const rv = new DataView(rec.buffer);
    if (rv.getUint32(0, true) !== ZIP64_EOCD_SIG) fail("zip64 end record signature is wrong");
    count = Number(rv.getBigUint64(32, true));
    cdSize = Number(rv.getBigUint64(40, true));
    cdOffset = Number(rv.getBigUint64(48, true));
    cdEnd = z64;
  }
  if (!(cdOffset + cdSize <= cdEnd)) fail("central directory lies outside the file");
  if (count * 46 > cdSize) {
    fail(`central directory of ${cdSize} bytes cannot hold ${count} entries`);
  }
  const cd = await readExactAt(file, { offset: cdOffset, length: cdSize }, path);
  const cv = new DataView(cd.buffer);
  const decoder = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cv.getUint32(p, true) !== CENTRAL_SIG) {
      fail(`central directory entry ${i} is damaged`);
    }
    const flags = cv.getUint16(p + 8, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cd.length) fail(`central directory entry ${i} runs past the directory`);
    const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) fail(`entry "${name}" is encrypted`);
    const e: ZipEntry = {
      name,
      method: cv.getUint16(p + 10, true),
      crc32: cv.getUint32(p + 16, true),
      compressedSize: cv.getUint32(p + 20, true),
      size: cv.getUint32(p + 24, true),
      localHeaderOffset: cv.getUint32(p + 42, true),
    };
    if (!readZip64Extra(e, new DataView(cd.buffer, p + 46 + nameLen, extraLen))) {
      fail(`entry "${name}" lacks the zip64 sizes its header promises`);
    }
    if (e.localHeaderOffset >= cdOffset) fail(`entry "${name}" starts inside the directory`);
    if (e.method === 8 && e.size > e.compressedSize * MAX_DEFLATE_RATIO + 64) {
      fail(`entry "${name}" claims an impossible DEFLATE ratio`);
    }
    if (entries.has(name)) fail(`entry "${name}" appears twice`);
    entries.set(name, e);
    p = next;
  }
  return entries;
}

/**
 * Replace 0xFFFFFFFF fields with their 64-bit values from the zip64 extra field (0x0001).
 * Returns false when a promised value is absent.
 */
function readZip64Extra(e: ZipEntry, extra: DataView): boolean {
  for (let q = 0; q + 4 <= extra.byteLength;) {
    const id = extra.getUint16(q, true);
    const len = extra.getUint16(q + 2, true);
    if (id === 0x0001) {
      let r = q + 4;
      const next = (): number => {
        if (r + 8 > q + 4 + len || r + 8 > extra.byteLength) return NaN;
        r += 8;
        return Number(extra.getBigUint64(r - 8, true));
      };
      if (e.size === 0xffffffff) e.size = next();
      if (e.compressedSize === 0xffffffff) e.compressedSize = next();
      if (e.localHeaderOffset === 0xffffffff) e.localHeaderOffset = next();
    }
    q += 4 + len;
  }
  return ![e.size, e.compressedSize, e.localHeaderOffset].some(Number.isNaN);
}

/**
 * Find the archive's root folder: `torch.save` names it after the file stem (often
 * `archive/`), so it is taken from the one entry that ends in `data.pkl`.
 */
function findRoot(zip: ZipReader, path: string): string {
  const roots = [...zip.entries.keys()]
    .filter((n) => n === "data.pkl" || (n.endsWith("/data.pkl") && n.indexOf("/") === n.length - 9))
    .map((n) => n.slice(0, -"data.pkl".length));
  if (roots.length !== 1) {
    throw new CheckpointError(
      `Cannot read "${path}" as a torch checkpoint: found ${roots.length} "data.pkl" entries, ` +
        `expected one (is it a torch.save file?)`,
      { file: path },
    );
  }
  return roots[0];
}

/**
 * Read a zip-format `torch.save` state dict (`pytorch_model.bin`) into host tensors.
 *
 * @param path The checkpoint file.
 * @returns The state dict in pickle order; every tensor contiguous and owning its bytes.
 * @throws {CheckpointError} When the zip, the pickle or a storage is damaged or unsafe.
 *
 * @example Read a checkpoint (needs a file)
 * ```ts ignore
 * import { readTorchZip } from "./torch_zip.ts";
 * const sd = await readTorchZip("pytorch_model.bin");
 * console.log([...sd.keys()]);
 * ```
 */
export async function readTorchZip(path: string): Promise<StateDict> {
  const zip = await ZipReader.open(path);
  try {
    const root = findRoot(zip, path);
    if (zip.entries.has(`${root}byteorder`)) {
      const order = new TextDecoder().decode(await zip.read(`${root}byteorder`)).trim();
      if (order !== "little") {
        throw new CheckpointError(
          `Cannot read "${path}": byte order is "${order}", only "little" is supported`,
          { file: path },
        );
      }
    }
    const pickle = await zip.read(`${root}data.pkl`);
    const { tensors, storages } = unpickleTorch(pickle, { path });
    // Read each storage once, build the tensors that use it, then let it go.
    const byStorage = new Map<string, [string, TensorRef][]>();
    for (const [name, ref] of tensors) {
      const list = byStorage.get(ref.storage.key) ?? [];
      list.push([name, ref]);
      byStorage.set(ref.storage.key, list);
    }
    const built = new Map<string, HostTensor>();
    for (const [key, list] of byStorage) {
      const storage = storages.get(key)!;
      const entry = `${root}data/${key}`;
      const declared = zip.entries.get(entry)?.size;
      const need = storage.numel * DTYPE_SIZES[storage.dtype];
      if (declared !== undefined && declared !== need) {
        throw new CheckpointError(
          `Cannot read "${path}": storage "${key}" holds ${declared} bytes, ` +
            `the pickle needs ${need} (${storage.dtype} x ${storage.numel})`,
          { file: path },
        );
      }
      const bytes = await zip.read(entry);
      for (const [name, ref] of list) {
        built.set(name, materializeTensor(ref, bytes, { path, name }));
      }
    }
    return new Map([...tensors.keys()].map((k) => [k, built.get(k)!]));
  } finally {
    zip.close();
  }
}
