"""CA-MTL-tiny's MT-Uncertainty step in PyTorch, the torch side of `bench:torch`'s demo benchmark.

What camtl computes (`bench/peers/ca_mtl_tiny.ts`, the model of `lib/nn/ca_mtl/`), written with
torch's functional ops over a dict of parameters under camtl's (the released code's) keys:

- embeddings (word, position, token type; LayerNorm; dropout), aligned to the task by a FiLM of
  the task embedding z; z' = task_transformation(z) conditions every layer;
- CA-MTL-base's stack: the lower half plain layers, then layers with conditional layer norm, the
  top one built fresh (``new_*``) and ended by the conditional bottleneck adapter,
  ``CLN(bottleneck(z', f) + a)``; every layer's self-attention adds the conditional
  block-diagonal bias (the FiLM-modulated ``random_weight_matrix`` laid out in diagonal blocks,
  cropped to the batch's length);
- the tanh pooler on [CLS], and per task present dropout and a linear head; the loss is the
  mean over the tasks present of each task's mean loss (cross-entropy, or MSE for one output).

A step (``mtu_step``): the candidate pool (the next b examples of every task) goes through the
model without gradients, dropout on; each candidate's normalised entropy H/(ln C + 1e-5), its
task's mean, and the score entropy · task mean / largest task mean rank the pool (the STS-B
twin takes the MRPC twin's scores, regression having none); the b best (ties to the earlier)
are trained on, in pool order, padded to the longest of them.

The JSON that ``load`` reads (``poolsJson`` in ``ca_mtl_tiny.ts``) holds the sizes, the tasks
(name, labels, GLUE twin) and the candidate pools.
"""

import json
import math

import torch
import torch.nn.functional as F

BENCH = "ca_mtl_tiny_mtu_step[L=4,b=32 of 3x32,T<=64,H=128,demo]"


def load(path):
    """The sizes, tasks and pools; each pool's arrays as tensors."""
    with open(path) as f:
        spec = json.load(f)
    pools = []
    for pool in spec["pools"]:
        shape = (pool["B"], pool["T"])
        pools.append({
            "ids": torch.tensor(pool["ids"]).reshape(shape),
            "types": torch.tensor(pool["types"]).reshape(shape),
            "mask": torch.tensor(pool["mask"]).reshape(shape),
            "task_ids": torch.tensor(pool["task_ids"]),
            "labels": torch.tensor(pool["labels"], dtype=torch.float32),
        })
    spec["pools"] = pools
    return spec


