/**
 * The one error type of the checkpoint layer: a file that cannot be read, or a state dict
 * that does not fit the model.
 *
 * @module
 */

/** A key whose stored shape differs from the one the model declares. */
export interface ShapeMismatch {
  /** The model's key. */
  key: string;
  /** Shape the model expects. */
  expected: number[];
  /** Shape found in the checkpoint. */
  found: number[];
}

/** What a {@linkcode CheckpointError} can carry besides its message. */
export interface CheckpointErrorOptions {
  /** The file (or folder) the problem is in. */
  file?: string;
  /** Keys the model needs that the checkpoint lacks. */
  missing?: string[];
  /** Keys the checkpoint has that nothing uses. */
  unexpected?: string[];
  /** Keys present in both with different shapes. */
  mismatched?: ShapeMismatch[];
  /** The underlying error, if any. */
  cause?: unknown;
}

/** How many names of each list the one-line message shows before "and N more". */
const SHOWN = 5;

function listPart(label: string, names: string[]): string {
  const shown = names.slice(0, SHOWN).map((n) => `"${n}"`).join(", ");
  const more = names.length > SHOWN ? ` and ${names.length - SHOWN} more` : "";
  return `${names.length} ${label} (${shown}${more})`;
}

/**
 * A checkpoint file that cannot be read (truncated, malformed, unsafe), or a state dict that
 * does not match the model. The message is one line; the full key lists are on the fields.
 *
 * @example Report a missing key
 * ```ts
 * import { CheckpointError } from "./errors.ts";
 * import { match } from "node:assert/strict";
 * const e = new CheckpointError("Cannot load weights", {
 *   file: "model.safetensors",
 *   missing: ["pooler.dense.weight"],
 * });
 * match(e.message, /1 missing \("pooler.dense.weight"\)/);
 * ```
 */
export class CheckpointError extends Error {
  /** The file (or folder) concerned, or `""` when not known. */
  readonly file: string;
  /** Keys the model needs that the checkpoint lacks. */
  readonly missing: string[];
  /** Keys the checkpoint has that the model does not use (reported only). */
  readonly unexpected: string[];
  /** Keys with a different shape in the checkpoint. */
  readonly mismatched: ShapeMismatch[];

  /**
   * Makes the error; its message is `summary` followed by the counts and first names of each
   * key list and the file.
   *
   * @param summary "Cannot <action> <subject>: <state>"; key lists and the file are appended.
   * @param options Key lists, file and cause.
   */
  constructor(summary: string, options: CheckpointErrorOptions = {}) {
    const missing = options.missing ?? [];
    const unexpected = options.unexpected ?? [];
    const mismatched = options.mismatched ?? [];
    const parts: string[] = [];
    if (missing.length) parts.push(listPart("missing", missing));
    if (mismatched.length) {
      const shown = mismatched.slice(0, SHOWN)
        .map((m) => `"${m.key}" expected [${m.expected}] found [${m.found}]`).join(", ");
      const more = mismatched.length > SHOWN ? ` and ${mismatched.length - SHOWN} more` : "";
      parts.push(`${mismatched.length} mis-shaped (${shown}${more})`);
    }
    if (unexpected.length) parts.push(listPart("unexpected", unexpected));
    let message = summary;
    if (parts.length) message += `: ${parts.join("; ")}`;
    if (options.file && !message.includes(options.file)) message += ` in "${options.file}"`;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CheckpointError";
    this.file = options.file ?? "";
    this.missing = missing;
    this.unexpected = unexpected;
    this.mismatched = mismatched;
  }
}
