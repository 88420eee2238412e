/**
 * CoNLL column files for token tagging (WNUT-2017's `wnut17train.conll`, `emerging.dev.conll`,
 * `emerging.test.annotated`): one token per line with its tag in the last column, sentences
 * separated by blank lines. Columns are tab-separated when the line has a tab, else
 * space-separated (CoNLL-2003 style); a line holding only whitespace (WNUT's train file uses a
 * lone tab) ends a sentence like an empty one.
 *
 * Tags are BIO: `O`, `B-<type>`, `I-<type>`, each in the task's tag list. The reader is strict
 * about sequences: an `I-<type>` must continue a `B-<type>` or `I-<type>` of the same type in the
 * same sentence. Gold data that breaks this is usually damaged (a lost line, a mistyped tag), and
 * a training signal that contradicts the tag set is worse than an error; the message names the
 * line and the fix. Data written in IOB1 (where `I-` may open an entity, as in the original
 * CoNLL-2003 release) can be read with `bio: "repair"`, which rewrites such a tag to `B-<type>`:
 * exactly how conlleval and seqeval's default mode read it when scoring. Predictions are never
 * checked: the entity metrics read them leniently (see `ner_metrics.ts`).
 *
 * @module
 */

import { DataError } from "./data_error.ts";
import { readLines } from "./lines.ts";

/** One sentence. */
export interface TaggedSentence {
  /** 1-based line of the sentence's first token. */
  line: number;
  /** The tokens. */
  words: string[];
  /** The tag of each token, or null for a file with one column (no tags). */
  tags: string[] | null;
}

/** Options for {@linkcode readConllSentences}. */
export interface ReadConllOptions {
  /** The file. */
  path: string;
  /** Allowed tags (`O`, `B-x`, `I-x`, ...); every tag in the file must be one of them. */
  tags: readonly string[];
  /** `strict` (default): a misplaced `I-` is an error; `repair`: it becomes `B-` (IOB1 input). */
  bio?: "strict" | "repair";
  /** Name used in messages (the task). */
  task?: string;
}

/**
 * Streams the sentences of a CoNLL file.
 *
 * @param options The file, the allowed tags, the BIO rule and the task name for messages.
 * @returns Sentences in file order.
 * @throws {DataError} For an unreadable file, a tag outside the list, an `I-` that does not
 * continue an entity of its type (strict mode), tagged and untagged lines mixed, or a file
 * without tokens; each names the file and line.
 *
 * @example
 * ```ts
 * import { readConllSentences } from "./conll.ts";
 * const path = await Deno.makeTempFile({ suffix: ".conll" });
 * await Deno.writeTextFile(path, "New\tB-location\nYork\tI-location\n\nhi\tO\n");
 * const out = [];
 * for await (const s of readConllSentences({ path, tags: ["O", "B-location", "I-location"] })) {
 *   out.push(s.tags!.join(" "));
 * }
 * if (out.join("|") !== "B-location I-location|O") throw new Error(out.join("|"));
 * await Deno.remove(path);
 * ```
 */
export async function* readConllSentences(
  options: ReadConllOptions,
): AsyncGenerator<TaggedSentence> {
  const { path, tags: allowed, bio = "strict", task = "this task" } = options;
  const known = new Set(allowed);
  let words: string[] = [];
  let tags: string[] = [];
  let first = 0;
  let tagged: boolean | null = null;
  let sentences = 0;
  const fail = (line: number, why: string) =>
    new DataError(`Cannot read "${path}" line ${line}: ${why}`, { file: path, line });
  for await (const { text, line } of readLines(path)) {
    if (text.trim() === "") {
      if (words.length > 0) {
        sentences++;
        yield { line: first, words, tags: tagged ? tags : null };
        words = [];
        tags = [];
      }
      continue;
    }
    const fields = text.includes("\t") ? text.split("\t") : text.trim().split(/ +/);
    const has = fields.length > 1;
    if (tagged === null) tagged = has;
    if (tagged !== has) {
      throw fail(
        line,
        `it has ${fields.length} column(s), but earlier lines ${
          tagged ? "have a tag column" : "have none"
        }`,
      );
    }
    if (fields[0] === "") throw fail(line, "the token column is empty");
    if (words.length === 0) first = line;
    words.push(fields[0]);
    if (!has) continue;
    let tag = fields[fields.length - 1].trim();
    if (!known.has(tag)) {
      throw fail(
        line,
        `tag "${tag}" is not one of the "${task}" tags ${allowed.map((t) => `"${t}"`).join(", ")}`,
      );
    }
    if (tag.startsWith("I-")) {
      const prev = tags.length > 0 ? tags[tags.length - 1] : null;
      if (prev === null || prev === "O" || prev.slice(2) !== tag.slice(2)) {
        if (bio === "repair") tag = `B-${tag.slice(2)}`;
        else {
          throw fail(
            line,
            `tag "${tag}" follows ${
              prev === null ? "the sentence start" : `"${prev}"`
            }, but in BIO an entity starts with "B-"; write "B-${
              tag.slice(2)
            }", or read the file with bio: "repair" if it is IOB1`,
          );
        }
      }
    }
    tags.push(tag);
  }
  if (words.length > 0) {
    sentences++;
    yield { line: first, words, tags: tagged ? tags : null };
  }
  if (sentences === 0) {
    throw new DataError(`Cannot read "${path}": the file has no tokens`, { file: path });
  }
}
