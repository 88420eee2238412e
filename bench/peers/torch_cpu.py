"""PyTorch on the CPU: the peer benchmark's workloads (`bench/peers/camtl.ts`) with torch ops.

The CPU ceiling next to the WebGPU implementations: Debian's python3-torch, a fixed number of
threads (default 2, this machine's cores) for torch's OpenMP pool and for OpenBLAS.

Benchmarks (names and shapes as `bench/peers/main.ts` prints them):

- ``matmul_f32[SxSxS]``, S = 512 and 1024: ``a @ b`` of two f32 ``[S, S]`` tensors.
- ``bert_layer_fwd_bwd[B=8,T=128,H=256,NH=4,I=1024]``: one BERT encoder layer (HF ``BertLayer``,
  dropout off, exact erf GELU, LayerNorm eps 1e-12, an all-zero additive mask bias ``[B, T]``),
  then the gradient of ``sum(output)`` w.r.t. its 16 parameters.
- ``train_step[L=4,B=8,T=128,H=256,V=1000,K=2]``: word, position and token-type embeddings and
  their LayerNorm, 4 such layers, the tanh pooler on [CLS], a 2-class linear head, mean
  cross-entropy, and AdamW as Hugging Face transformers 2.11 and camtl's ``AdamW`` compute it
  (lr 1e-4, weight decay 0.01 on every parameter, bias-corrected step, decay after the update).
- ``classifier_step[…]`` (``--batches FILE``) and ``ca_mtl_tiny_mtu_step[…]`` (``--pools FILE``,
  ``torch_ca_mtl.py``): a library user's step (backward, clip to 1, AdamW without decay on
  biases and LayerNorm gains, zero grad) on the small classifier or CA-MTL-tiny with MT-Uncertainty.

Each benchmark runs ``--warmup`` untimed rounds, then ``--reps`` timed ones (at least 5), and
prints one JSON line per benchmark, as ``main.ts --json`` does:
``{"bench","impl":"torch-cpu","adapter":"cpu (2 threads, BLAS …)","median_ms","min_ms","max_ms"}``
and ``times_ms``, every rep's time.
Weights are N(0, 0.02) from torch's seeded generator, biases 0, gains 1; inputs are seeded
uniform values in [-1, 1) (not camtl's exact values: times do not depend on them).

``--check FILE`` instead reads a layer or a training step with camtl's weights and inputs (the
JSON that ``torch_cpu_test.ts`` writes) and prints the loss, every gradient and, for a step, the
parameters after one AdamW update, so that the test can compare them with camtl's (kind
``ca_mtl``: ``torch_ca_mtl.check``'s loss, selection and scores).

Run: ``/usr/bin/python3 bench/peers/torch_cpu.py [--bench matmul,layer,step] [--reps N]
[--warmup N] [--threads N]`` or ``… --check FILE``.
"""

import argparse
import json
import math
import os
import re
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch CPU side of bench/peers")
    p.add_argument("--bench", default="matmul,layer,step")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--check", metavar="FILE")
    p.add_argument("--batches", metavar="FILE", help="the classifier's batches, as JSON")
    p.add_argument("--pools", metavar="FILE", help="CA-MTL-tiny's sizes, tasks and pools, as JSON")
    a = p.parse_args(argv)
    unknown = set(a.bench.split(",")) - {"matmul", "layer", "step", "classifier", "ca_mtl"}
    if unknown or a.reps < 1 or a.warmup < 0 or a.threads < 1:
        p.error(f"cannot run: --bench has {sorted(unknown)} or --reps/--warmup/--threads is out of range")
    a.reps = max(5, a.reps)
    return a


ARGS = parse_args(sys.argv[1:])
# OpenBLAS reads its thread count when it is loaded, so this goes before `import torch`.
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import torch_ca_mtl  # noqa: E402  (beside this file; imports torch)

torch.set_num_threads(ARGS.threads)
EPS_LN = 1e-12
ADAMW = {"lr": 1e-4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}


def blas_name():
    """The BLAS library torch loaded, read from this process's memory map."""
    with open("/proc/self/maps") as f:
        maps = f.read()
    m = re.search(r"/([^/\s]*)/libopenblas\w*-r([\d.]+)\.so", maps)
    if m:
        return f"OpenBLAS {m.group(2)} ({m.group(1)})"
    m = re.search(r"/(lib(?:mkl_rt|blis|blas)[^/\s]*\.so[\d.]*)", maps)
    return m.group(1) if m else "unknown"


def adapter():
    return f"cpu ({torch.get_num_threads()} threads, BLAS {blas_name()}, torch {torch.__version__})"


