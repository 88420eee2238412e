/**
 * Reads a Hugging Face tokenizer folder (`vocab.txt`, `tokenizer.json`,
 * `tokenizer_config.json`, `special_tokens_map.json`) into a vocabulary and the options of
 * `BertTokenizer`, deciding each setting by the precedence documented on
 * `BertTokenizer.fromFolder`.
 *
 * @module
 */

import { basename, join } from "node:path";
import type { FromFolderOptions, SpecialTokens } from "./tokenizer.ts";
import { isFile, readJsonFile } from "./_read_text.ts";
import { readTokenizerJson, readVocabFile, type TokenizerJson, type Vocab } from "./vocab.ts";

/** What {@linkcode loadFolder} found. */
export interface LoadedFolder {
  /** The vocabulary (from `vocab.txt` when present). */
  vocab: Vocab;
  /** Resolved tokenizer options. */
  options: Omit<FromFolderOptions, "nameHint">;
}

type Json = Record<string, unknown>;

async function readObject(path: string): Promise<Json | undefined> {
  if (!(await isFile(path))) return undefined;
  const value = await readJsonFile(path);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Cannot read "${path}": expected a JSON object`);
  }
  return value as Json;
}

function bool(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

/** A special token as HF writes it: a string, or an `AddedToken` object with `content`. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "content" in value) {
    const content = (value as { content: unknown }).content;
    if (typeof content === "string") return content;
  }
  return undefined;
}

/**
 * Loads the vocabulary and settings of a tokenizer folder.
 *
 * @param path The folder.
 * @param options Explicit settings, which win over the files.
 * @returns The vocabulary and resolved options.
 * @throws {Deno.errors.NotFound} When there is neither `vocab.txt` nor `tokenizer.json`.
 */
export async function loadFolder(path: string, options: FromFolderOptions): Promise<LoadedFolder> {
  const vocabTxt = join(path, "vocab.txt");
  const tokenizerJsonPath = join(path, "tokenizer.json");
  const config = (await readObject(join(path, "tokenizer_config.json"))) ?? {};
  const specialMap = (await readObject(join(path, "special_tokens_map.json"))) ?? {};
  const json: TokenizerJson | undefined = (await isFile(tokenizerJsonPath))
    ? await readTokenizerJson(tokenizerJsonPath)
    : undefined;
  let vocab: Vocab;
  if (await isFile(vocabTxt)) vocab = await readVocabFile(vocabTxt);
  else if (json !== undefined) vocab = json.vocab;
  else {
    throw new Deno.errors.NotFound(
      `Cannot load a tokenizer from "${path}": it has neither "vocab.txt" nor "tokenizer.json"`,
    );
  }

  const norm = json?.normalizer ?? {};
  const name = options.nameHint ?? basename(path.replace(/[\\/]+$/, ""));
  const doLowerCase = options.doLowerCase ?? bool(config.do_lower_case) ?? norm.lowercase ??
    name.toLowerCase().includes("uncased");
  const configStrip = config.strip_accents === null ? null : bool(config.strip_accents);
  const stripAccents = options.stripAccents !== undefined
    ? options.stripAccents
    : configStrip !== undefined
    ? configStrip
    : norm.stripAccents ?? null;

  const specialTokens: Partial<SpecialTokens> = {};
  for (const role of ["unk", "sep", "pad", "cls", "mask"] as const) {
    const key = `${role}_token`;
    const token = options.specialTokens?.[role] ?? tokenText(config[key]) ??
      tokenText(specialMap[key]) ?? (role === "unk" ? json?.unkToken : undefined);
    if (token !== undefined) specialTokens[role] = token;
  }
  const neverSplit = [
    ...(Array.isArray(config.never_split)
      ? config.never_split.filter((t): t is string => typeof t === "string")
      : []),
    ...(options.neverSplit ?? []),
  ];

  return {
    vocab,
    options: {
      doLowerCase,
      stripAccents,
      tokenizeChineseChars: options.tokenizeChineseChars ??
        bool(config.tokenize_chinese_chars) ?? norm.handleChineseChars ?? true,
      cleanText: options.cleanText ?? norm.cleanText ?? true,
      normalizeNfc: options.normalizeNfc,
      neverSplit,
      specialTokens,
      continuingSubwordPrefix: options.continuingSubwordPrefix ?? json?.continuingSubwordPrefix,
      maxInputCharsPerWord: options.maxInputCharsPerWord ?? json?.maxInputCharsPerWord,
    },
  };
}
