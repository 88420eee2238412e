/**
 * `TaskCondition`: the task vectors a CA-MTL forward pass carries through the encoder. BERT's
 * layers pass it along untouched to the parts that CA-MTL conditions (the attention bias and
 * the norms); plain BERT passes none.
 *
 * @module
 */

import type { Tensor } from "../autograd/tensor.ts";

/** The task vectors a forward pass carries: raw z (alignment) and transformed z' (the rest). */
export interface TaskCondition {
  /** `[B, C]`: z = task_type_embeddings[task_id]. */
  z: Tensor;
  /** `[B, C]`: z' = task_transformation(z). */
  zt: Tensor;
}
