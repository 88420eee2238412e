/**
 * A small zip writer for tests: STORED or DEFLATE entries (`CompressionStream("deflate-raw")`),
 * a central directory and its end record, so that tests can serve archives built from files
 * and damage them on purpose.
 *
 * @module
 */

import { crc32 } from "../../lib/io/torch_zip.ts";

/** Builds a zip archive of `files` (path inside the archive, bytes), in order. */
export async function makeZip(
  files: [string, Uint8Array][],
  method: "stored" | "deflate" = "stored",
): Promise<Uint8Array> {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const header = (size: number, fill: (v: DataView) => void) => {
    const b = new Uint8Array(size);
    fill(new DataView(b.buffer));
    return b;
  };
  for (const [name, data] of files) {
    const n = enc.encode(name);
    const crc = crc32(data);
    const packed = method === "stored" ? data : await deflate(data);
    const code = method === "stored" ? 0 : 8;
    const fields = (v: DataView, at: number) => {
      v.setUint16(at, code, true);
      v.setUint32(at + 6, crc, true);
      v.setUint32(at + 10, packed.length, true);
      v.setUint32(at + 14, data.length, true);
      v.setUint16(at + 18, n.length, true);
    };
    const local = header(30, (v) => {
      v.setUint32(0, 0x04034b50, true);
      fields(v, 8);
    });
    central.push(
      header(46, (v) => {
        v.setUint32(0, 0x02014b50, true);
        fields(v, 10);
        v.setUint32(42, offset, true);
      }),
      n,
    );
    chunks.push(local, n, packed);
    offset += 30 + n.length + packed.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const eocd = header(22, (v) => {
    v.setUint32(0, 0x06054b50, true);
    v.setUint16(8, files.length, true);
    v.setUint16(10, files.length, true);
    v.setUint32(12, cdSize, true);
    v.setUint32(16, offset, true);
  });
  return concat([...chunks, ...central, eocd]);
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, c) => s + c.length, 0));
  let p = 0;
  for (const c of parts) out.set(c, (p += c.length) - c.length);
  return out;
}
