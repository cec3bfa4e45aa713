#!/usr/bin/env python3
"""google/benchmark's compare.py reads GoogleBenchmarkReporter's exports.

    gbench_compare.py EXPORT_PROGRAM WORK_DIR

EXPORT_PROGRAM (gbench_export.cpp) writes a.json and b.json, b's samples
half of a's, with one entry per sample and the aggregates, and the same
with one entry per cell (a-single.json, b-single.json). compare.py must
list every exported benchmark with the time change -0.5 (b against a),
its U test, and the overall geometric mean. compare.py is taken from
ACCELBENCH_GBENCH_COMPARE or Debian's libbenchmark-tools
(/usr/share/benchmark/compare.py), run by this interpreter or the system's
/usr/bin/python3, whichever has numpy and scipy; without compare.py or them,
the test prints "skipped: ..." and ctest counts it skipped.
"""
import os
import re
import subprocess
import sys

NAMES = [
    "embedding/bert-tiny/cpu/batch_size:1/sequence_length:128",
    "embedding/bert-tiny/cpu/batch_size:8/sequence_length:128",
    "embedding/bert-tiny/opencl/batch_size:1/sequence_length:128",
]


def compare(python, script, a, b):
    done = subprocess.run([python, script, "--no-color", "benchmarks", a, b],
                          capture_output=True, text=True)
    print(done.stdout)
    if done.returncode != 0:
        print(done.stderr)
        sys.exit(f"compare.py ended with exit status {done.returncode}")
    return done.stdout


def rows(output, name):
    """The (time change, cpu change, old time, new time) of each line about `name`."""
    pattern = re.compile(r"^" + re.escape(name) + r"\s+([-+]\d+\.\d+)\s+([-+]\d+\.\d+)\s+(\d+)\s+(\d+)", re.M)
    return [(float(t), float(c), int(old), int(new)) for t, c, old, new in pattern.findall(output)]


def check(condition, what):
    if not condition:
        sys.exit("gbench compare: " + what)


def main():
    program, work_dir = sys.argv[1], sys.argv[2]
    candidates = [os.environ.get("ACCELBENCH_GBENCH_COMPARE"), "/usr/share/benchmark/compare.py"]
    script = next((c for c in candidates if c and os.path.isfile(c)), None)
    if script is None:
        print("skipped: google/benchmark's compare.py was not found: apt-get install libbenchmark-tools "
              "or set ACCELBENCH_GBENCH_COMPARE to it")
        return 0
    # compare.py imports numpy and scipy: this interpreter's, or the
    # system's, where Debian installs python3-numpy and python3-scipy.
    python = next((p for p in dict.fromkeys([sys.executable, "/usr/bin/python3"])
                   if os.path.isfile(p) and subprocess.run([p, "-c", "import numpy, scipy"],
                                                           capture_output=True).returncode == 0), None)
    if python is None:
        print(f"skipped: compare.py needs numpy and scipy, which neither {sys.executable} nor /usr/bin/python3 "
              "has: apt-get install python3-numpy python3-scipy")
        return 0
    os.makedirs(work_dir, exist_ok=True)
    subprocess.run([program, work_dir], check=True)

    out = compare(python, script, os.path.join(work_dir, "a.json"), os.path.join(work_dir, "b.json"))
    check("failed" not in out and "not exported" not in out, "the failed cell was exported")
    for name in NAMES:
        samples = rows(out, name)
        check(len(samples) == 10, f"{name}: {len(samples)} repetitions compared, 10 expected")
        for time, cpu, old, new in samples:
            check(time == -0.5 and cpu == -0.5, f"{name}: change {time} {cpu}, -0.5 expected")
            check(abs(new * 2 - old) <= 2, f"{name}: new time {new} is not half of {old}")
        for aggregate in ("mean", "median", "stddev"):
            found = rows(out, f"{name}_{aggregate}")
            check(len(found) == 1 and found[0][0] == -0.5, f"{name}_{aggregate}: {found}")
        median = rows(out, f"{name}_median")[0]
        expected = {"cpu/batch_size:1": 2e6, "cpu/batch_size:8": 8e6, "opencl/batch_size:1": 1e6}
        for part, ns in expected.items():
            if part in name:
                check(abs(median[2] - 0.995 * ns) <= 1, f"{name}: median {median[2]} ns, {0.995 * ns} expected")
        check(re.search(r"^" + re.escape(name) + r"_pvalue\s+\d\.\d+\s+\d\.\d+\s+U Test, Repetitions: 10 vs 10",
                        out, re.M), f"{name}: no U test")
    check(re.search(r"^OVERALL_GEOMEAN\s+-0\.5000\s+-0\.5000", out, re.M), "no overall geometric mean of -0.5")

    single = compare(python, script, os.path.join(work_dir, "a-single.json"), os.path.join(work_dir, "b-single.json"))
    for name in NAMES:
        found = rows(single, name)
        check(len(found) == 1 and found[0][0] == -0.5, f"{name} (one entry per cell): {found}")
    check(rows(single, NAMES[0])[0][2] == 1990, "one entry per cell: the cpu b=1 mean is not 1990 us")
    print("gbench compare: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
