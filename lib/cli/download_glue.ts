/**
 * `deno task download-glue`: the command line of `download_glue_data.py` (`--data_dir`,
 * `--tasks`, `--path_to_mrpc`), on `lib/data/download_glue.ts`. Prints what it does on stderr;
 * errors are one line (exit 2 for usage, 1 for a failed download).
 *
 * @module
 */

import {
  downloadGlue,
  GLUE_DOWNLOAD_BASE,
  GLUE_DOWNLOAD_TASKS,
  resolveDownloadTasks,
} from "../data/download_glue.ts";

const USAGE =
  `Usage: deno task download-glue [--data_dir DIR] [--tasks all|TASK,...] [--path_to_mrpc DIR]

Downloads GLUE as download_glue_data.py does, into the folder layout deno task train reads.
Retries, resumes a partial download when run again, and skips tasks already in DIR.

  --data_dir DIR       where the task folders go (default: glue_data)
  --tasks LIST         all, or a comma-separated list of ${GLUE_DOWNLOAD_TASKS.join(", ")}
                       (camtl names such as sst-2 and sts-b work too; default: all)
  --path_to_mrpc DIR   read msr_paraphrase_train.txt and msr_paraphrase_test.txt from DIR
                       instead of downloading them
  --base_url URL       a mirror of ${GLUE_DOWNLOAD_BASE} (the task's network permission
                       names only that host: add the mirror's to --allow-net)
  --help               show this help
`;

class Usage extends Error {}

function parse(argv: readonly string[]) {
  const out = { dataDir: "glue_data", tasks: ["all"], pathToMrpc: undefined as string | undefined };
  let baseUrl: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes("=") ? argv[i].split(/=(.*)/s) : [argv[i]];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "" || (inline === undefined && v.startsWith("--"))) {
        throw new Usage(`Cannot parse "${flag}": it needs a value; see --help`);
      }
      return v;
    };
    if (flag === "--data_dir") out.dataDir = value();
    else if (flag === "--path_to_mrpc") out.pathToMrpc = value();
    else if (flag === "--base_url") baseUrl = value();
    else if (flag === "--tasks") {
      out.tasks = [value()];
      while (i + 1 < argv.length && !argv[i + 1].startsWith("--")) out.tasks.push(argv[++i]);
    } else {
      throw new Usage(
        `Cannot parse "${argv[i]}": unknown flag; expected --data_dir, --tasks, --path_to_mrpc, ` +
          `--base_url or --help`,
      );
    }
  }
  try {
    resolveDownloadTasks(out.tasks);
  } catch (e) {
    throw new Usage((e as Error).message);
  }
  return { ...out, baseUrl };
}

/** Runs the command on `argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  try {
    const options = parse(argv);
    const result = await downloadGlue({ ...options, onInfo: (line) => console.error(line) });
    console.error(
      `GLUE in ${options.dataDir}: ${result.downloaded.length} downloaded, ` +
        `${result.skipped.length} already there`,
    );
    return 0;
  } catch (e) {
    // DataError and file-system errors alike: one line, no stack.
    console.error(`error: ${(e as Error).message}`);
    return e instanceof Usage ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
