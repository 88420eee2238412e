/**
 * `deno task train`: the command line of the released `run.py`, on camtl's library. It parses
 * the flags, drives `runTraining` and is the only code that prints: a progress bar (plain
 * lines when stderr is not a terminal), the logged values, and where the outputs went.
 *
 * Errors are one line: usage mistakes exit 2, other failures exit 1; `--verbose` adds the
 * stack trace.
 *
 * @module
 */

import { parseArgs, type TrainArgs, usage, UsageError } from "./lib/train/args.ts";
import { ProgressBar } from "./lib/train/progress.ts";
import { runTraining } from "./lib/train/run.ts";

const DEMO_NOTE = "No arguments: running the embedded demo (CA-MTL-tiny on a synthetic suite " +
  "that camtl generates; see README for the real GLUE command).";

function metricsLine(task: string, m: Record<string, number>): string {
  return `  ${task.padEnd(18)} ` +
    Object.entries(m).map(([k, v]) => `${k}=${Number.isFinite(v) ? v.toFixed(4) : v}`).join("  ");
}

/** Runs the CLI on `argv`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: TrainArgs | null = null;
  const bar = new ProgressBar();
  let started = false;
  try {
    args = parseArgs(argv);
    if (args.help) {
      console.log(usage());
      return 0;
    }
    if (args.demo) bar.log(DEMO_NOTE);
    const result = await runTraining(args, {
      onAdapter: (a) =>
        bar.log(`Adapter: ${a.description}${a.isFallbackAdapter ? " (fallback adapter)" : ""}`),
      onInfo: (line) => bar.log(line),
      onStep: (step, total, info) => {
        // A resumed run's first step is not 1: the bar starts where the run does.
        if (!started) {
          bar.start(total, step - 1);
          started = true;
        }
        bar.update(step, { loss: info.loss, lr: info.lr });
      },
      onLog: (r) => {
        const parts = [
          `step ${r.step}`,
          `loss ${r.loss?.toFixed(4)}`,
          `lr ${r.learning_rate?.toExponential(2)}`,
        ];
        if (r.examples_per_second) parts.push(`${r.examples_per_second.toFixed(1)} ex/s`);
        if (r.sampler) parts.push(Object.entries(r.sampler).map(([t, n]) => `${t}:${n}`).join(" "));
        bar.log(parts.join(" | "));
        for (const [task, m] of Object.entries(r.eval ?? {})) bar.log(metricsLine(task, m));
      },
    });
    bar.finish();
    if (Object.keys(result.evalResults).length > 0) {
      console.log(`Dev metrics after ${result.globalStep} steps:`);
      for (const [task, m] of Object.entries(result.evalResults)) console.log(metricsLine(task, m));
    }
    console.log(`Outputs in ${result.outputDir}: ${result.files.join(", ")}`);
    return 0;
  } catch (e) {
    bar.finish();
    const error = e as Error;
    console.error(`error: ${error.message}`);
    if (args?.verbose || argv.includes("--verbose")) console.error(error.stack);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
