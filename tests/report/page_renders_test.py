#!/usr/bin/env python3
"""The report's page, rendered: `leadscore report --html` over a generated market with
outcomes, screenshotted by headless chromium, and the PNG decoded (zlib only) to check
that something was drawn: enough non-white pixels, several colours, the bars' blue.

Exit 77 (ctest SKIP_RETURN_CODE) when chromium is not installed; scripts/install-deps.sh
installs it, so CI runs this. Usage: page_renders_test.py LEADSCORE SOURCE_DIR [OUT.png]
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib


def decode_png(data):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG {depth} {colour} {interlace}"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def main():
    leadscore, source = sys.argv[1], sys.argv[2]
    out_png = sys.argv[3] if len(sys.argv) > 3 else None
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: chromium is not installed (scripts/install-deps.sh installs it)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        market, page, png = (os.path.join(tmp, n) for n in ("market.jsonl", "report.html", "report.png"))
        subprocess.run([leadscore, "generate", "--output", market, "--accounts", "3000", "--weeks", "8"], check=True)
        subprocess.run([leadscore, "report", "--model", os.path.join(source, "examples/model.yaml"), "--input",
                        market, "--html", page, "--suggest", os.path.join(tmp, "draft.yaml")],
                       check=True, stdout=subprocess.DEVNULL)
        html = open(page, encoding="utf-8").read()
        assert "<svg" in html and "<script" not in html and "http://" not in html.replace(
            'xmlns="http://www.w3.org/2000/svg"', ""), "inline SVG, no script, nothing fetched"
        for section in ("Conversion per tier", "Is a higher score", "Which signals", "SLA met", "Why sales rejected",
                        "Suggested changes"):
            assert section in html, f"no section '{section}'"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={tmp}/profile", f"--screenshot={png}", "--window-size=1200,2000",
                        "file://" + page], check=True, timeout=120, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        data = open(png, "rb").read()
        if out_png:
            shutil.copyfile(png, out_png)
    width, height, rows = decode_png(data)
    pixels = width * height
    colours, inked, blue = set(), 0, 0
    for row in rows:
        for px in row:
            colours.add(px)
            if sum(px) < 3 * 245:
                inked += 1
            if abs(px[0] - 0x2B) < 8 and abs(px[1] - 0x6C) < 8 and abs(px[2] - 0xB0) < 8:
                blue += 1
    print(f"page: {width}x{height}, {inked} non-white pixels ({100 * inked / pixels:.1f}%), "
          f"{len(colours)} colours, {blue} of the bars' blue")
    assert (width, height) == (1200, 2000), "the window asked for"
    assert inked > 0.03 * pixels, "the page is (nearly) blank"
    assert len(colours) >= 16, "too few colours for text and plots"
    assert blue > 500, "no bar drawn"
    return 0


if __name__ == "__main__":
    sys.exit(main())
