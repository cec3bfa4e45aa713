#!/usr/bin/env python3
"""bench/peers/peers.py without its peers, on the golden checkpoints.

  peers_alone.py PEERS_PY WORKER SOURCE_DIR WORK_DIR

1. The worker's answers: its last hidden state of the golden ViT's pixels is
   transformers' (tests/data/golden/vit/io.safetensors) within 1e-4; a bad
   command, an unknown kind and a pass before any model are errors, and the
   worker goes on answering after each.
2. The driver with no virtual environment and every checkpoint named: the
   peers are skipped with a message, accelbench alone fills the table and the
   JSON (medians, the machine's limits with GEMM fractions of the FMA peak).
3. A workload that fails is a row saying why; the others still run, the
   JSON is written, the exit status is 1.
4. Without a checkpoint named for a workload and no virtual environment: exit
   status 2 and a message naming the model.
"""

import array
import json
import struct
import subprocess
import sys
from pathlib import Path


def safetensors(path: Path) -> dict:
    """name -> (shape, list of floats) for the F32 tensors of a safetensors file."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] != "F32":
            continue
        begin, end = t["data_offsets"]
        a = array.array("f")
        a.frombytes(data[8 + n + begin:8 + n + end])
        out[name] = (t["shape"], list(a))
    return out


def check(condition: bool, message: str) -> None:
    if not condition:
        print("FAIL:", message)
        sys.exit(1)


def ask(proc: subprocess.Popen, line: str) -> dict:
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    reply = proc.stdout.readline()
    check(reply != "", f"the worker ended on '{line}'")
    return json.loads(reply)


def driver(peers_py: str, worker: str, work: Path, bert_folder: Path, workloads: str, rounds: int,
           report: Path) -> subprocess.CompletedProcess:
    """peers.py on one thread with no virtual environment, BERT's workloads on `bert_folder`."""
    golden_vit = Path(peers_py).resolve().parents[2] / "tests" / "data" / "golden" / "vit"
    return subprocess.run([sys.executable, peers_py, "--venv", str(work / "no-venv"), "--no-install", "--worker", worker,
                           "--work", str(work / "work"), "--checkpoint", f"bert-base={bert_folder}",
                           "--checkpoint", f"vit-base={golden_vit}", "--workloads", workloads, "--threads", "1",
                           "--rounds", str(rounds), "--round-seconds", "0.05", "--json", str(report)],
                          capture_output=True, text=True, timeout=600)


def main() -> int:
    peers_py, worker, source, work = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    work.mkdir(parents=True, exist_ok=True)
    golden = source / "tests" / "data" / "golden"

    # 1. The worker against transformers' ViT output.
    io = safetensors(golden / "vit" / "io.safetensors")
    shape, pixels = io["pixel_values"]
    expected_shape, expected = io["last_hidden_state"]
    (work / "pixels").write_bytes(array.array("f", pixels).tobytes())
    proc = subprocess.Popen([worker, "--threads", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    check("error" in ask(proc, "time 1"), "a pass before any model is an error")
    check("error" in ask(proc, "load resnet /nowhere"), "an unknown kind is an error")
    check("error" in ask(proc, "fly 3"), "an unknown command is an error")
    loaded = ask(proc, f"load vit {golden / 'vit'}")
    check(loaded.get("parameters", 0) > 0, f"load vit: {loaded}")
    check(ask(proc, f"input {shape[0]} {shape[2]} {work / 'pixels'}").get("inputs") == shape[0], "input")
    out = ask(proc, f"output {work / 'hidden'}")
    check([out["rows"], out["cols"]] == [expected_shape[0] * expected_shape[1], expected_shape[2]], f"output {out}")
    got = array.array("f")
    got.frombytes((work / "hidden").read_bytes())
    worst = max(abs(a - b) for a, b in zip(got, expected))
    check(len(got) == len(expected) and worst <= 1e-4, f"ViT last hidden state differs from transformers by {worst}")
    timed = ask(proc, "time 3")
    check(len(timed["seconds"]) == 3 and min(timed["seconds"]) > 0, f"time 3: {timed}")
    proc.stdin.write("quit\n")
    proc.stdin.close()
    check(proc.wait(timeout=60) == 0, "the worker's exit status")
    print(f"worker: ViT last hidden state within {worst:.1e} of transformers'")

    # 2. The driver, accelbench alone.
    report = work / "peers.json"
    run = driver(peers_py, worker, work, golden / "bert", "bert-base:2:16,vit-base:1:32", 3, report)
    print(run.stdout)
    print(run.stderr)
    check(run.returncode == 0, f"peers.py exit status {run.returncode}")
    check("pytorch: skipped" in run.stderr and "onnxruntime: skipped" in run.stderr, "the skipped peers are named")
    check("bert-base b2x16" in run.stdout and "vit-base b1x32" in run.stdout, "one row per workload")
    check("of the FMA peak" in run.stdout, "the GEMM's fraction of the FMA peak is printed")
    data = json.loads(report.read_text())
    section = data["threads"]["1"]
    limits = section["limits"]
    check(limits["fma_gflops"] > 0 and limits["read_gbs"] > 0, f"limits {limits}")
    check(all(0 < g["gflops"] for g in limits["gemm"]), f"GEMM figures {limits['gemm']}")
    check(len(section["rows"]) == 2, "two rows")
    for row in section["rows"]:
        check(row["median_s"]["accelbench"] > 0, f"median of {row['workload']}")
        check(len(row["samples"]["accelbench"]) == 3, f"three rounds of {row['workload']}")
        check(row["ratio"] == {} and row["agreement"] == {}, "no peer, no ratio")

    # 3. A workload that fails (a ViT folder named as BERT's) ends neither the run nor the JSON.
    broken = work / "broken.json"
    run = driver(peers_py, worker, work, golden / "vit", "bert-base:1:16,vit-base:1:32", 2, broken)
    print(run.stdout)
    check(run.returncode == 1, f"a failed workload: exit status {run.returncode}")
    check("bert-base b1x16" in run.stdout and "FAILED" in run.stdout and "model_type" in run.stdout,
          "the failed row names the workload and the reason")
    rows = json.loads(broken.read_text())["threads"]["1"]["rows"]
    check("error" in rows[0] and rows[1]["median_s"]["accelbench"] > 0, f"the rows after a failure: {rows}")

    # 4. No venv and no checkpoint for a model: a clear refusal.
    refused = subprocess.run([sys.executable, peers_py, "--venv", str(work / "no-venv"), "--no-install", "--worker",
                              worker, "--work", str(work / "work"), "--workloads", "all-MiniLM-L6-v2:1"],
                             capture_output=True, text=True, timeout=120)
    check(refused.returncode == 2 and "all-MiniLM-L6-v2" in refused.stderr,
          f"no checkpoint: status {refused.returncode}, {refused.stderr}")
    print("peers_alone: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
