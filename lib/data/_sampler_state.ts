/**
 * What a sampler tells about itself, as data: the counters of `stats()` and the snapshot of
 * `saveState()`, plus the checks `loadState()` runs on a snapshot read back from a file.
 *
 * A snapshot is plain JSON and compact: a task's order is base64 of its little-endian int32
 * bytes (a 400k-example task takes about 2 MB) and the "seen" flags are a base64 bitmap.
 * Nothing in a snapshot is trusted: every field is checked (types, ranges, permutations)
 * before a sampler changes anything, and a refusal is a `TypeError`
 * "Cannot restore sampler state: <reason>". Re-exported by `sampler.ts`.
 *
 * @module
 */

import type { SeededRng } from "./rng.ts";
import type { SamplingMode } from "./sampler.ts";

/** Per-task counts in {@linkcode SamplerStats}. */
export interface TaskSamplerStats {
  /** Task name. */
  task: string;
  /** Task id. */
  taskId: number;
  /** Examples in the task's training set. */
  size: number;
  /** Examples of this task put into training batches (with repeats). */
  drawn: number;
  /** Distinct examples of this task put into training batches. */
  distinct: number;
  /** Training batches that contained this task. */
  batches: number;
  /** MT-Uncertainty only: candidates of this task scored. */
  candidates?: number;
}

/** Counters since construction (or the last `resetStats()`). */
export interface SamplerStats {
  /** The sampler's mode. */
  mode: SamplingMode;
  /** Epochs started (1 during the first epoch). */
  epoch: number;
  /** Batches returned in the current epoch. */
  stepInEpoch: number;
  /** Batches returned in total. */
  steps: number;
  /** Batches in one epoch. */
  stepsPerEpoch: number;
  /** Examples returned in total, all tasks. */
  examplesDrawn: number;
  /** Per-task counters, in `--tasks` order. */
  tasks: TaskSamplerStats[];
  /** MT-Uncertainty only: candidates scored, all tasks. */
  candidatesSeen?: number;
  /** MT-Uncertainty only: candidates kept for training (`examplesDrawn`). */
  candidatesUsed?: number;
  /** MT-Uncertainty only: `candidatesUsed / candidatesSeen` (b/(T·b) per full step). */
  candidateFraction?: number;
  /**
   * Distinct training examples used for updates over all training examples; under
   * MT-Uncertainty this is the paper's "% of data used" as far as docs/model.md §12.5 can tell.
   */
  dataFraction: number;
}

/** A JSON value: what a {@linkcode SamplerState} is made of. */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [key: string]: JsonValue;
};

/** The {@linkcode SamplerState} version `saveState()` writes and `loadState()` reads. */
export const SAMPLER_STATE_VERSION = 1;

/** A {@linkcode TaskStream}'s position. */
export type TaskStreamState = {
  /** The stream's generator state (uint32). */
  rng: number;
  /** The current pass's order: base64 of its little-endian int32 bytes. */
  order: string;
  /** Examples of the pass already handed out. */
  pos: number;
};

/** One task's part of a {@linkcode SamplerState}: what it is, and its counters. */
export type SamplerTaskState = {
  /** Task name. */
  task: string;
  /** Task id. */
  taskId: number;
  /** Examples in the task's training set. */
  size: number;
  /** {@linkcode TaskSamplerStats.drawn}. */
  drawn: number;
  /** {@linkcode TaskSamplerStats.distinct}. */
  distinct: number;
  /** {@linkcode TaskSamplerStats.batches}. */
  batches: number;
  /** Examples used since the last `resetStats()`: base64 bitmap, example i at bit i % 8 of byte i / 8. */
  seen: string;
};

/**
 * Everything that decides a sampler's future batches and its stats, as plain JSON (compact:
 * orders and bitmaps are base64 strings). Written by `saveState()`, read by `loadState()`.
 */
