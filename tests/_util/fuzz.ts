/**
 * Seeded fuzzing of readers of outside data: mutate a valid input thousands of times
 * (truncation, bit flips, extreme bytes, overwritten length fields, and, for JSON, wrong
 * types, huge numbers and dropped keys), feed each case to the reader, and accept only a
 * correct load or one of the reader's own errors whose message names the file. Anything else
 * (a stray TypeError from `undefined.x`, a RangeError from a huge allocation, a case slower
 * than `maxCaseMs`) fails with the case number and seed, so it can be replayed.
 *
 * @module
 */

import { Rng } from "./rng.ts";

/** One random byte-level mutation of `bytes`. */
export function mutateBytes(bytes: Uint8Array, rng: Rng): Uint8Array {
  const kind = rng.int(6);
  if (kind === 0) return bytes.slice(0, rng.int(bytes.length)); // truncate
  const out = bytes.slice();
  if (out.length === 0) return out;
  const hits = 1 + rng.int(4);
  for (let i = 0; i < hits; i++) {
    const at = rng.int(out.length);
    if (kind === 1) out[at] ^= 1 << rng.int(8); // flip a bit
    else if (kind === 2) out[at] = [0, 0xff, 0x7f, 0x80, 0x0a, 0x09][rng.int(6)]; // extreme byte
    else if (kind === 3) out.fill(0xff, at, Math.min(out.length, at + 8)); // a huge length
    else if (kind === 4) out.fill(0, at, Math.min(out.length, at + 1 + rng.int(16))); // zeros
    else out.copyWithin(at, rng.int(out.length), rng.int(out.length)); // shuffled span
  }
  return out;
}

const ODD_VALUES: unknown[] = [
  null,
  true,
  "",
  "x",
  -1,
  0,
  0.5,
  1e308,
  -1e308,
  2 ** 53,
  4294967296,
  1e9,
  [],
  {},
  [1, 2, 3],
  { a: 1 },
];

/** One random structural mutation of a parsed JSON value (a deep copy is changed). */
export function mutateJson(value: unknown, rng: Rng): unknown {
  const copy = structuredClone(value);
  const paths: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        paths.push({ parent: v, key: i });
        walk(x);
      });
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        paths.push({ parent: v as Record<string, unknown>, key: k });
        walk(x);
      }
    }
  };
  walk(copy);
  if (paths.length === 0) return ODD_VALUES[rng.int(ODD_VALUES.length)];
  const hits = 1 + rng.int(3);
  for (let i = 0; i < hits; i++) {
    const { parent, key } = paths[rng.int(paths.length)];
    const p = parent as Record<string | number, unknown>;
    const kind = rng.int(4);
    if (kind === 0 && !Array.isArray(parent)) delete p[key]; // drop a key
    else if (kind === 1 && typeof p[key] === "number") {
      p[key] = [(p[key] as number) + 1, -(p[key] as number), 2 ** 31, 1e12, NaN][rng.int(5)];
    } else if (kind === 2 && typeof p[key] === "string") {
      p[key] = (p[key] as string).repeat(1 + rng.int(3)) + String.fromCharCode(rng.int(0x3000));
    } else p[key] = ODD_VALUES[rng.int(ODD_VALUES.length)]; // wrong type
  }
  return copy;
}

/** A JSON text mutated either structurally (then serialised) or as bytes. */
export function mutateJsonText(text: string, rng: Rng): Uint8Array {
  if (rng.int(2) === 0) return mutateBytes(new TextEncoder().encode(text), rng);
  return new TextEncoder().encode(JSON.stringify(mutateJson(JSON.parse(text), rng)));
}

/** What {@linkcode fuzz} reports. */
export interface FuzzReport {
  name: string;
  cases: number;
  loaded: number;
  refused: number;
  /** Slowest case, milliseconds. */
  maxCaseMs: number;
  seconds: number;
}

/** Settings of {@linkcode fuzz}. */
export interface FuzzOptions {
  /** Names the reader in failures. */
  name: string;
  seed: number;
  cases: number;
  /** Makes case `i`'s input (files, bytes) and returns what `read` takes. */
  make: (rng: Rng, i: number) => Promise<void> | void;
  /** Runs the reader on the current case. */
  read: () => Promise<unknown> | unknown;
  /** Whether an error is one of the reader's own, well-formed errors. */
  accept: (e: unknown) => boolean;
  /** Called after every case (leftover-file checks). */
  after?: () => Promise<void> | void;
  /** A case slower than this fails as a hang (default 2000 ms). */
  maxCaseMs?: number;
}

/**
 * Runs `cases` mutated cases and throws on the first escape (an error `accept` refuses, or a
 * case slower than `maxCaseMs`), naming the case and the seed.
 */
export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const rng = new Rng(options.seed);
  const limit = options.maxCaseMs ?? 2000;
  const report: FuzzReport = {
    name: options.name,
    cases: options.cases,
    loaded: 0,
    refused: 0,
    maxCaseMs: 0,
    seconds: 0,
  };
  const start = performance.now();
  for (let i = 0; i < options.cases; i++) {
    await options.make(rng, i);
    const t0 = performance.now();
    try {
      await options.read();
      report.loaded++;
    } catch (e) {
      if (!options.accept(e)) {
        const err = e as Error;
        throw new Error(
          `${options.name} case ${i} (seed ${options.seed}) escaped: ${err?.name}: ${err?.message}`,
          { cause: e },
        );
      }
      report.refused++;
    }
    const ms = performance.now() - t0;
    report.maxCaseMs = Math.max(report.maxCaseMs, ms);
    if (ms > limit) {
      throw new Error(
        `${options.name} case ${i} (seed ${options.seed}) took ${ms.toFixed(0)} ms (a hang?)`,
      );
    }
    await options.after?.();
  }
  report.seconds = (performance.now() - start) / 1000;
  console.log(
    `fuzz ${report.name}: ${report.cases} cases (${report.loaded} loaded, ${report.refused} ` +
      `refused) in ${report.seconds.toFixed(1)} s, slowest ${report.maxCaseMs.toFixed(1)} ms`,
  );
  return report;
}

/** An error of one of `classes` whose message starts with "Cannot" and mentions `file`. */
export function ownError(classes: readonly (new (...a: never[]) => Error)[], file: string) {
  return (e: unknown): boolean =>
    classes.some((c) => e instanceof c) && (e as Error).message.startsWith("Cannot") &&
    (e as Error).message.includes(file);
}

/** Files in `dir` whose names mark an unfinished write (`*.tmp`, `*.partial`). */
export function leftovers(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.endsWith(".tmp") || n.endsWith(".partial")
  );
}
