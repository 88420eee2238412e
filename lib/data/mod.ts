/**
 * The data side of camtl: the task registry (GLUE's tasks, the tasks beyond GLUE — SuperGLUE,
 * WNUT-2017, SQuAD, MRQA — and any others registered), their readers, features for every head
 * kind and their cache, dynamic-padding batches, the four multi-task samplers (sequential,
 * uniform, proportional, MT-Uncertainty) with exact save and restore, metrics and submission
 * files.
 *
 * @example Features for two tasks, an MT-Uncertainty epoch, metrics
 * ```ts ignore
 * import { BertTokenizer } from "../text/tokenizer.ts";
 * import { glueComputeMetrics, loadGlueFeatures, MtUncertaintySampler } from "./mod.ts";
 * const tokenizer = await BertTokenizer.fromFolder("../shared/data/bert-base-cased");
 * const sets = await Promise.all(["rte", "mrpc"].map(async (task, taskId) =>
 *   (await loadGlueFeatures({ dataDir: "../shared/data/glue", task, taskId, split: "train",
 *     tokenizer, maxSeqLength: 128, cacheDir: "/tmp/camtl-cache" })).features));
 * const sampler = new MtUncertaintySampler(sets, { batchSize: 32, seed: 12, scorer });
 * for await (const batch of sampler) await trainStep(batch);
 * console.log(glueComputeMetrics("mrpc", preds, labels)); // { acc, f1, acc_and_f1 }
 * ```
 *
 * @module
 */

export * from "./data_error.ts";
export * from "./tasks.ts";
export * from "./tsv.ts";
export * from "./glue.ts";
export * from "./features.ts";
export * from "./cache.ts";
export * from "./loader.ts";
export * from "./sampler.ts";
export * from "./samplers.ts";
export * from "./mt_uncertainty.ts";
export * from "./metrics.ts";
export * from "./predictions.ts";
export * from "./lines.ts";
export * from "./beyond_glue.ts";
export * from "./data_layout.ts";
export * from "./superglue.ts";
export * from "./conll.ts";
export * from "./squad.ts";
export * from "./feature_extras.ts";
export * from "./token_features.ts";
export * from "./span_features.ts";
export * from "./span_answers.ts";
export * from "./superglue_features.ts";
export * from "./task_features.ts";
export * from "./task_outputs.ts";
export * from "./squad_metrics.ts";
export * from "./ner_metrics.ts";
export * from "./superglue_metrics.ts";
export * from "./submissions.ts";