# ---- the model, with Hugging Face parameter names; weights are [out, in] -----------------------

LAYER_KEYS = [
    ("attention.self.query", "linear_hh"),
    ("attention.self.key", "linear_hh"),
    ("attention.self.value", "linear_hh"),
    ("attention.output.dense", "linear_hh"),
    ("attention.output.LayerNorm", "norm"),
    ("intermediate.dense", "linear_hi"),
    ("output.dense", "linear_ih"),
    ("output.LayerNorm", "norm"),
]


def init_layer(H, ffn, gen, prefix=""):
    """One layer's 16 parameters: N(0, 0.02) weights, zero biases, unit LayerNorm gains."""
    shapes = {"linear_hh": (H, H), "linear_hi": (ffn, H), "linear_ih": (H, ffn)}
    p = {}
    for key, kind in LAYER_KEYS:
        if kind == "norm":
            p[f"{prefix}{key}.weight"] = torch.ones(H)
            p[f"{prefix}{key}.bias"] = torch.zeros(H)
        else:
            out_size = shapes[kind][0]
            p[f"{prefix}{key}.weight"] = torch.randn(shapes[kind], generator=gen) * 0.02
            p[f"{prefix}{key}.bias"] = torch.zeros(out_size)
    return p


def layer_forward(p, x, mask_bias, heads, prefix="", dropout=0.0):
    """HF BertLayer on x [B, T, H] with the additive mask bias [B, T]; returns [B, T, H]."""
    B, T, H = x.shape
    hs = H // heads

    def lin(name, t):
        return F.linear(t, p[f"{prefix}{name}.weight"], p[f"{prefix}{name}.bias"])

    def norm(name, t):
        return F.layer_norm(t, (H,), p[f"{prefix}{name}.weight"], p[f"{prefix}{name}.bias"], EPS_LN)

    def split(t):  # [B, T, H] → [B, NH, T, HS]
        return t.view(B, T, heads, hs).transpose(1, 2)

    q = split(lin("attention.self.query", x))
    k = split(lin("attention.self.key", x))
    v = split(lin("attention.self.value", x))
    scores = q @ k.transpose(-1, -2) / math.sqrt(hs) + mask_bias[:, None, None, :]
    probs = F.dropout(torch.softmax(scores, dim=-1), dropout)
    ctx = (probs @ v).transpose(1, 2).reshape(B, T, H)
    a = norm("attention.output.LayerNorm", F.dropout(lin("attention.output.dense", ctx), dropout) + x)
    u = F.gelu(lin("intermediate.dense", a))  # exact erf GELU (approximate="none")
    return norm("output.LayerNorm", F.dropout(lin("output.dense", u), dropout) + a)


def init_model(L, H, heads, ffn, V, K, gen):
    p = {
        "embeddings.word_embeddings.weight": torch.randn(V, H, generator=gen) * 0.02,
        "embeddings.position_embeddings.weight": torch.randn(512, H, generator=gen) * 0.02,
        "embeddings.token_type_embeddings.weight": torch.randn(2, H, generator=gen) * 0.02,
        "embeddings.LayerNorm.weight": torch.ones(H),
        "embeddings.LayerNorm.bias": torch.zeros(H),
    }
    for i in range(L):
        p.update(init_layer(H, ffn, gen, f"encoder.layer.{i}."))
    p["pooler.dense.weight"] = torch.randn(H, H, generator=gen) * 0.02
    p["pooler.dense.bias"] = torch.zeros(H)
    p["classifier.weight"] = torch.randn(K, H, generator=gen) * 0.02
    p["classifier.bias"] = torch.zeros(K)
    return p