def _shapes(cfg, tasks):
    """Every parameter's key, shape and initialisation (normal, zeros or ones), as camtl's."""
    H, I, L = cfg["hidden"], cfg["inter"], cfg["L"]
    width = math.ceil(L / (H // L))
    out = [("bert.task_type_embeddings.weight", (len(tasks), H), "normal")]

    def linear(name, n_in, n_out):
        out.append((f"{name}.weight", (n_out, n_in), "normal"))
        out.append((f"{name}.bias", (n_out,), "zeros"))

    def norm(name, conditional):
        out.append((f"{name}.weight", (H,), "ones"))
        out.append((f"{name}.bias", (H,), "zeros"))
        if conditional:
            linear(f"{name}.ln_weight_modulation.gb_weights", H, 2 * H)

    def block(pre, conditional):
        out.append((f"{pre}attention.self.random_weight_matrix", (L, width), "zeros"))
        for k in ("query", "key", "value"):
            linear(f"{pre}attention.self.{k}", H, H)
        linear(f"{pre}attention.self.cond_block_diag_attn.gb_weights", H, 2 * width)
        linear(f"{pre}attention.output.dense", H, H)
        norm(f"{pre}attention.output.LayerNorm", conditional)
        linear(f"{pre}intermediate.dense", H, I)
        linear(f"{pre}output.dense", I, H)
        norm(f"{pre}output.LayerNorm", conditional)

    linear("bert.conditional_alignment.gb_weights", H, 2 * H)
    out.append(("bert.embeddings.word_embeddings.weight", (cfg["vocab"], H), "normal"))
    out.append(("bert.embeddings.position_embeddings.weight", (cfg["positions"], H), "normal"))
    out.append(("bert.embeddings.token_type_embeddings.weight", (2, H), "normal"))
    norm("bert.embeddings.LayerNorm", False)
    linear("bert.encoder.task_transformation", H, H)
    n = cfg["layers"]
    for i in range(n - 1):
        block(f"bert.encoder.layer.{i}.", i >= n // 2)
    top = f"bert.encoder.layer.{n - 1}."
    block(f"{top}new_", True)
    linear(f"{top}adapter.bottleneck.emb_transf", H, H)
    linear(f"{top}adapter.bottleneck.hidden_modulation.gb_weights", H, 2 * H)
    linear(f"{top}adapter.bottleneck.down_proj_layer", H, H // 3)
    linear(f"{top}adapter.bottleneck.up_proj_layer", H // 3, H)
    norm(f"{top}adapter.condlayernorm", True)
    linear("bert.pooler.dense", H, H)
    for t, task in enumerate(tasks):
        linear(f"decoders.{t}.model", H, task["num_labels"])
    return out


def init_params(spec, gen):
    """N(0, 0.02) weights and embeddings, zero biases and block matrices, unit norm gains."""
    make = {
        "normal": lambda s: torch.randn(s, generator=gen) * 0.02,
        "zeros": torch.zeros,
        "ones": torch.ones,
    }
    return {k: make[kind](shape) for k, shape, kind in _shapes(spec["config"], spec["tasks"])}


def _linear(p, name, x):
    return F.linear(x, p[f"{name}.weight"], p[f"{name}.bias"])


def _film(p, name, cond, x):
    """(1 + gamma(cond)) * x + beta(cond), per example; x is [D], [R, D] or [B, R, D]."""
    gamma, beta = _linear(p, f"{name}.gb_weights", cond).chunk(2, dim=-1)
    if x.dim() == 1:
        return (1 + gamma) * x + beta
    return (1 + gamma[:, None]) * x + beta[:, None]


def _norm(p, name, x, zt, eps):
    """LayerNorm; with a modulation, the gain is FiLM-modulated by z' per example."""
    H = x.shape[-1]
    if f"{name}.ln_weight_modulation.gb_weights.weight" not in p:
        return F.layer_norm(x, (H,), p[f"{name}.weight"], p[f"{name}.bias"], eps)
    gain = _film(p, f"{name}.ln_weight_modulation", zt, p[f"{name}.weight"])  # [B, H]
    return F.layer_norm(x, (H,), None, None, eps) * gain[:, None] + p[f"{name}.bias"]


def _block_bias(p, name, zt, s):
    """The conditional attention bias [B, s, s]: modulated A [B, L, w] in diagonal blocks."""
    a = _film(p, f"{name}.cond_block_diag_attn", zt, p[f"{name}.random_weight_matrix"])
    B, L, w = a.shape
    m = a.new_zeros(B, L, math.ceil(L / w) * w)
    for k, r in enumerate(range(0, L, w)):
        m[:, r:r + w, k * w:(k + 1) * w] = a[:, r:r + w]
    return m[:, :s, :s]


def _layer(p, pre, h, mask_bias, zt, cfg, drop, top):
    B, s, H = h.shape
    heads, eps = cfg["heads"], cfg["eps"]
    d = H // heads
    blk = f"{pre}new_" if top else pre

    def split(t):
        return t.view(B, s, heads, d).transpose(1, 2)

    def residual(name, x, res):
        return _norm(p, f"{name}.LayerNorm", drop(_linear(p, f"{name}.dense", x)) + res, zt, eps)

    att = f"{blk}attention.self"
    q, k, v = (split(_linear(p, f"{att}.{n}", h)) for n in ("query", "key", "value"))
    scores = (q @ k.transpose(-1, -2) / math.sqrt(d) + _block_bias(p, att, zt, s)[:, None]
              + mask_bias[:, None, None, :])
    ctx = (drop(torch.softmax(scores, -1)) @ v).transpose(1, 2).reshape(B, s, H)
    a = residual(f"{blk}attention.output", ctx, h)
    f = residual(f"{blk}output", F.gelu(_linear(p, f"{blk}intermediate.dense", a)), a)
    if not top:
        return f
    ad = f"{pre}adapter"
    x = _film(p, f"{ad}.bottleneck.hidden_modulation",
              _linear(p, f"{ad}.bottleneck.emb_transf", zt), f)
    x = _linear(p, f"{ad}.bottleneck.down_proj_layer", x)
    x = _linear(p, f"{ad}.bottleneck.up_proj_layer", x)
    return _norm(p, f"{ad}.condlayernorm", x + a, zt, eps)


def forward(p, spec, batch, train):
    """Each present task's (rows, logits), tasks ascending; dropout only when ``train``."""
    cfg = spec["config"]
    rate = cfg["dropout"]

    def drop(t):
        return F.dropout(t, rate, train)

    ids, task_ids = batch["ids"], batch["task_ids"]
    s, H = ids.shape[1], cfg["hidden"]
    e = (F.embedding(ids, p["bert.embeddings.word_embeddings.weight"], padding_idx=0)
         + p["bert.embeddings.position_embeddings.weight"][:s]
         + F.embedding(batch["types"], p["bert.embeddings.token_type_embeddings.weight"]))
    x = drop(_norm(p, "bert.embeddings.LayerNorm", e, None, cfg["eps"]))
    z = F.embedding(task_ids, p["bert.task_type_embeddings.weight"])
    h = _film(p, "bert.conditional_alignment", z, x)
    zt = _linear(p, "bert.encoder.task_transformation", z)
    mask_bias = (1.0 - batch["mask"].float()) * -10000.0
    n = cfg["layers"]
    for i in range(n):
        h = _layer(p, f"bert.encoder.layer.{i}.", h, mask_bias, zt, cfg, drop, i == n - 1)
    pooled = torch.tanh(_linear(p, "bert.pooler.dense", h[:, 0]))
    out = []
    for t in sorted(set(task_ids.tolist())):
        rows = (task_ids == t).nonzero().flatten()
        # The heads' dropout is 0.1 whatever the config says, as in camtl's Decoder.
        head = F.dropout(pooled[rows], 0.1, train)
        out.append((t, rows, _linear(p, f"decoders.{t}.model", head)))
    return out


def loss_of(spec, heads, labels):
    """Mean over the tasks present of each task's mean loss."""
    losses = []
    for t, rows, logits in heads:
        if spec["tasks"][t]["num_labels"] == 1:
            losses.append(F.mse_loss(logits.view(-1), labels[rows]))
        else:
            losses.append(F.cross_entropy(logits, labels[rows].long()))
    return torch.stack(losses).mean()


def mtu_scores(spec, heads, size):
    """Each pool row's MT-Uncertainty score (the released code's), as float64."""
    entropy, means = {}, {}
    for t, rows, logits in heads:
        C = spec["tasks"][t]["num_labels"]
        if C == 1:
            e = torch.zeros(len(rows), dtype=torch.float64)
        else:
            logp = torch.log_softmax(logits.double(), -1)
            e = (-(logp.exp() * logp).sum(-1)).clamp_min(0) / (math.log(C) + 1e-5)
        entropy[t], means[t] = e, e.mean().item()
    h_max = max([0.0, *means.values()])
    scores = {t: e * (means[t] / h_max) if h_max > 0 else torch.zeros_like(e)
              for t, e in entropy.items()}
    twins = {task["twin"]: t for t, task in enumerate(spec["tasks"])}
    stsb, mrpc = twins.get("sts-b"), twins.get("mrpc")
    if stsb in scores and mrpc in scores:
        k = min(len(scores[stsb]), len(scores[mrpc]))
        scores[stsb][:k] = scores[mrpc][:k]
    row_scores = torch.zeros(size, dtype=torch.float64)
    for t, rows, _ in heads:
        row_scores[rows] = scores[t]
    return row_scores


def mtu_step(p, spec, pool, train):
    """Scores the pool without gradients, keeps the best b; returns (loss, selected, scores)."""
    with torch.no_grad():
        heads = forward(p, spec, pool, train)
    row_scores = mtu_scores(spec, heads, pool["ids"].shape[0])
    b = min(spec["step"]["batchSize"], len(row_scores))
    order = torch.sort(row_scores, descending=True, stable=True).indices
    selected = order[:b].sort().values
    T = int(pool["mask"][selected].sum(1).max())
    batch = {k: (v[selected][:, :T] if v.dim() == 2 else v[selected]) for k, v in pool.items()}
    loss = loss_of(spec, forward(p, spec, batch, train), batch["labels"])
    return loss, selected, row_scores


def check(spec, params):
    """One step in eval mode on the first pool, for camtl's weights: loss, selection, scores."""
    p = {k: torch.tensor(v["data"], dtype=torch.float32).reshape(v["shape"]).requires_grad_()
         for k, v in params.items()}
    loss, selected, scores = mtu_step(p, spec, spec["pools"][0], train=False)
    return {"loss": loss.item(), "selected": selected.tolist(), "scores": scores.tolist()}
