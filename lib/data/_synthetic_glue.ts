/**
 * Writes small GLUE folders in the real layout for tests: MNLI and QQP (which the shared data
 * lacks) and single broken files. Test-only; nothing in the library imports it.
 *
 * @module
 */

const MNLI_TRAIN_HEAD = [
  "index",
  "promptID",
  "pairID",
  "genre",
  "sentence1_binary_parse",
  "sentence2_binary_parse",
  "sentence1_parse",
  "sentence2_parse",
  "sentence1",
  "sentence2",
  "label1",
  "gold_label",
];
const MNLI_DEV_HEAD = [
  ...MNLI_TRAIN_HEAD.slice(0, 11),
  "label2",
  "label3",
  "label4",
  "label5",
  "gold_label",
];
const MNLI_LABELS = ["contradiction", "entailment", "neutral"];

function mnliRow(i: number, head: string[], labelled: boolean): string {
  const cells = head.map((h) => `${h}-${i}`);
  cells[0] = String(i);
  cells[8] = `The premise number ${i} is here.`;
  cells[9] = `Hypothesis ${i}.`;
  if (labelled) {
    for (let c = 10; c < head.length; c++) cells[c] = MNLI_LABELS[(i + c) % 3];
    cells[head.length - 1] = MNLI_LABELS[i % 3];
  }
  return cells.join("\t");
}

/** Sizes of the synthetic splits written by {@linkcode writeSyntheticGlue}. */
export const SYNTHETIC = {
  mnliTrain: 37,
  mnliDev: 11,
  mnliDevMm: 9,
  mnliTest: 5,
  qqpTrain: 23,
  qqpShortRows: 3,
  qqpDev: 8,
  qqpTest: 6,
} as const;

/** Writes `MNLI/` and `QQP/` in download_glue_data.py layout under `dir`. */
export async function writeSyntheticGlue(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/MNLI`, { recursive: true });
  await Deno.mkdir(`${dir}/QQP`, { recursive: true });
  const lines = (head: string[], n: number, labelled: boolean) =>
    [head.join("\t"), ...Array.from({ length: n }, (_, i) => mnliRow(i, head, labelled))].join(
      "\n",
    ) + "\n";
  const testHead = MNLI_TRAIN_HEAD.slice(0, 10);
  await Deno.writeTextFile(
    `${dir}/MNLI/train.tsv`,
    lines(MNLI_TRAIN_HEAD, SYNTHETIC.mnliTrain, true),
  );
  await Deno.writeTextFile(
    `${dir}/MNLI/dev_matched.tsv`,
    lines(MNLI_DEV_HEAD, SYNTHETIC.mnliDev, true),
  );
  await Deno.writeTextFile(
    `${dir}/MNLI/dev_mismatched.tsv`,
    lines(MNLI_DEV_HEAD, SYNTHETIC.mnliDevMm, true),
  );
  await Deno.writeTextFile(
    `${dir}/MNLI/test_matched.tsv`,
    lines(testHead, SYNTHETIC.mnliTest, false),
  );
  await Deno.writeTextFile(
    `${dir}/MNLI/test_mismatched.tsv`,
    lines(testHead, SYNTHETIC.mnliTest, false),
  );

  const qqp = (n: number, short: number) => {
    const out = ["id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate"];
    for (let i = 0; i < n; i++) {
      out.push(
        `${i}\t${2 * i}\t${2 * i + 1}\tHow do I ask question ${i}?\tWhat is question ${i}?\t${
          i % 2
        }`,
      );
      // Short rows as they occur in the raw QQP dump: a question broken over lines.
      if (i < short) out.push(`${100 + i}\t${200 + i}\tA question cut short`);
    }
    return out.join("\r\n") + "\r\n";
  };
  await Deno.writeTextFile(`${dir}/QQP/train.tsv`, qqp(SYNTHETIC.qqpTrain, SYNTHETIC.qqpShortRows));
  await Deno.writeTextFile(`${dir}/QQP/dev.tsv`, qqp(SYNTHETIC.qqpDev, 0));
  const test = ["id\tquestion1\tquestion2"];
  for (let i = 0; i < SYNTHETIC.qqpTest; i++) {
    test.push(`${i}\tIs ${i} a test?\tIs ${i} a question?`);
  }
  await Deno.writeTextFile(`${dir}/QQP/test.tsv`, test.join("\n") + "\n");
}

/** Writes `<dir>/<folder>/<file>` with `content`, creating the folder. */
export async function writeGlueFile(
  dir: string,
  folder: string,
  file: string,
  content: string | Uint8Array,
): Promise<string> {
  await Deno.mkdir(`${dir}/${folder}`, { recursive: true });
  const path = `${dir}/${folder}/${file}`;
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}