export type SamplerState = {
  /** {@linkcode SAMPLER_STATE_VERSION}. */
  version: number;
  /** The sampler's mode. */
  mode: SamplingMode;
  /** Examples per batch. */
  batchSize: number;
  /** The seed the sampler was built with. */
  seed: number;
  /** Batches per epoch. */
  stepsPerEpoch: number;
  /** Epochs started. */
  epoch: number;
  /** Batches returned in the current epoch. */
  stepInEpoch: number;
  /** Whether the current epoch is over (the next batch starts a new one). */
  ended: boolean;
  /** Batches returned since the last `resetStats()`. */
  steps: number;
  /** Per task, in `--tasks` order. */
  tasks: SamplerTaskState[];
  /** The mode's own state: turns, task chooser, pooled order, streams, candidate counts. */
  modeState: { [key: string]: JsonValue };
};

// ---- Encodings -----------------------------------------------------------------------------

/** Base64 of the little-endian bytes of `values`. */
function encodeInt32(values: Int32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(4 * i, values[i], true);
  return bytes.toBase64();
}

function decodeBase64(text: unknown): Uint8Array | null {
  if (typeof text !== "string") return null;
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    return null;
  }
}

/** Base64 of `flags` (0/1 each) packed eight to a byte, entry i at bit i % 8 of byte i / 8. */
export function encodeBits(flags: Uint8Array): string {
  const bytes = new Uint8Array(Math.ceil(flags.length / 8));
  for (let i = 0; i < flags.length; i++) if (flags[i]) bytes[i >> 3] |= 1 << (i & 7);
  return bytes.toBase64();
}

/** The saved form of a shuffled pass: its generator, its order and how far it got. */
export function streamState(
  pass: { rng: SeededRng; order: Int32Array; pos: number },
): TaskStreamState {
  return { rng: pass.rng.state, order: encodeInt32(pass.order), pos: pass.pos };
}

// ---- Checks --------------------------------------------------------------------------------

/** Refuses a saved state: a `TypeError` "Cannot restore sampler state: <reason>". */
export function refuseState(reason: string): never {
  throw new TypeError(`Cannot restore sampler state: ${reason}`);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** `value` when it is a plain object, else a refusal naming `field`. */
export function savedObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    refuseState(`"${field}" is ${describe(value)}, expected an object`);
  }
  return value as Record<string, unknown>;
}

/** `value` when it is an array of `length` entries, else a refusal naming `field`. */
export function savedArray(value: unknown, at: { field: string; length: number }): unknown[] {
  if (!Array.isArray(value) || value.length !== at.length) {
    refuseState(`"${at.field}" is ${describe(value)}, expected an array of ${at.length}`);
  }
  return value;
}

/** `value` when it is an integer in [0, `max`], else a refusal naming `field`. */
export function savedInt(value: unknown, at: { field: string; max?: number }): number {
  const max = at.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    refuseState(`"${at.field}" is ${describe(value)}, expected an integer in [0, ${max}]`);
  }
  return value;
}

/** The checked form of a {@linkcode TaskStreamState}. */
export interface SavedPass {
  /** Generator state. */
  rng: number;
  /** A permutation of the pass's examples. */
  order: Int32Array;
  /** Examples handed out, in [0, size]. */
  pos: number;
}

/**
 * Checks a saved {@linkcode TaskStreamState} of a pass over `size` examples.
 *
 * @throws {TypeError} When the order is not a base64 permutation of `size` or a number is off.
 */
