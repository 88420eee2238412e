/**
 * The optional PyTorch-on-the-CPU side of the peer benchmark (`--torch`): runs
 * `torch_cpu.py` with Debian's `/usr/bin/python3` (python3-torch) in a child process, one
 * benchmark kind at a time, right after the WebGPU implementations have run that benchmark, and
 * reads back its JSON lines. It is not interleaved with them rep by rep (it is another
 * process), but it runs in the same invocation, under nearly the same machine load.
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
 * Runs `torch_cpu.py --bench <kind>` (`matmul`, `layer` or `step`) with `threads` threads.
 *
 * @throws {Error} with the script's stderr when it fails.
 */
export async function torchBench(
  kind: string,
  { reps, warmup, threads }: { reps: number; warmup: number; threads: number },
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
    };
  });
}
