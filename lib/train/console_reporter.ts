/**
 * What `deno task train` shows while a run goes, as run hooks: the adapter, what was loaded, a
 * progress bar (plain lines where stderr is not a terminal), each logged record, and at the end
 * the dev metrics and where the outputs went. The CLI uses it, and so does
 * `runTraining({ progress: true })`.
 *
 * @module
 */

import type { RunHooks } from "./config.ts";
import { ProgressBar } from "../cli/progress.ts";
import type { RunResult } from "./run.ts";

/** One task's metrics on one line: `  rte   acc=0.6134`. */
export function metricsLine(task: string, m: Record<string, number>): string {
  return `  ${task.padEnd(18)} ` +
    Object.entries(m).map(([k, v]) => `${k}=${Number.isFinite(v) ? v.toFixed(4) : v}`).join("  ");
}

/** Runs several sets of hooks as one, in order. */
export function mergeHooks(...sets: RunHooks[]): RunHooks {
  const names = ["onAdapter", "onInfo", "onStep", "onLog"] as const;
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const fns = sets.map((s) => s[name]).filter((f) => f !== undefined) as ((
      ...a: unknown[]
    ) => void)[];
    if (fns.length > 0) out[name] = (...a: unknown[]) => fns.forEach((f) => f(...a));
  }
  return out as RunHooks;
}

/** Prints a run to the console through the hooks it hands out. */
export class ConsoleReporter {
  readonly #bar = new ProgressBar();
  #started = false;

  /** A line above the bar. */
  log(line: string): void {
    this.#bar.log(line);
  }

  /** The hooks to pass to `runTraining`. */
  get hooks(): RunHooks {
    const bar = this.#bar;
    return {
      onAdapter: (a) =>
        bar.log(`Adapter: ${a.description}${a.isFallbackAdapter ? " (fallback adapter)" : ""}`),
      onInfo: (line) => bar.log(line),
      onStep: (step, total, info) => {
        // A resumed run's first step is not 1: the bar starts where the run does.
        if (!this.#started) {
          bar.start(total, step - 1);
          this.#started = true;
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
    };
  }

  /** Closes the bar, then prints the dev metrics and the output files to stdout. */
  finish(result: RunResult): void {
    this.#bar.finish();
    if (Object.keys(result.evalResults).length > 0) {
      console.log(`Dev metrics after ${result.globalStep} steps:`);
      for (const [task, m] of Object.entries(result.evalResults)) console.log(metricsLine(task, m));
    }
    console.log(`Outputs in ${result.outputDir}: ${result.files.join(", ")}`);
  }

  /** Closes the bar after a failure. */
  abort(): void {
    this.#bar.finish();
  }
}
