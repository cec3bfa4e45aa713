"""The generative workloads of bench/peers/peers.py: GPT-2 prefill and decode,
TinyLlama-sized decode, for PyTorch, ONNX Runtime (prefill only) and llama.cpp
(Llama only), behind the same worker protocol as accelbench's worker.cpp.

Runs under the peers' virtual environment (it imports torch, transformers and,
where installed, gguf and llama_cpp); peers.py imports it there only.

A pass is one of two phases, as in worker.cpp:
  prefill  the prompt through the model to the logits of its last position
           (every peer computes the head for that position only);
  decode   one step after the prompt: the prompt's first token fed at the
           position after it, with the key-value cache cut back to the prompt
           before every step (outside the timed part).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

# TinyLlama-1.1B's dimensions (TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T).
TINYLLAMA = dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                 num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-5,
                 tie_word_embeddings=False)

PRECISIONS = ("fp32", "bf16", "fp16")


def make_checkpoint(make: str, folder: Path, work: Path) -> None:
    """GPT-2 (124M) or TinyLlama-sized Llama with seeded random weights, saved as safetensors (fp32)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if make == "gpt2":
        model = GPT2LMHeadModel(GPT2Config())
    else:
        model = LlamaForCausalLM(LlamaConfig(**TINYLLAMA))
    tmp = Path(tempfile.mkdtemp(dir=work))
    model.save_pretrained(tmp, safe_serialization=True)
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)