def model_loss(p, ids, token_types, mask_bias, labels, L, heads, dropout=0.0):
    """BertModel (embeddings, L layers, tanh pooler on [CLS]), a linear head, mean CE.

    ``dropout`` > 0 applies HF BERT's dropouts (embeddings, attention probabilities, both
    sublayer outputs, the head's input) in training mode.
    """
    B, T = ids.shape
    H = p["embeddings.word_embeddings.weight"].shape[1]
    # padding_idx=0, as HF BertEmbeddings and camtl: the [PAD] row gets no gradient.
    e = (F.embedding(ids, p["embeddings.word_embeddings.weight"], padding_idx=0)
         + p["embeddings.position_embeddings.weight"][:T]
         + F.embedding(token_types, p["embeddings.token_type_embeddings.weight"]))
    h = F.layer_norm(e, (H,), p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"], EPS_LN)
    h = F.dropout(h, dropout)
    for i in range(L):
        h = layer_forward(p, h, mask_bias, heads, f"encoder.layer.{i}.", dropout)
    pooled = torch.tanh(F.linear(h[:, 0], p["pooler.dense.weight"], p["pooler.dense.bias"]))
    logits = F.linear(F.dropout(pooled, dropout), p["classifier.weight"], p["classifier.bias"])
    return F.cross_entropy(logits, labels)


class AdamW:
    """transformers 2.11 AdamW (correct_bias=True), the update camtl's kernels/adamw.ts makes."""

    def __init__(self, params, lr, beta1, beta2, eps, weight_decay):
        self.params = params
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, beta1, beta2, eps, weight_decay
        self.m = [torch.zeros_like(q) for q in params]
        self.v = [torch.zeros_like(q) for q in params]
        self.t = 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        step_size = self.lr * math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for q, m, v in zip(self.params, self.m, self.v):
            g = q.grad
            if g is None:  # never had a gradient (a head of a task not yet trained): skipped
                continue
            m.mul_(self.b1).add_(g, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
            q.addcdiv_(m, v.sqrt().add_(self.eps), value=-step_size)
            if self.wd > 0:
                q.add_(q, alpha=-self.lr * self.wd)


# ---- benchmarks --------------------------------------------------------------------------------

LAYER = {"B": 8, "T": 128, "H": 256, "heads": 4, "ffn": 1024}
STEP = {**LAYER, "L": 4, "V": 1000, "K": 2}


def matmul_case(S, gen):
    a = torch.rand(S, S, generator=gen) * 2 - 1
    b = torch.rand(S, S, generator=gen) * 2 - 1
    return lambda: a @ b


def layer_case(gen):
    B, T, H, heads, ffn = (LAYER[k] for k in ("B", "T", "H", "heads", "ffn"))
    p = {k: t.requires_grad_() for k, t in init_layer(H, ffn, gen).items()}
    x = torch.rand(B, T, H, generator=gen) * 2 - 1
    mask_bias = torch.zeros(B, T)
    params = list(p.values())

    def run():
        out = layer_forward(p, x, mask_bias, heads)
        torch.autograd.grad(out.sum(), params)

    return run


def step_case(gen):
    s = STEP
    p = {k: t.requires_grad_() for k, t in init_model(
        s["L"], s["H"], s["heads"], s["ffn"], s["V"], s["K"], gen).items()}
    ids = torch.randint(0, s["V"], (s["B"], s["T"]), generator=gen)
    labels = torch.randint(0, s["K"], (s["B"],), generator=gen)
    token_types = torch.zeros(s["B"], s["T"], dtype=torch.long)
    mask_bias = torch.zeros(s["B"], s["T"])
    params = list(p.values())
    opt = AdamW(params, **ADAMW)

    def run():
        for q in params:
            q.grad = None
        model_loss(p, ids, token_types, mask_bias, labels, s["L"], s["heads"]).backward()
        opt.step()

    return run


CLASSIFIER_BENCH = "classifier_step[L=2,B=32,T<=64,H=128,V=30522,K=2,sst-2]"
CLASSIFIER = {"L": 2, "H": 128, "heads": 2, "ffn": 512, "V": 30522, "K": 2, "dropout": 0.1}


def classifier_case(gen):
    """A library user's step: forward with dropout 0.1, backward, clip to 1, AdamW, zero grad.

    Decay 0.01 except biases and LayerNorm weights (as camtl's groupParameters and HF's
    examples group them); one batch of ``--batches`` per call, cycling.
    """
    s = CLASSIFIER
    with open(ARGS.batches) as f:
        batches = []
        for b in json.load(f):
            shape = (b["B"], b["T"])
            mask = torch.tensor(b["mask"], dtype=torch.float32).reshape(shape)
            batches.append((torch.tensor(b["ids"]).reshape(shape),
                            torch.tensor(b["types"]).reshape(shape),
                            (1 - mask) * -10000.0, torch.tensor(b["labels"])))
    p = {k: t.requires_grad_() for k, t in init_model(
        s["L"], s["H"], s["heads"], s["ffn"], s["V"], s["K"], gen).items()}

    def loss(i):
        ids, types, mask_bias, labels = batches[i % len(batches)]
        return model_loss(p, ids, types, mask_bias, labels, s["L"], s["heads"], s["dropout"])

    return user_step(p, loss, ADAMW["lr"])


def user_step(p, loss, lr):
    """A library user's step on ``loss(i)`` (i counts calls): backward, clip to 1, AdamW, zero.

    Decay 0.01 except biases and LayerNorm gains, by camtl's ``noDecay`` rule on the keys.
    """
    keep = [k for k in p if "bias" in k or "LayerNorm.weight" in k]
    decay = [q for k, q in p.items() if k not in keep]
    opts = [AdamW(decay, **{**ADAMW, "lr": lr}),
            AdamW([p[k] for k in keep], **{**ADAMW, "lr": lr, "weight_decay": 0.0})]
    params = list(p.values())
    state = {"next": 0}

    def run():
        loss(state["next"]).backward()
        state["next"] += 1
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        for o in opts:
            o.step()
        for q in params:  # zeroed in place, as camtl's zeroGrad and torch 1.13's zero_grad()
            if q.grad is not None:
                q.grad.zero_()

    return run


def ca_mtl_case(gen):
    """CA-MTL-tiny's MT-Uncertainty step (``torch_ca_mtl.py``), cycling through ``--pools``."""
    spec = torch_ca_mtl.load(ARGS.pools)
    p = {k: t.requires_grad_() for k, t in torch_ca_mtl.init_params(spec, gen).items()}
    pools = spec["pools"]
    return user_step(p, lambda i: torch_ca_mtl.mtu_step(p, spec, pools[i % len(pools)], True)[0],
                     spec["step"]["lr"])


def time_case(bench, run):
    for _ in range(ARGS.warmup):
        run()
    times = []
    for _ in range(ARGS.reps):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({
        "bench": bench,
        "impl": "torch-cpu",
        "adapter": adapter(),
        "median_ms": times[len(times) // 2],
        "min_ms": times[0],
        "max_ms": times[-1],
        "times_ms": times,
    }, separators=(",", ":")), flush=True)


def bench_all():
    gen = torch.Generator().manual_seed(1)
    wanted = ARGS.bench.split(",")
    if "matmul" in wanted:
        for S in (512, 1024):
            time_case(f"matmul_f32[{S}x{S}x{S}]", matmul_case(S, gen))
    if "layer" in wanted:
        s = LAYER
        time_case(f"bert_layer_fwd_bwd[B={s['B']},T={s['T']},H={s['H']},NH={s['heads']},"
                  f"I={s['ffn']}]", layer_case(gen))
    if "classifier" in wanted:
        if not ARGS.batches:
            raise SystemExit("Cannot run the classifier: --batches FILE is missing")
        time_case(CLASSIFIER_BENCH, classifier_case(gen))
    if "ca_mtl" in wanted:
        if not ARGS.pools:
            raise SystemExit("Cannot run CA-MTL-tiny: --pools FILE is missing")
        time_case(torch_ca_mtl.BENCH, ca_mtl_case(gen))
    if "step" in wanted:
        s = STEP
        time_case(f"train_step[L={s['L']},B={s['B']},T={s['T']},H={s['H']},V={s['V']},"
                  f"K={s['K']}]", step_case(gen))


# ---- the cross-check with camtl ------------------------------------------------------------------

def check(path):
    """Loss and gradients (and, for a step, updated parameters) for camtl's weights and inputs."""
    with open(path) as f:
        spec = json.load(f)
    if spec["kind"] == "ca_mtl":
        pools = torch_ca_mtl.load(spec["pools"])
        json.dump(torch_ca_mtl.check(pools, spec["params"]), sys.stdout)
        return
    s = spec["shape"]
    p = {k: torch.tensor(v["data"], dtype=torch.float32).reshape(v["shape"]).requires_grad_()
         for k, v in spec["params"].items()}
    mask_bias = torch.tensor(spec["maskBias"], dtype=torch.float32).reshape(s["B"], s["T"])
    if spec["kind"] == "layer":
        x = torch.tensor(spec["x"], dtype=torch.float32).reshape(s["B"], s["T"], s["H"])
        r = torch.tensor(spec["r"], dtype=torch.float32).reshape(s["B"], s["T"], s["H"])
        loss = (layer_forward(p, x, mask_bias, s["heads"]) * r).sum()
    elif spec["kind"] == "step":
        ids = torch.tensor(spec["ids"]).reshape(s["B"], s["T"])
        types = torch.tensor(spec["tokenTypes"]).reshape(s["B"], s["T"])
        labels = torch.tensor(spec["labels"])
        loss = model_loss(p, ids, types, mask_bias, labels, s["L"], s["heads"])
    else:
        raise SystemExit(f'Cannot check "{path}": kind is {spec["kind"]!r}, '
                         'expected "layer", "step" or "ca_mtl"')
    loss.backward()
    out = {"loss": loss.item(), "grads": {k: t.grad.flatten().tolist() for k, t in p.items()}}
    if spec["kind"] == "step":
        AdamW(list(p.values()), **ADAMW).step()
        out["updated"] = {k: t.detach().flatten().tolist() for k, t in p.items()}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if ARGS.check:
        check(ARGS.check)
    else:
        bench_all()
