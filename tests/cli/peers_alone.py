#!/usr/bin/env python3
"""bench/peers/peers.py without its peers, on the golden checkpoints.

  peers_alone.py PEERS_PY WORKER SOURCE_DIR WORK_DIR

1. The worker's answers: its last hidden state of the golden ViT's pixels is
   transformers' (tests/data/golden/vit/io.safetensors) within 1e-4; a bad
   command, an unknown kind and a pass before any model are errors, and the
   worker goes on answering after each. The golden GPT-2's prefill gives
   transformers' logits of the prompt's last position within 1e-4, and its
   decode step (the first token fed after the prompt, the cache cut back
   before each pass) the logits of prefilling the prompt with that token
   appended, however many times it is timed.
2. The driver with no virtual environment and every checkpoint named: the
   peers are skipped with a message, accelbench alone fills the table and the
   JSON (medians, the machine's limits with GEMM fractions of the FMA peak);
   the generative rows too, a decode row with its weight-read bound.
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
    """name -> (shape, list of values) for the F32 and I64 tensors of a safetensors file."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] not in ("F32", "I64"):
            continue
        begin, end = t["data_offsets"]
        a = array.array("f" if t["dtype"] == "F32" else "q")
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
    """peers.py on one thread with no virtual environment, BERT's workloads on
    `bert_folder`, the others on the golden ViT, GPT-2 and Llama."""
    golden = Path(peers_py).resolve().parents[2] / "tests" / "data" / "golden"
    return subprocess.run([sys.executable, peers_py, "--venv", str(work / "no-venv"), "--no-install", "--worker", worker,
                           "--work", str(work / "work"), "--checkpoint", f"bert-base={bert_folder}",
                           "--checkpoint", f"vit-base={golden / 'vit'}", "--checkpoint", f"gpt2={golden / 'gpt2'}",
                           "--checkpoint", f"tinyllama={golden / 'llama'}", "--workloads", workloads, "--threads", "1",
                           "--rounds", str(rounds), "--round-seconds", "0.05", "--json", str(report)],
                          capture_output=True, text=True, timeout=600)


def logits_of(proc: subprocess.Popen, path: Path) -> list[float]:
    out = ask(proc, f"output {path}")
    check(out.get("rows") == 1, f"output of a generative model: {out}")
    got = array.array("f")
    got.frombytes(path.read_bytes())
    check(len(got) == out["cols"], f"{len(got)} logits for {out}")
    return list(got)


def generative(proc: subprocess.Popen, folder: Path, work: Path) -> str:
    """The golden GPT-2 through the worker: prefill against transformers, decode against prefill."""
    io = safetensors(folder / "io.safetensors")
    (_, seq), ids = io["input_ids"][0][0:2], io["input_ids"][1]
    (_, _, vocab), logits = io["logits"]
    prompt = [int(v) for v in ids[:seq]]
    loaded = ask(proc, f"load gpt2 {folder} fp32")
    check(loaded.get("parameters", 0) > 0 and loaded.get("step_bytes", 0) > 0, f"load gpt2: {loaded}")
    check("error" in ask(proc, "phase sample"), "an unknown phase is an error")
    check(ask(proc, "phase prefill").get("phase") == "prefill", "phase prefill")

    def feed(tokens: list[int]) -> None:
        (work / "ids").write_bytes(array.array("i", tokens).tobytes())
        check(ask(proc, f"input 1 {len(tokens)} {work / 'ids'}").get("inputs") == 1, "input of a prompt")

    feed(prompt)
    last = logits_of(proc, work / "logits")
    expected = logits[(seq - 1) * vocab:seq * vocab]
    worst_prefill = max(abs(a - b) for a, b in zip(last, expected))
    check(len(last) == vocab and worst_prefill <= 1e-4, f"GPT-2 prefill differs from transformers by {worst_prefill}")
    check(ask(proc, "phase decode").get("phase") == "decode", "phase decode")
    timed = ask(proc, "time 5")  # more steps than the cache has room for after the prompt: it is cut back each time
    check(len(timed.get("seconds", [])) == 5, f"decode time 5: {timed}")
    step = logits_of(proc, work / "logits")
    ask(proc, "phase prefill")
    feed(prompt + prompt[:1])
    longer = logits_of(proc, work / "logits")
    worst_decode = max(abs(a - b) for a, b in zip(step, longer))
    check(worst_decode <= 1e-4, f"GPT-2 decode step differs from the prefill of the longer prompt by {worst_decode}")
    return f"prefill within {worst_prefill:.1e} of transformers', decode within {worst_decode:.1e} of prefill"


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
    check("error" in ask(proc, "phase decode"), "an encoder has no phases")
    gen = generative(proc, golden / "gpt2", work)
    proc.stdin.write("quit\n")
    proc.stdin.close()
    check(proc.wait(timeout=60) == 0, "the worker's exit status")
    print(f"worker: ViT last hidden state within {worst:.1e} of transformers'; GPT-2 {gen}")

    # 2. The driver, accelbench alone.
    report = work / "peers.json"
    run = driver(peers_py, worker, work, golden / "bert", "bert-base:2:16,vit-base:1:32", 3, report)
    print(run.stdout)
    print(run.stderr)
    check(run.returncode == 0, f"peers.py exit status {run.returncode}")
    check("pytorch: skipped" in run.stderr and "onnxruntime: skipped" in run.stderr, "the skipped peers are named")
    check("llamacpp: skipped" not in run.stderr, "llama.cpp is not named where no workload of its kind runs")
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

    # The generative rows, accelbench alone: a decode row gives its weight-read bound.
    gen_report = work / "generative.json"
    run = driver(peers_py, worker, work, golden / "bert", "gpt2/prefill:1:7,gpt2/decode:1:7,tinyllama/decode:1:7,tinyllama/decode:1:7:bf16",
                 2,
                 gen_report)
    print(run.stdout)
    print(run.stderr)
    check(run.returncode == 0, f"peers.py on the generative workloads: exit status {run.returncode}")
    check("llamacpp: skipped" in run.stderr, "llama.cpp is named as skipped")
    check("gpt2 prefill b1x7" in run.stdout and "gpt2 decode b1x7" in run.stdout
          and "tinyllama decode b1x7 bf16" in run.stdout, "one row per generative workload")
    rows = json.loads(gen_report.read_text())["threads"]["1"]["rows"]
    check(all(r["median_s"]["accelbench"] > 0 for r in rows), f"generative medians {rows}")
    check("bound_s" not in rows[0] and all(r["bound_s"] > 0 for r in rows[1:]),
          "the decode rows, and only they, have a weight-read bound")
    check(rows[3]["step_bytes"] * 2 == rows[2]["step_bytes"], "a bf16 step reads half the bytes of an fp32 step")
    check(run.stdout.count("weight-read bound") == 3, "the bound is printed on the decode rows")
    bad = subprocess.run([sys.executable, peers_py, "--workloads", "gpt2:1"], capture_output=True, text=True, timeout=60)
    check(bad.returncode == 2 and "gpt2/prefill or gpt2/decode" in bad.stderr, f"a generative model without a phase: {bad.stderr}")
    bad = subprocess.run([sys.executable, peers_py, "--workloads", "bert-base:1:128:bf16"], capture_output=True, text=True,
                         timeout=60)
    check(bad.returncode == 2 and "precision bf16" in bad.stderr, f"an encoder at bf16: {bad.stderr}")

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