def _rope_pairs_interleaved(w, heads: int):
    """A q or k projection's rows from transformers' rotate-half order (a head's
    first half of dimensions, then its second half) to the adjacent pairs that
    llama.cpp's Llama rotates: row h*d + 2i + j takes row h*d + j*d/2 + i."""
    rows = w.shape[0]
    d = rows // heads
    return w.reshape(heads, 2, d // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(folder: Path, path: Path, precision: str) -> None:
    """A Llama checkpoint folder as a GGUF file for llama.cpp: every matrix at
    `precision` (f32 or f16), the norms f32; a vocabulary of the checkpoint's
    size (the sentencepiece layout: <unk>, <s>, </s>, 256 byte tokens, then
    placeholders), since the model has no tokenizer and the peers feed ids."""
    import json

    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    c = json.loads((folder / "config.json").read_text())
    tensors = load_file(str(folder / "model.safetensors"))
    heads, kv_heads = c["num_attention_heads"], c.get("num_key_value_heads") or c["num_attention_heads"]
    rope = c.get("rope_parameters") or {}
    theta = float(rope.get("rope_theta", c.get("rope_theta", 10000.0)))
    vocab = c["vocab_size"]
    tmp = path.with_suffix(".tmp")
    w = gguf.GGUFWriter(str(tmp), "llama")
    w.add_context_length(c["max_position_embeddings"])
    w.add_embedding_length(c["hidden_size"])
    w.add_block_count(c["num_hidden_layers"])
    w.add_feed_forward_length(c["intermediate_size"])
    w.add_rope_dimension_count(c["hidden_size"] // heads)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(c["rms_norm_eps"])
    w.add_rope_freq_base(theta)
    w.add_vocab_size(vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32 if precision == "f32" else gguf.LlamaFileType.MOSTLY_F16)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    tokens += [f"t{i}" for i in range(len(tokens), vocab)]
    types += [gguf.TokenType.NORMAL] * (vocab - len(types))
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * vocab)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    per_layer = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
                 "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
                 "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                 "mlp.down_proj": "ffn_down"}
    for layer in range(c["num_hidden_layers"]):
        for hf, gg in per_layer.items():
            names[f"model.layers.{layer}.{hf}.weight"] = f"blk.{layer}.{gg}.weight"
    unused = sorted(set(tensors) - set(names))
    if unused:
        raise ValueError(f"write_gguf: {folder}: tensors this writer does not map: {', '.join(unused)}")
    for hf, gg in names.items():
        t = tensors[hf]
        if ".attn_q." in gg:
            t = _rope_pairs_interleaved(t, heads)
        elif ".attn_k." in gg:
            t = _rope_pairs_interleaved(t, kv_heads)
        t = t.astype(np.float32 if (precision == "f32" or t.ndim == 1) else np.float16)
        w.add_tensor(gg, np.ascontiguousarray(t))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    tmp.rename(path)


def gguf_precision(precision: str) -> str:
    """The GGUF file llama.cpp runs a row of `precision` on: f32 at fp32, f16
    at bf16 and fp16 (llama.cpp's usual half-precision format)."""
    return "f32" if precision == "fp32" else "f16"


def export_gpt2_onnx(folder: str, batch: int, size: int, path: Path) -> None:
    """GPT-2's prefill as an ONNX graph: input_ids -> the logits of the last position."""
    import torch
    from transformers import GPT2LMHeadModel

    model = GPT2LMHeadModel.from_pretrained(folder).eval()

    class LastLogits(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids):
            return self.m(input_ids=input_ids, use_cache=False, logits_to_keep=1).logits[:, -1, :]

    tmp = path.with_suffix(".tmp.onnx")
    ids = torch.ones(batch, size, dtype=torch.int64)
    with torch.inference_mode():
        torch.onnx.export(LastLogits(model), (ids,), str(tmp), input_names=["input_ids"],
                          output_names=["last_logits"], opset_version=18, dynamo=True, external_data=False)
    tmp.rename(path)


def ort_session(path: str, threads: int):
    """ONNX Runtime's session for the graph at `path` on `threads` threads:
    one operator at a time (no inter-op pool), every graph optimisation."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class Session:
    """One peer's generative model behind the worker protocol's commands."""

    def __init__(self, peer: str, kind: str, threads: int, folder: str, precision: str, extra: str):
        import numpy as np

        self.np = np
        self.peer = peer
        self.kind = kind
        self.threads = threads
        self.precision = precision
        self.decode = False
        self.ids = None
        if peer == "pytorch":
            import torch
            from transformers import AutoModelForCausalLM

            self.torch = torch
            dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
            self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).eval()
            self.parameters = sum(p.numel() for p in self.model.parameters())
        elif peer == "onnxruntime":
            self.ort = ort_session(extra, threads)
            self.parameters = 0
        elif peer == "llamacpp":
            self.gguf = extra
            self.llm = None
            self.parameters = 0
        else:
            raise ValueError(f"peer {peer}: no generative workloads")

    def phase(self, phase: str) -> None:
        if phase not in ("prefill", "decode"):
            raise ValueError(f"phase: {phase}: expected prefill or decode")
        if phase == "decode" and self.peer == "onnxruntime":
            raise ValueError("phase: onnxruntime runs prefill only (its graph has no key-value cache)")
        self.decode = phase == "decode"

    def input(self, batch: int, size: int, path: str) -> None:
        np = self.np
        self.ids = np.fromfile(path, dtype=np.int32, count=batch * size).reshape(batch, size)
        if self.peer == "llamacpp":
            if batch != 1:
                raise ValueError("input: llama.cpp runs batch 1 here")
            if self.llm is None:
                from llama_cpp import Llama

                # f32 key-value cache, as accelbench's; logits of the last position only.
                self.llm = Llama(model_path=self.gguf, n_ctx=size + 1, n_batch=size, n_ubatch=size,
                                 n_threads=self.threads, n_threads_batch=self.threads, type_k=0, type_v=0,
                                 logits_all=False, verbose=False)
                self.parameters = self.llm.model.n_params() if hasattr(self.llm.model, "n_params") else 0
        self.prefill()

    def reset(self) -> None:
        """Untimed, before each pass: the cache cut back to the prompt (decode)."""
        if self.ids is None:
            raise ValueError("no input")
        if not self.decode:
            return
        if self.peer == "pytorch":
            extra = self.cache.get_seq_length() - self.ids.shape[1]
            if extra > 0:
                self.cache.crop(-extra)  # transformers 5: a negative count removes that many positions
        elif self.peer == "llamacpp":
            self.llm.n_tokens = self.ids.shape[1]

    def run(self):
        """One pass; the logits it ends with, float32 [batch, vocab]."""
        if self.decode:
            return self.step()
        return self.prefill()

    def prefill(self):
        np = self.np
        if self.peer == "pytorch":
            torch = self.torch
            with torch.inference_mode():
                out = self.model(input_ids=torch.from_numpy(self.ids.astype(np.int64)), use_cache=True,
                                 logits_to_keep=1)
            self.cache = out.past_key_values
            return out.logits[:, -1, :].float().numpy()
        if self.peer == "onnxruntime":
            return self.ort.run(["last_logits"], {"input_ids": self.ids.astype(np.int64)})[0]
        self.llm.reset()
        self.llm.eval(self.ids[0].tolist())
        return self._llama_logits()

    def step(self):
        np = self.np
        first = self.ids[:, :1]
        if self.peer == "pytorch":
            torch = self.torch
            with torch.inference_mode():
                out = self.model(input_ids=torch.from_numpy(first.astype(np.int64)), past_key_values=self.cache,
                                 use_cache=True)
            return out.logits[:, -1, :].float().numpy()
        self.llm.eval([int(first[0, 0])])
        return self._llama_logits()

    def _llama_logits(self):
        import ctypes

        import llama_cpp

        n = self.llm.n_vocab()
        ptr = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        return self.np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(1, n)).copy()
