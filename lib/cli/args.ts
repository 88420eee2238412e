/**
 * Command-line arguments of `deno task train`, compatible with the released `run.py`, which parses
 * CaMtlArguments, MultiTaskDataArguments and MultiTaskTrainingArguments with the transformers 2.11
 * `HfArgumentParser` (docs/model.md §16.1; the flag table is `flags.ts`, the settings it yields
 * `train_args.ts`):
 *
 * - `--flag value` and `--flag=value`; booleans are bare switches (`--do_train`), as 2.11's
 *   `store_true`; `--tasks a b c` takes values up to the next flag; a repeated flag's last
 *   value wins;
 * - a lone argument ending in `.json` is a file of arguments keyed by flag name, as
 *   `HfArgumentParser.parse_json_file` reads it;
 * - no arguments at all give the embedded demo (`CA-MTL-tiny` on a generated suite).
 *
 * Where 2.11 silently dropped input (unknown flags, unknown JSON keys, stray words) this
 * parser fails with a one-line {@linkcode UsageError} that names the closest flag.
 *
 * @module
 */

import {
  closest,
  DEMO_SETTINGS,
  DEMO_TASKS,
  expected,
  FLAG_BY_NAME,
  FLAGS,
  type FlagSpec,
  type FlagValue,
  readJsonValue,
  readList,
  readValue,
  UsageError,
} from "./flags.ts";
import { defaultArgs, finishArgs, type TrainArgs } from "./train_args.ts";

/**
 * Parses `deno task train` arguments.
 *
 * @param argv the arguments after the script name
 * @returns HF 2.11 defaults overridden by `argv`; for an empty `argv`, the demo settings
 * @throws {UsageError} for an unknown flag or task, a bad value, a missing required flag,
 *   a distributed or TPU setting, or conflicting flags
 *
 * @example The seed README's command
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "./args.ts";
 * const args = parseArgs(["--model_name_or_path", "CA-MTL-base", "--data_dir", "glue",
 *   "--output_dir=out", "--do_train", "--learning_rate", "2e-5", "--tasks", "cola", "sst-2"]);
 * assert.equal(args.learningRate, 2e-5);
 * assert.deepEqual(args.tasks, ["cola", "sst-2"]);
 * assert.equal(args.perDeviceTrainBatchSize, 8);
 * assert.equal(parseArgs([]).demo, true);
 * ```
 */
export function parseArgs(argv: readonly string[]): TrainArgs {
  if (argv.length === 0) return { ...defaultArgs(), ...DEMO_SETTINGS, tasks: [...DEMO_TASKS] };
  const fp16Demo = demoPrecision(argv);
  if (fp16Demo) {
    return {
      ...defaultArgs(),
      ...DEMO_SETTINGS,
      tasks: [...DEMO_TASKS],
      outputDir: "runs/demo-fp16",
      fp16: true,
      fp16OptLevel: fp16Demo,
    };
  }
  if (argv.includes("--help") || argv.includes("-h")) return { ...defaultArgs(), help: true };
  const json = argv.length === 1 && argv[0].endsWith(".json");
  return resolve(json ? readJsonFile(argv[0]) : readArgv(argv));
}

/**
 * The opt level when `argv` is only `--fp16` (optionally with `--fp16_opt_level L`): the
 * embedded demo in mixed precision, written to `runs/demo-fp16`. Null for any other argv.
 */
function demoPrecision(argv: readonly string[]): string | null {
  const rest = argv.filter((a) => a !== "--fp16");
  if (rest.length === argv.length || argv.length - rest.length > 1) return null;
  let level = "O1";
  if (rest.length === 2 && rest[0] === "--fp16_opt_level") level = rest[1];
  else if (rest.length === 1 && rest[0].startsWith("--fp16_opt_level=")) level = rest[0].slice(17);
  else if (rest.length > 0) return null;
  if (!["O0", "O1", "O2", "O3"].includes(level)) {
    throw new UsageError(
      `Cannot use --fp16_opt_level "${level}": expected one of O0, O1, O2, O3`,
    );
  }
  return level;
}

// ---------------------------------------------------------------------------------------------

/** A token that names a flag; `-1` and `-.5` are values, as argparse reads them. */
function isFlag(token: string): boolean {
  return token.length > 1 && token.startsWith("-") && !/^-\.?\d/.test(token);
}

function readArgv(argv: readonly string[]): Map<FlagSpec, FlagValue> {
  const out = new Map<FlagSpec, FlagValue>();
  let lastSwitch: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!isFlag(token)) {
      if (token.endsWith(".json")) {
        throw new UsageError(
          `Cannot read arguments file "${token}": a .json file must be the only argument`,
        );
      }
      if (lastSwitch !== null) {
        throw new UsageError(
          `Cannot parse "${lastSwitch} ${token}": "${lastSwitch}" is a switch and takes no ` +
            `value; write "${lastSwitch}" alone for true and leave it out for false`,
        );
      }
      throw new UsageError(`Cannot parse argument "${token}": it is not a flag (flags start --)`);
    }
    lastSwitch = null;
    const eq = token.indexOf("=");
    const name = eq < 0 ? token : token.slice(0, eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    const spec = name.startsWith("--") ? FLAG_BY_NAME.get(name.slice(2)) : undefined;
    if (spec === undefined) {
      const near = closest(name.replace(/^-+/, ""), FLAGS.map((f) => f.name));
      throw new UsageError(`Cannot parse "${name}": unknown flag; did you mean "--${near}"?`);
    }
    if (spec.kind === "bool") {
      if (inline !== undefined) {
        throw new UsageError(
          `Cannot parse "${token}": "${name}" is a switch and takes no value; write "${name}" alone`,
        );
      }
      out.set(spec, true);
      lastSwitch = name;
    } else if (spec.kind === "list") {
      const values = inline === undefined ? [] : [inline];
      while (i + 1 < argv.length && !isFlag(argv[i + 1])) values.push(argv[++i]);
      out.set(spec, readList(spec, values));
    } else {
      if (inline === undefined && (i + 1 >= argv.length || isFlag(argv[i + 1]))) {
        throw new UsageError(`Cannot parse "${name}": it needs a value (${expected(spec)})`);
      }
      out.set(spec, readValue(spec, inline ?? argv[++i]));
    }
  }
  return out;
}

function readJsonFile(path: string): Map<FlagSpec, FlagValue> {
  let data: unknown;
  try {
    data = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "it does not exist" : (e as Error).message;
    throw new UsageError(`Cannot read arguments file "${path}": ${why}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(
      `Cannot read arguments file "${path}": expected a JSON object of flag names and values`,
    );
  }
  const out = new Map<FlagSpec, FlagValue>();
  for (const [key, value] of Object.entries(data)) {
    const spec = FLAG_BY_NAME.get(key);
    if (spec === undefined) {
      const near = closest(key, FLAGS.map((f) => f.name));
      throw new UsageError(
        `Cannot read key "${key}" of "${path}": unknown argument; did you mean "${near}"?`,
      );
    }
    if (value !== null || spec.default !== null) out.set(spec, readJsonValue(spec, value, path));
  }
  return out;
}

/** Defaults + given values, then the checks that look at several flags. */
function resolve(given: Map<FlagSpec, FlagValue>): TrainArgs {
  const args = defaultArgs();
  const fields = args as unknown as Record<string, FlagValue>;
  for (const [spec, value] of given) fields[spec.key] = value;
  const has = new Set([...given.keys()].map((f) => f.name));
  args.given = [...has];
  return finishArgs(args, has);
}
