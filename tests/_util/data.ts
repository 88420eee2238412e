/**
 * Where the shared real data lives: `$CAMTL_DATA`, default `../shared/data` beside the
 * repository. Tests that need it skip with a visible message when it is missing.
 *
 * @module
 */

const DEFAULT = new URL("../../../shared/data", import.meta.url).pathname;

/** The shared data folder, from `CAMTL_DATA` or the default beside the repository. */
export const DATA_DIR: string = Deno.env.get("CAMTL_DATA") ?? DEFAULT;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** True when `DATA_DIR/<sub>` exists; prints a skip message once per missing path otherwise. */
export function hasData(sub = ""): boolean {
  const path = sub ? `${DATA_DIR}/${sub}` : DATA_DIR;
  if (exists(path)) return true;
  if (!warned.has(path)) {
    warned.add(path);
    console.warn(`SKIP: shared data not found at ${path} (set CAMTL_DATA to its folder)`);
  }
  return false;
}
const warned = new Set<string>();

/** `DATA_DIR/<sub>`. */
export function dataPath(sub: string): string {
  return `${DATA_DIR}/${sub}`;
}

/**
 * A padded host batch of `B` rows of random ids in `[1, vocab)` (lengths from 3 to `S`), with
 * class labels in `[0, classes)` (or scores, for `classes` = 1), for model tests.
 */
export function randomHostBatch(
  { B, S, vocab, classes = 2, seed = 1 }: {
    B: number;
    S: number;
    vocab: number;
    classes?: number;
    seed?: number;
  },
): {
  inputIds: Int32Array;
  tokenTypeIds: Int32Array;
  attentionMask: Int32Array;
  batchSize: number;
  seqLength: number;
  labels: Int32Array | Float32Array;
} {
  let state = seed >>> 0 || 1;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const inputIds = new Int32Array(B * S), tokenTypeIds = new Int32Array(B * S);
  const attentionMask = new Int32Array(B * S);
  for (let b = 0; b < B; b++) {
    const len = 3 + Math.floor(next() * (S - 2));
    for (let t = 0; t < len; t++) {
      inputIds[b * S + t] = 1 + Math.floor(next() * (vocab - 1));
      tokenTypeIds[b * S + t] = t >= len >> 1 ? 1 : 0;
      attentionMask[b * S + t] = 1;
    }
  }
  const labels = classes === 1
    ? Float32Array.from({ length: B }, () => next() * 5)
    : Int32Array.from({ length: B }, () => Math.floor(next() * classes));
  return { inputIds, tokenTypeIds, attentionMask, batchSize: B, seqLength: S, labels };
}
