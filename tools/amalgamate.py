#!/usr/bin/env python3
"""Writes single_include/accelbench/accelbench.hpp: the umbrella header
include/accelbench/accelbench.hpp with every project header it reaches
inlined, so that a program needs this one file (and Eigen, fmt,
nlohmann-json) instead of include/.

    python3 tools/amalgamate.py                      # writes the checked-in file
    python3 tools/amalgamate.py --output FILE        # writes FILE instead
    python3 tools/amalgamate.py --output FILE --check CHECKED_IN
                                                     # exit 1 when they differ

The result does not depend on the machine or the time: the same headers give
the same bytes. Rules, which follow what the preprocessor itself would do:

- `#include "..."` is resolved relative to the including file, and
  `#include <accelbench/...>` relative to include/; a file found there is
  inlined in place, between begin and end comments. Any other include
  (system, Eigen, fmt, nlohmann, OpenCL, CUDA) is kept as written.
- A header with `#pragma once` is inlined at its first inclusion and skipped
  afterwards. Where that first inclusion sits inside a conditional block
  (`#if ... #include ... #endif`), its text is wrapped in a guard macro and
  it is inlined again at its next inclusion, until one is unconditional.
- A header without `#pragma once` is inlined every time it is included, as
  the preprocessor does (backend/device/gpu_kernels.hpp is included on
  purpose once per backend, inside a macro of that backend).
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE_ROOT = os.path.join(ROOT, "include")
UMBRELLA = os.path.join(INCLUDE_ROOT, "accelbench", "accelbench.hpp")
CHECKED_IN = os.path.join(ROOT, "single_include", "accelbench", "accelbench.hpp")

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PRAGMA_ONCE = re.compile(r"^\s*#\s*pragma\s+once\b")
OPENS = re.compile(r"^\s*#\s*if(n?def)?\b")
CLOSES = re.compile(r"^\s*#\s*endif\b")

BANNER = """\
// accelbench, single-header edition (version {version}).
//
// GENERATED FILE, do not edit. It is include/accelbench/accelbench.hpp with
// every accelbench header it includes inlined, written by
// tools/amalgamate.py. Edit the headers under include/ and run
//     python3 tools/amalgamate.py
// to regenerate it.
//
// A program that includes this file needs Eigen 3.4, fmt, nlohmann-json and
// (for the Cpu backend's threads) OpenMP, as with include/. Define
// ACCELBENCH_WITH_OPENCL (and link OpenCL) before including it for the
// OpenCL backend.
"""


def rel_name(path):
    return os.path.relpath(path, INCLUDE_ROOT).replace(os.sep, "/")


def guard_name(path):
    return "ACCELBENCH_SINGLE_HEADER_" + re.sub(r"[^A-Za-z0-9]", "_", rel_name(path)).upper()


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


class Amalgamator:
    def __init__(self):
        self.done = set()      # pragma-once headers inlined outside any conditional
        self.guarded = set()   # pragma-once headers inlined inside a conditional (guard defined)
        self.stack = []        # the chain of inclusions, to report a cycle
        self.out = []

    def resolve(self, including, delimiter, name):
        candidates = []
        if delimiter == '"':
            candidates.append(os.path.join(os.path.dirname(including), name))
        candidates.append(os.path.join(INCLUDE_ROOT, name))
        for c in candidates:
            c = os.path.normpath(c)
            inside = os.path.commonpath([c, INCLUDE_ROOT]) == INCLUDE_ROOT
            if inside and os.path.isfile(c):
                return c
        if delimiter == '"':
            sys.exit(f"amalgamate: {rel_name(including)} includes \"{name}\", which is not a file under include/")
        return None

    def inline(self, path, conditional):
        lines = read_lines(path)
        once = any(PRAGMA_ONCE.match(line) for line in lines)
        if once and path in self.done:
            return
        if path in self.stack:
            chain = " -> ".join(rel_name(p) for p in self.stack + [path])
            sys.exit(f"amalgamate: include cycle {chain}")
        name = rel_name(path)
        guard = once and (conditional or path in self.guarded)
        self.out.append(f"// ---- begin {name} ----")
        if guard:
            self.out.append(f"#ifndef {guard_name(path)}")
            self.out.append(f"#define {guard_name(path)}")
        self.stack.append(path)
        depth = 0
        for line in lines:
            if PRAGMA_ONCE.match(line):
                continue
            if OPENS.match(line):
                depth += 1
            elif CLOSES.match(line):
                depth -= 1
            m = INCLUDE.match(line)
            target = self.resolve(path, m.group(1), m.group(2)) if m else None
            if target is None:
                self.out.append(line)
            else:
                self.inline(target, conditional or depth > 0)
        self.stack.pop()
        if guard:
            self.out.append(f"#endif  // {guard_name(path)}")
            self.guarded.add(path)
        self.out.append(f"// ---- end {name} ----")
        if once and not conditional:
            self.done.add(path)


def version():
    text = open(os.path.join(INCLUDE_ROOT, "accelbench", "core", "version.hpp"), encoding="utf-8").read()
    m = re.search(r'version_string\s*=\s*"([^"]+)"', text)
    if m:
        return m.group(1)
    parts = re.findall(r"version_(?:major|minor|patch)\s*=\s*(\d+)", text)
    return ".".join(parts) if parts else "unknown"


def amalgamate():
    a = Amalgamator()
    a.inline(UMBRELLA, False)
    return BANNER.format(version=version()) + "\n#pragma once\n\n" + "\n".join(a.out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=CHECKED_IN, help="file to write (default: the checked-in single header)")
    parser.add_argument("--check", metavar="CHECKED_IN",
                        help="compare the written file with this one; exit 1 when they differ")
    args = parser.parse_args()
    text = amalgamate()
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    if args.check:
        try:
            with open(args.check, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"{args.check} is out of date with the headers under include/: "
                  f"run tools/amalgamate.py (python3 tools/amalgamate.py) and commit the result", file=sys.stderr)
            return 1
        print(f"{args.check} matches the headers under include/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
