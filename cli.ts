/**
 * `deno task train`: the command line of the released `run.py`, on camtl's library. It parses
 * the flags, runs them (`runParsedArgs`, what `runTraining` does on parsed flags) and is the only
 * code that prints: a progress bar (plain lines when stderr is not a terminal), the logged values,
 * and where the outputs went.
 *
 * Errors are one line: usage mistakes exit 2, other failures exit 1; `--verbose` adds the
 * stack trace.
 *
 * @module
 */

import { parseArgs } from "./lib/cli/args.ts";
import { UsageError } from "./lib/cli/flags.ts";
import { usage } from "./lib/cli/help.ts";
import type { TrainArgs } from "./lib/cli/train_args.ts";
import { ConsoleReporter } from "./lib/train/console_reporter.ts";
import { runParsedArgs } from "./lib/train/run.ts";

const DEMO_NOTE = "No arguments: running the embedded demo (CA-MTL-tiny on a synthetic suite " +
  "that camtl generates; see README for the real GLUE command).";

/** Runs the CLI on `argv`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: TrainArgs | null = null;
  const reporter = new ConsoleReporter();
  try {
    args = parseArgs(argv);
    if (args.help) {
      console.log(usage());
      return 0;
    }
    if (args.demo) reporter.log(DEMO_NOTE);
    const result = await runParsedArgs(args, reporter.hooks);
    reporter.finish(result);
    return 0;
  } catch (e) {
    reporter.abort();
    const error = e as Error;
    console.error(`error: ${error.message}`);
    if (args?.verbose || argv.includes("--verbose")) console.error(error.stack);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
