import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import {
  BERT_CONFIG_FIELDS,
  bertConfigFromJson,
  bertConfigToJson,
  readBertConfig,
} from "./config.ts";
import { CheckpointError } from "./errors.ts";

const MINIMAL = {
  vocab_size: 100,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 32,
};

Deno.test({
  name: "readBertConfig() reads both tiny camphr configs",
  ignore: !hasData("tiny-bert-camphr-ner"),
  async fn() {
    const ner = await readBertConfig(dataPath("tiny-bert-camphr-ner/config.json"));
    deepEqual(
      [ner.vocabSize, ner.hiddenSize, ner.numHiddenLayers, ner.numAttentionHeads],
      [402, 16, 1, 1],
    );
    equal(ner.intermediateSize, 64);
    equal(ner.maxPositionEmbeddings, 16);
    equal(ner.hiddenAct, "gelu");
    equal(ner.layerNormEps, 1e-12);
    equal(ner.extra._num_labels, 9);
    deepEqual(ner.extra.architectures, ["BertForTokenClassification"]);
    const base = await readBertConfig(dataPath("tiny-bert-camphr-base/config.json"));
    deepEqual([base.vocabSize, base.hiddenSize, base.numHiddenLayers], [1000, 2, 2]);
    // Writing it back gives the original file's object.
    const original = JSON.parse(
      await Deno.readTextFile(dataPath("tiny-bert-camphr-base/config.json")),
    );
    deepEqual(bertConfigToJson(base), original);
  },
});

Deno.test("bertConfigFromJson() fills transformers defaults and keeps unknown keys", () => {
  const cfg = bertConfigFromJson({ ...MINIMAL, id2label: { 0: "A" } }, "c.json");
  equal(cfg.hiddenAct, "gelu");
  equal(cfg.hiddenDropoutProb, 0.1);
  equal(cfg.attentionProbsDropoutProb, 0.1);
  equal(cfg.maxPositionEmbeddings, 512);
  equal(cfg.typeVocabSize, 2);
  equal(cfg.initializerRange, 0.02);
  deepEqual(cfg.extra, { id2label: { 0: "A" } });
  const json = bertConfigToJson(cfg);
  deepEqual(Object.keys(json), Object.keys(json).toSorted());
  equal(json.hidden_size, 8);
});

Deno.test("bertConfigFromJson() errors name the field and the file", () => {
  const cases: [object, RegExp][] = [
    [{ ...MINIMAL, hidden_size: undefined }, /"hidden_size" is missing/],
    [{ ...MINIMAL, vocab_size: 0 }, /"vocab_size" is 0, expected a positive integer/],
    [{ ...MINIMAL, num_hidden_layers: 1.5 }, /"num_hidden_layers" is 1.5/],
    [
      { ...MINIMAL, hidden_dropout_prob: 1 },
      /"hidden_dropout_prob" is 1, expected a number in \[0, 1\)/,
    ],
    [{ ...MINIMAL, layer_norm_eps: -1 }, /"layer_norm_eps" is -1, expected a positive number/],
    [{ ...MINIMAL, hidden_act: "" }, /"hidden_act" is "", expected a non-empty string/],
    [
      { ...MINIMAL, num_attention_heads: 3 },
      /"hidden_size" 8 is not a multiple of "num_attention_heads" 3/,
    ],
  ];
  for (const [obj, pattern] of cases) {
    const clean = JSON.parse(JSON.stringify(obj)); // drops undefined keys
    throws(() => bertConfigFromJson(clean, "models/x/config.json"), (e) => {
      ok(e instanceof CheckpointError, String(e));
      ok(pattern.test(e.message), `"${e.message}" does not match ${pattern}`);
      ok(e.message.includes(`"models/x/config.json"`), e.message);
      return true;
    });
  }
  throws(() => bertConfigFromJson([1], "c.json"), /it is not a JSON object/);
});

Deno.test("readBertConfig() reports invalid JSON with the path", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, "{ nope");
    await rejects(readBertConfig(path), (e) => e instanceof CheckpointError && e.file === path);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("BERT_CONFIG_FIELDS maps every field to its snake_case key exactly once", () => {
  const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  for (const f of BERT_CONFIG_FIELDS) equal(f.json, snake(f.field));
  equal(new Set(BERT_CONFIG_FIELDS.map((f) => f.json)).size, BERT_CONFIG_FIELDS.length);
});
