/**
 * The `--help` text of `deno task train`: usage lines, then every flag of the table
 * (`flags.ts`) with its default, grouped by the released code's argument dataclasses.
 *
 * @module
 */

import { type FlagGroup, FLAGS, type FlagSpec } from "./flags.ts";

/** Section titles of `--help`, in print order. */
// deno-fmt-ignore
export const GROUP_TITLES: Readonly<Record<FlagGroup, string>> = Object.freeze({
  model: "Model (CaMtlArguments)", data: "Data (MultiTaskDataArguments)",
  mt: "Multi-task training (MultiTaskTrainingArguments)",
  hf: "Training (transformers 2.11 TrainingArguments)", camtl: "camtl",
});

/**
 * The `--help` text: usage lines, then every flag with its default, grouped by the released
 * code's argument dataclasses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usage } from "./help.ts";
 * assert.match(usage(), /--use_mt_uncertainty/);
 * ```
 */
export function usage(): string {
  return [
    "Usage: deno task train [FLAGS]     train/evaluate/predict as the released run.py does",
    "       deno task train ARGS.json   the same flags as JSON keys without dashes",
    "       deno task train             no arguments: the embedded demo (CA-MTL-tiny on a",
    "                                   generated synthetic suite, written to runs/demo,",
    "                                   overwriting it: the demo implies --overwrite_output_dir)",
    "       deno task train --fp16      the demo in mixed precision, written to runs/demo-fp16",
    "",
    "Switches take no value (--do_train). Values: --flag value or --flag=value.",
    ...flagSections(),
  ].join("\n") + "\n";
}

/** `--help`'s flag sections: name and value column, then the help wrapped to `width`. */
export function flagSections(width = 100): string[] {
  const left = (f: FlagSpec) => `  --${f.name}${metavarOf(f)}`;
  const column = Math.max(...FLAGS.map((f) => left(f).length)) + 2;
  const lines: string[] = [];
  for (const [group, title] of Object.entries(GROUP_TITLES)) {
    lines.push("", `${title}:`);
    for (const f of FLAGS.filter((f) => f.group === group)) {
      let line = left(f).padEnd(column), fresh = true;
      for (const word of describe(f).split(" ")) {
        if (!fresh && line.length + 1 + word.length > width) {
          lines.push(line);
          [line, fresh] = [" ".repeat(column), true];
        }
        line += fresh ? word : ` ${word}`;
        fresh = false;
      }
      lines.push(line);
    }
  }
  return lines;
}

function metavarOf(spec: FlagSpec): string {
  if (spec.kind === "bool") return "";
  if (spec.kind === "list") return ` ${spec.metavar} [${spec.metavar} ...]`;
  if (spec.kind === "choice" && !spec.metavar) return ` {${spec.choices}}`;
  return ` ${spec.metavar ?? (spec.kind === "string" ? "TEXT" : spec.kind === "int" ? "N" : "X")}`;
}

function describe(spec: FlagSpec): string {
  const choices = spec.kind === "choice" && spec.metavar
    ? `; one of ${spec.choices?.join(", ")}`
    : "";
  if (spec.required) return `${spec.help} (required)`;
  if (spec.kind === "bool") return spec.help;
  const value = spec.shown ?? (spec.default === null ? "unset" : String(spec.default));
  return `${spec.help}${choices} (default: ${value})`;
}
