/**
 * The small classifier's training step written once against camtl's lower layers, for
 * `bench:compare`: the same loop runs on the modules of this checkout and of an older one, so
 * that only the library under it differs. It is the loop `classifierCase` times with the public
 * API (BERT encoder, dropout 0.1 on the pooled [CLS], a linear head, mean cross-entropy,
 * backward, clip to norm 1, AdamW with no decay on biases and LayerNorm weights, zero grad),
 * built from `BertModel`, `Linear`, `Dropout`, `crossEntropy`, `clipGradNorm`, `AdamW` and
 * `zeroGrad`, which both checkouts have with these signatures.
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import type { Batch } from "../../lib/data/loader.ts";
import type { Gpu } from "../../lib/gpu/device.ts";
import type { ClassifierShape } from "./classifier_batches.ts";
import { benchConfig } from "./camtl.ts";
import type { Case } from "./timing.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** The modules of one checkout the loop needs, imported from its root folder. */
export async function loopModules(root: string): Promise<Record<string, Any>> {
  const load = (path: string) => import(pathToFileURL(`${root}/${path}`).href);
  const [model, layers, ce, clip, adamw, backward, inputs] = await Promise.all([
    load("lib/nn/bert/model.ts"),
    load("lib/nn/layers.ts"),
    load("lib/ops/cross_entropy.ts"),
    load("lib/optim/clip.ts"),
    load("lib/optim/adamw.ts"),
    load("lib/autograd/backward.ts"),
    load("lib/nn/bert/inputs.ts"),
  ]);
  const tensor = await load("lib/autograd/tensor.ts");
  // zeroGrad moved from autograd/backward.ts to optim/zero_grad.ts.
  const zeroGrad = backward.zeroGrad ?? (await load("lib/optim/zero_grad.ts")).zeroGrad;
  return {
    ...model,
    ...layers,
    ...ce,
    ...clip,
    ...adamw,
    ...backward,
    ...inputs,
    ...tensor,
    zeroGrad,
  };
}

/** The loop on `gpu` with the modules `m` (from {@linkcode loopModules}). */
export function classifierLoop(
  m: Record<string, Any>,
  gpu: Gpu,
  s: ClassifierShape,
  batches: readonly Batch[],
): Case {
  const config = {
    ...benchConfig(s, s.layers, s.vocab),
    hiddenDropoutProb: 0.1,
    attentionProbsDropoutProb: 0.1,
  };
  const bert = new m.BertModel(config, { seed: 1 }).materialize(gpu, 1);
  const dropout = new m.Dropout(0.1, bert.seeds);
  const head = new m.Linear(s.H, s.classes, { std: 0.02 }).materialize(gpu, 2);
  bert.train();
  dropout.train();
  const named: [string, Any][] = [
    ...bert.namedParameters(),
    ...head.namedParameters("classifier."),
  ];
  const params = named.map(([, p]) => p.value);
  const opt = new m.AdamW(
    named.map(([name, p]) => ({
      param: p.value,
      weightDecay: /bias$|LayerNorm\.weight$/.test(name) ? 0 : 0.01,
    })),
    { lr: 1e-4 },
  );
  const uploads = batches.map((b) => ({
    inputs: m.uploadBatch(gpu, {
      inputIds: b.inputIds,
      tokenTypeIds: b.tokenTypeIds,
      attentionMask: b.attentionMask,
      batchSize: b.size,
      seqLength: b.seqLen,
    }),
    labels: m.fromArray(gpu, b.tasks[0].labels!, [b.size], { dtype: "i32", persistent: true }),
  }));
  let next = 0;
  return {
    async run() {
      const { inputs, labels } = uploads[next++ % uploads.length];
      // The library's [CLS]-only path where the checkout has it (bert.pool), as its
      // BertForSequenceClassification takes it.
      const pooled = bert.pool ? bert.pool(inputs) : bert.forward(inputs).pooled;
      const logits = head.forward(dropout.forward(pooled));
      m.backward(m.crossEntropy({ logits }, { labels }));
      m.clipGradNorm(params, 1.0);
      opt.step();
      m.zeroGrad(params);
      await gpu.sync();
    },
    dispose() {
      opt.dispose();
      bert.dispose();
      head.dispose();
    },
  };
}
