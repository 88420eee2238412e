/**
 * Parts that do not belong together are refused at load time, naming both sides: the shipped
 * token-classification fixture's 405-token vocabulary against its vocab_size of 402, a
 * config.json that disagrees with its weights, and tasks that are not a saved model's heads.
 */
import assert from "node:assert/strict";
import { CheckpointError } from "../io/errors.ts";
import { BertTokenizer } from "../text/tokenizer.ts";
import { saveModel } from "../train/checkpoint.ts";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { BertModel } from "./bert/model.ts";
import { caMtlTinyBert } from "./ca_mtl/config.ts";
import { CaMtl } from "./ca_mtl/model.ts";
import { caMtlConfigToJson, loadCaMtl } from "./ca_mtl/pretrained.ts";
import { checkVocabularyFits } from "./matching_parts.ts";

const TINY = new URL("../../tests/fixtures/tiny_bert", import.meta.url).pathname;
const NER = "tiny-bert-camphr-ner";

gpuTest(
  "the NER fixture's 405-token vocab.txt is refused for its vocab_size 402 at load",
  async (gpu) => {
    if (!hasData(NER)) return;
    const folder = dataPath(NER);
    const tokenizer = await BertTokenizer.fromFolder(folder);
    assert.equal(tokenizer.vocabSize, 405);
    await assert.rejects(
      loadCaMtl(folder, {
        gpu,
        tasks: [{ name: "rte", numLabels: 2 }],
        maxSeqLength: 16,
        vocabSize: tokenizer.vocabSize,
        vocabSource: tokenizer.vocab.source,
      }),
      (e: Error) =>
        e instanceof CheckpointError &&
        e.message ===
          `Cannot use the tokenizer "${folder}/vocab.txt" (405 tokens) with the model ` +
            `"${folder}/config.json" (vocab_size 402): token ids 402 to 404 have no embedding ` +
            "row; use the tokenizer saved with the model, or a model whose vocab_size is at least 405",
    );
  },
);

Deno.test("checkVocabularyFits() accepts a vocabulary smaller than a padded table", () => {
  checkVocabularyFits({ size: 30522, source: "v" }, { vocabSize: 30528, source: "c" });
  assert.throws(
    () => checkVocabularyFits({ size: 11, source: "v" }, { vocabSize: 10, source: "c" }),
    /token id 10 has no embedding row/,
  );
});

gpuTest("a config.json that disagrees with its weights is named with them", async (gpu) => {
  const dir = await Deno.makeTempDir();
  try {
    const config = JSON.parse(await Deno.readTextFile(`${TINY}/config.json`));
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...config, vocab_size: 500 }));
    await Deno.copyFile(`${TINY}/model.safetensors`, `${dir}/model.safetensors`);
    const blamed = (e: Error) =>
      e instanceof CheckpointError &&
      e.message.startsWith(
        `Cannot load "${dir}/model.safetensors": its weights disagree with "${dir}/config.json"`,
      ) &&
      /"(bert\.)?embeddings\.word_embeddings\.weight" expected \[500,64\] found \[512,64\]/.test(
        e.message,
      );
    await assert.rejects(BertModel.fromPretrained(gpu, dir), blamed);
    const tasks = [{ name: "rte", numLabels: 2 }];
    await assert.rejects(loadCaMtl(dir, { gpu, tasks, maxSeqLength: 64 }), blamed);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

gpuTest("tasks that are not a saved model's heads are refused, naming both lists", async (gpu) => {
  const tasks = [{ name: "rte", numLabels: 2 }, { name: "sts-b", numLabels: 1 }];
  const model = new CaMtl({
    architecture: "CA-MTL-base",
    bert: { ...caMtlTinyBert(300), hiddenSize: 32, numAttentionHeads: 2, intermediateSize: 64 },
    tasks,
    maxSeqLength: 16,
  }).materialize(gpu, 4);
  const dir = await Deno.makeTempDir();
  try {
    await saveModel(dir, model, caMtlConfigToJson(model.config));
    for (
      const asked of [[tasks[1], tasks[0]], [tasks[0]], [tasks[0], { name: "sts-b", numLabels: 3 }]]
    ) {
      await assert.rejects(
        loadCaMtl(dir, { gpu, tasks: asked, maxSeqLength: 16 }),
        (e: Error) =>
          e instanceof CheckpointError &&
          e.message.startsWith(`Cannot use the model "${dir}/config.json" for tasks `) &&
          e.message.includes(
            "it was saved with heads for rte (2 labels), sts-b (1 label); ask " +
              "for those tasks in that order (--tasks rte sts-b)",
          ),
      );
    }
    const again = await loadCaMtl(dir, { gpu, tasks, maxSeqLength: 16 });
    assert.deepEqual(
      again.model.config.tasks,
      tasks.map((t) => ({ ...t, head: "classification" })),
    );
    again.model.dispose();
  } finally {
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
