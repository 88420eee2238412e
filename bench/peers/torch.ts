/**
 * The PyTorch-on-the-CPU side of the peer benchmarks: runs `torch_cpu.py` with Debian's
 * `/usr/bin/python3` (python3-torch) in a child process, one benchmark kind at a time, and
 * reads back its JSON lines. `bench:peers --torch` runs it right after the WebGPU
 * implementations have run that benchmark; `bench:torch` alternates blocks of reps with
 * camtl's. It is not interleaved rep by rep (it is another process), but it runs in the same
 * invocation, under nearly the same machine load.
 *
 * @module
 */

import type { Stats } from "./timing.ts";

/** Debian's interpreter, which has python3-torch; the pyenv `python3` on PATH does not. */
export const TORCH_PYTHON = "/usr/bin/python3";
const SCRIPT = new URL("./torch_cpu.py", import.meta.url).pathname;

/** One benchmark's result from `torch_cpu.py`. */
export interface TorchResult {
  bench: string;
  /** `cpu (N threads, BLAS …, torch …)`. */
  adapter: string;
  stats: Stats;
  /** Every timed rep, in ms. */
  times: number[];
}

/**
 * Checks that `TORCH_PYTHON` can import torch; returns its version.
 *
 * @throws {Error} naming the fix when the interpreter or torch is missing.
 */
export async function torchSetup(): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(TORCH_PYTHON, {
      args: ["-c", "import torch; print(torch.__version__)"],
    }).output();
  } catch (e) {
    throw new Error(`Cannot run torch-cpu: ${TORCH_PYTHON} cannot start (${(e as Error).message})`);
  }
  if (!out.success) {
    throw new Error(
      `Cannot run torch-cpu: ${TORCH_PYTHON} has no torch (apt-get install python3-torch)`,
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/**
 * Whether torch-cpu can run: logs its version with `log`, or says on stderr, in one line, why it
 * is left out.
 */
export async function torchAvailable(log: (line: string) => void): Promise<boolean> {
  try {
    log(`torch-cpu: torch ${await torchSetup()} on the CPU, 2 threads, in a child process`);
    return true;
  } catch (e) {
    console.error(`torch-cpu left out: ${(e as Error).message}`);
    return false;
  }
}

/**
 * Runs `torch_cpu.py --bench <kind>` (`matmul`, `layer`, `step`, `classifier` or `ca_mtl`) with
 * `threads` threads; `args` adds the input files (`--batches FILE`, `--pools FILE`).
 *
 * @throws {Error} with the script's stderr when it fails.
 */
export async function torchBench(
  kind: string,
  { reps, warmup, threads, args = [] }: {
    reps: number;
    warmup: number;
    threads: number;
    args?: string[];
  },
): Promise<TorchResult[]> {
  const out = await new Deno.Command(TORCH_PYTHON, {
    args: [
      SCRIPT,
      "--bench",
      kind,
      "--reps",
      String(reps),
      "--warmup",
      String(warmup),
      "--threads",
      String(threads),
      ...args,
    ],
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop();
    throw new Error(`Cannot run torch-cpu "${kind}": torch_cpu.py exited ${out.code}: ${err}`);
  }
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((line) => {
    const r = JSON.parse(line);
    return {
      bench: r.bench,
      adapter: r.adapter,
      stats: { median: r.median_ms, min: r.min_ms, max: r.max_ms },
      times: r.times_ms,
    };
  });
}