export function readStreamState(saved: unknown, at: { field: string; size: number }): SavedPass {
  const s = savedObject(saved, at.field);
  const rng = savedInt(s.rng, { field: `${at.field}.rng`, max: 0xffffffff });
  const bytes = decodeBase64(s.order);
  if (bytes === null || bytes.length !== 4 * at.size) {
    refuseState(`"${at.field}.order" is not a base64 order of ${at.size} examples`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const order = new Int32Array(at.size);
  const hit = new Uint8Array(at.size);
  for (let i = 0; i < at.size; i++) {
    const j = order[i] = view.getInt32(4 * i, true);
    if (!(j >= 0 && j < at.size) || hit[j]) {
      refuseState(`"${at.field}.order" is not a permutation of ${at.size} examples`);
    }
    hit[j] = 1;
  }
  const pos = savedInt(s.pos, { field: `${at.field}.pos`, max: at.size });
  return { rng, order, pos };
}

/** What a sampler is: a saved state must match it to be restored. */
export interface SamplerIdentity {
  /** The sampler's mode. */
  mode: SamplingMode;
  /** Examples per batch. */
  batchSize: number;
  /** The seed it was built with. */
  seed: number;
  /** Batches per epoch. */
  stepsPerEpoch: number;
  /** Its tasks, in `--tasks` order. */
  tasks: readonly { task: string; taskId: number; size: number }[];
}

/** The checked counters of a {@linkcode SamplerState}; `modeState` is left to the sampler. */
export interface SavedCounters {
  /** Epochs started. */
  epoch: number;
  /** Batches returned in the current epoch. */
  stepInEpoch: number;
  /** Whether the current epoch is over. */
  ended: boolean;
  /** Batches returned since the last `resetStats()`. */
  steps: number;
  /** Per task: counters and the decoded "seen" flags. */
  tasks: { drawn: number; batches: number; distinct: number; seen: Uint8Array }[];
  /** The mode's own part, unchecked. */
  modeState: Record<string, unknown>;
}

/**
 * Checks a saved state against the sampler it is to be restored into and decodes its counters.
 *
 * @throws {TypeError} When the version, mode, tasks, sizes, batch size, seed or epoch length
 * differ, or a field is malformed.
 */
export function readSamplerState(state: unknown, expect: SamplerIdentity): SavedCounters {
  const s = savedObject(state, "state");
  if (s.version !== SAMPLER_STATE_VERSION) {
    refuseState(`it has version ${describe(s.version)}, this code reads ${SAMPLER_STATE_VERSION}`);
  }
  if (s.mode !== expect.mode) {
    refuseState(`it was saved by a ${describe(s.mode)} sampler, this one is "${expect.mode}"`);
  }
  const list = (tasks: readonly Record<string, unknown>[]) =>
    tasks.map((t) => `${describe(t.task)} (id ${t.taskId}, ${t.size} examples)`).join(", ");
  const tasks = Array.isArray(s.tasks) ? s.tasks.map((t, k) => savedObject(t, `tasks[${k}]`)) : [];
  const same = tasks.length === expect.tasks.length &&
    expect.tasks.every((t, k) =>
      tasks[k].task === t.task && tasks[k].taskId === t.taskId && tasks[k].size === t.size
    );
  if (!same) {
    refuseState(`it was saved for tasks ${list(tasks)}; this sampler has ${list(expect.tasks)}`);
  }
  for (const field of ["batchSize", "seed", "stepsPerEpoch"] as const) {
    if (s[field] !== expect[field]) {
      refuseState(`"${field}" is ${describe(s[field])} there and ${expect[field]} here`);
    }
  }
  if (typeof s.ended !== "boolean") refuseState(`"ended" is ${describe(s.ended)}`);
  return {
    epoch: savedInt(s.epoch, { field: "epoch" }),
    stepInEpoch: savedInt(s.stepInEpoch, { field: "stepInEpoch", max: expect.stepsPerEpoch }),
    ended: s.ended,
    steps: savedInt(s.steps, { field: "steps" }),
    tasks: tasks.map((t, k) => {
      const field = (name: string) => ({ field: `tasks[${k}].${name}` });
      const size = expect.tasks[k].size;
      const bytes = decodeBase64(t.seen);
      if (bytes === null || bytes.length !== Math.ceil(size / 8)) {
        refuseState(`"tasks[${k}].seen" is not a base64 bitmap of ${size} examples`);
      }
      const seen = new Uint8Array(size);
      let count = 0;
      for (let i = 0; i < size; i++) count += seen[i] = (bytes[i >> 3] >> (i & 7)) & 1;
      const distinct = savedInt(t.distinct, field("distinct"));
      if (distinct !== count) {
        refuseState(`"tasks[${k}].distinct" is ${distinct} but "seen" marks ${count} examples`);
      }
      const drawn = savedInt(t.drawn, field("drawn"));
      return { drawn, batches: savedInt(t.batches, field("batches")), distinct, seen };
    }),
    modeState: savedObject(s.modeState, "modeState"),
  };
}
