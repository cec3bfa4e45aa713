#!/usr/bin/env python3
"""Renders the HTML report in a real browser and checks what it drew.

    check_html_render.py --chromium PATH --work DIR --report REPORT.html
    check_html_render.py --chromium PATH --work DIR --render PROGRAM [--results RESULTS.json]

With --render, PROGRAM (tests/report/render_html_report.cpp) first writes
DIR/report.html, of RESULTS.json when given. Runs headless Chromium twice on the page, in a fresh profile whose host
resolver knows no host (so nothing can come from the network), once for
the DOM after the page's load event and once for a screenshot of the whole
page. From the DOM: every <svg class="chart"> holds as many elements of
class "mark" as its data-marks says, and more than none; the page's script
wrote each chart's place on the page (data-rect). From the screenshot: the
plot area of each chart holds coloured pixels (the marks; grid lines, axes
and text are grey or black), and the page is not blank.

Prints "html render: ok" and exits with 0, or lists the failures and exits
with 1. Python's standard library only (zlib for the PNG).
"""
import argparse
import html
import itertools
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

WIDTH = 1400


def add_bytes(x, y):
    """Bytewise sum modulo 256 of two equal-length byte strings, in one big-integer operation."""
    n = len(x)
    a, b = int.from_bytes(x, "little"), int.from_bytes(y, "little")
    low, high = int.from_bytes(b"\x7f" * n, "little"), int.from_bytes(b"\x80" * n, "little")
    return bytearray((((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(n, "little"))


def unfilter(kind, line, previous, channels):
    """One scan line of a PNG with its filter (None, Sub, Up, Average, Paeth) undone."""
    if kind == 0:
        return bytearray(line)
    if kind == 2:
        return add_bytes(line, previous)
    out = bytearray(line)
    if kind == 1:
        for c in range(channels):
            out[c::channels] = bytes(v & 0xFF for v in itertools.accumulate(line[c::channels]))
        return out
    for i in range(len(out)):
        a = out[i - channels] if i >= channels else 0
        b = previous[i]
        if kind == 3:
            out[i] = (out[i] + ((a + b) >> 1)) & 0xFF
            continue
        c = previous[i - channels] if i >= channels else 0
        pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - c - c)
        out[i] = (out[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return out


def read_png(path):
    """Width, height and rows (RGB bytes) of an 8-bit RGB or RGBA PNG without interlacing."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace != 0:
        raise ValueError(f"{path}: depth {depth}, colour type {color}, interlace {interlace} not handled")
    channels = 3 if color == 2 else 4
    stride = width * channels
    raw = zlib.decompress(b"".join(idat))
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = unfilter(raw[start], raw[start + 1:start + 1 + stride], previous, channels)
        previous = line
        if channels == 4:
            line = bytearray(line)
            del line[3::4]
        rows.append(line)
    return width, height, rows


def coloured_pixels(rows, x0, y0, x1, y1):
    """Pixels in the box whose channels differ by more than 60: a colour, not white, grey or black."""
    n = 0
    for y in range(max(0, y0), min(len(rows), y1)):
        row = rows[y]
        for x in range(max(0, x0), min(len(row) // 3, x1)):
            r, g, b = row[3 * x], row[3 * x + 1], row[3 * x + 2]
            if max(r, g, b) - min(r, g, b) > 60:
                n += 1
    return n


def mark_centres(svg_body):
    """The centre (in the SVG's coordinates) and fill colour of each mark: circles and rects of class "mark"."""
    out = []
    for tag in re.findall(r"<(?:circle|rect) [^>]*class=\"mark\"[^>]*>", svg_body):
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        fill = a.get("fill", "")
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", fill):
            continue
        colour = tuple(int(fill[i:i + 2], 16) for i in (1, 3, 5))
        if tag.startswith("<circle"):
            out.append((float(a["cx"]), float(a["cy"]), colour))
        else:
            out.append((float(a["x"]) + float(a["width"]) / 2, float(a["y"]) + float(a["height"]) / 2, colour))
    return out


def colour_near(rows, x, y, colour, reach=2, tolerance=40):
    """Whether a pixel within `reach` of (x, y) has `colour`, give or take `tolerance` per channel."""
    for yy in range(max(0, y - reach), min(len(rows), y + reach + 1)):
        row = rows[yy]
        for xx in range(max(0, x - reach), min(len(row) // 3, x + reach + 1)):
            if all(abs(row[3 * xx + k] - colour[k]) <= tolerance for k in range(3)):
                return True
    return False


def chromium(binary, url, profile, extra):
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND",
               "--no-first-run", "--disable-background-networking", "--disable-extensions",
               "--hide-scrollbars", "--force-device-scale-factor=1", "--virtual-time-budget=5000"] + extra + [url]
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)


def main(binary, report, work):
    failures = []
    url = "file://" + os.path.abspath(report)
    page = open(report, encoding="utf-8").read()
    for bad in ("http://", "https://", "src=", "@import", "url("):
        if bad in page:
            failures.append(f"the page holds {bad!r}: it must need nothing from elsewhere")

    profile = tempfile.mkdtemp(prefix="profile-", dir=work)
    try:
        run = chromium(binary, url, profile, [f"--window-size={WIDTH},1000", "--dump-dom"])
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    dom = run.stdout.decode("utf-8", "replace")
    if run.returncode != 0 or "<svg" not in dom:
        print(run.stderr.decode("utf-8", "replace")[-3000:])
        print(f"html render: chromium --dump-dom failed (exit status {run.returncode})")
        return 1
    open(os.path.join(work, "dom.html"), "w", encoding="utf-8").write(dom)

    page_size = re.search(r'<body[^>]*data-page="(\d+) (\d+)"', dom)
    if not page_size:
        print("html render: the page's script did not run (no data-page on <body>)")
        return 1
    height = int(page_size.group(2))

    charts = []
    for m in re.finditer(r"<svg ([^>]*class=\"chart\"[^>]*)>(.*?)</svg>", dom, re.S):
        attrs = dict((k, html.unescape(v)) for k, v in re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
        marks = len(re.findall(r'class="mark"', m.group(2)))
        kind = attrs.get("data-chart", "?")
        title = re.search(r"<title>(.*?)</title>", m.group(2), re.S)
        name = f"{kind} chart {len(charts) + 1} ({html.unescape(title.group(1)) if title else 'untitled'})"
        if marks == 0 or str(marks) != attrs.get("data-marks"):
            failures.append(f"{name}: {marks} marks in the DOM, data-marks={attrs.get('data-marks')}")
        if "data-rect" not in attrs or "data-plot" not in attrs or "viewBox" not in attrs:
            failures.append(f"{name}: no data-rect, data-plot or viewBox")
            continue
        charts.append((name, attrs, mark_centres(m.group(2))))
    kinds = sorted(set(a["data-chart"] for _, a, _ in charts))
    if not charts:
        failures.append("no charts in the rendered page")

    screenshot = os.path.join(work, "report.png")
    profile = tempfile.mkdtemp(prefix="profile-", dir=work)
    try:
        run = chromium(binary, url, profile, [f"--window-size={WIDTH},{height}", f"--screenshot={screenshot}"])
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if run.returncode != 0 or not os.path.exists(screenshot):
        print(run.stderr.decode("utf-8", "replace")[-3000:])
        print(f"html render: chromium --screenshot failed (exit status {run.returncode})")
        return 1
    width, png_height, rows = read_png(screenshot)
    if width != WIDTH or png_height < height:
        failures.append(f"the screenshot is {width}x{png_height}, expected {WIDTH}x{height}")

    marks_seen = marks_total = 0
    for name, attrs, marks in charts:
        x, y, w, h = (float(v) for v in attrs["data-rect"].split())
        view = [float(v) for v in attrs["viewBox"].split()]
        px, py, pw, ph = (float(v) for v in attrs["data-plot"].split())
        scale = w / view[2] if view[2] > 0 else 1
        box = (int(x + px * scale) + 2, int(y + py * scale) + 2,
               int(x + (px + pw) * scale) - 2, int(y + (py + ph) * scale) - 2)
        if w < 50 or h < 50:
            failures.append(f"{name}: drawn {w:.0f}x{h:.0f} pixels")
            continue
        drawn = coloured_pixels(rows, *box)
        if drawn < 10:
            failures.append(f"{name}: {drawn} coloured pixels in its plot area {box} of the screenshot")
        # Each mark's colour where the DOM puts it (a mark may hide under
        # another, or be a sliver blended with the background: most must show).
        seen = sum(1 for mx, my, colour in marks
                   if colour_near(rows, int(round(x + mx * scale)), int(round(y + my * scale)), colour))
        marks_seen += seen
        marks_total += len(marks)
        if marks and seen == 0:
            failures.append(f"{name}: none of its {len(marks)} marks shows its colour at its place")
    if marks_total == 0 or marks_seen < 0.9 * marks_total:
        failures.append(f"{marks_seen} of {marks_total} marks show their colour at their place (90% needed)")

    for f in failures:
        print("FAIL:", f)
    print(f"html render: {len(charts)} charts ({', '.join(kinds)}), {marks_seen} of {marks_total} marks seen "
          f"on a {WIDTH}x{height} page")
    if failures:
        print(f"html render: {len(failures)} failure{'s' if len(failures) != 1 else ''}")
        return 1
    print("html render: ok")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--report")
    parser.add_argument("--render")
    parser.add_argument("--results")
    args = parser.parse_args()
    if not shutil.which(args.chromium):
        print(f"skipped: chromium not installed ({args.chromium} not found)")
        sys.exit(0)
    os.makedirs(args.work, exist_ok=True)
    report = args.report
    if args.render:
        report = os.path.join(args.work, "report.html")
        rendered = subprocess.run([args.render, report] + ([args.results] if args.results else []))
        if rendered.returncode != 0:
            print(f"html render: {args.render} failed (exit status {rendered.returncode})")
            sys.exit(1)
    if not report:
        parser.error("give --report or --render")
    sys.exit(main(args.chromium, report, args.work))
