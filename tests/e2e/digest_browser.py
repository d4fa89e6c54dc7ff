"""digest_browser: the digest's HTML part as a browser draws it (headless Chromium).

check(html, text) renders the HTML part of a digest mail in Debian's chromium
(headless, no network, a private profile), reads the laid-out page back
through the DOM and takes a screenshot, and returns what is wrong ([] when
nothing):

  - what mail clients drop or block is absent: no <svg>, no <style> block,
    no <img>, <script>, <link>, no src/href/url() fetching anything;
  - the chart area is there, drawn: its table has a size, every bar is as
    long as its value on a scale from zero, and its colours are on the
    screenshot's pixels in about the area the bars take;
  - every figure of the text part is in the HTML with the same value and
    change, and its sparkline bars are as high as the value on the figure's
    zero-based scale (percentages on 0-100, ratings on 0-5);
  - what needs a manager comes first, the same sentences as the text part;
  - the page fits the 600 px a mail client gives it.

The DOM is read by a script added to a copy of the page for the test only
(the mail itself carries none).  The PNG is decoded with zlib: standard
library only.

    python3 tests/e2e/digest_browser.py TEXT HTML [SCREENSHOT.png] [--dark]

checks a text part and an HTML part saved to files and prints the problems;
--dark also renders it with Chromium's forced dark mode (what mail clients'
dark modes do) and checks that bars and text still stand out.
"""

import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import digest_check  # noqa: E402

WIDTH = 600
BAR_MAX = 340
SPARK = 20
ACTIVE, WAITING, SPARK_RGB = (0x2e, 0x7d, 0x32), (0xe8, 0x71, 0x0a), (0x3b, 0x6f, 0xd8)

_PROBE = """
<script>
(function () {
  function box(e) { var b = e.getBoundingClientRect();
    return [b.left, b.top, b.width, b.height]; }
  var r = {bars: [], figures: {}, top: [], lists: [], chart: null, labels: []};
  document.querySelectorAll('#chart td.bar').forEach(function (td) {
    r.bars.push([+td.getAttribute('data-value'), td.getAttribute('bgcolor')].concat(box(td))
                .concat([+td.getAttribute('width')]));
  });
  document.querySelectorAll('#chart td').forEach(function (td) {
    var t = td.textContent.trim();
    if (/^\\d+ (active|waiting)$/.test(t)) r.labels.push(t);
  });
  document.querySelectorAll('tr[data-key]').forEach(function (tr) {
    var slots = [];
    tr.querySelectorAll('table.spark td[title]').forEach(function (td) {
      var bar = td.querySelector('td.sbar');
      slots.push([td.getAttribute('title'), bar ? +bar.getAttribute('data-value') : null,
                  bar ? bar.getBoundingClientRect().height : null,
                  bar ? +bar.getAttribute('height') : null]);
    });
    r.figures[tr.getAttribute('data-key')] = [tr.cells[0].innerText.trim(),
      tr.cells[1].innerText.trim(), tr.cells[2].innerText.trim(), slots];
  });
  var figs = document.getElementById('figures');
  r.figures_bottom = figs ? figs.getBoundingClientRect().bottom : 0;
  var c = document.getElementById('chart');
  r.chart = c ? box(c) : null;
  document.querySelectorAll('#top li').forEach(function (li) { r.top.push(li.innerText); });
  document.querySelectorAll('h2').forEach(function (h) { r.lists.push(h.innerText.trim()); });
  var none = document.getElementById('none');
  r.none = none ? none.innerText : null;
  r.width = document.documentElement.scrollWidth;
  var main = document.body.querySelector('table');
  r.height = main ? main.getBoundingClientRect().bottom : 4000;
  var pre = document.createElement('pre');
  pre.id = 'mentord-probe';
  pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
})();
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args, profile, height=4000):
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--force-device-scale-factor=1",
           "--user-data-dir=" + profile, "--window-size=640,%d" % height,
           # Nothing may be fetched: a request anywhere but here would fail.
           "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"] + args
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def png_pixels(path, max_rows=None):
    """(width, height, rows of RGB bytes, 3 per pixel) of an 8-bit RGB or RGBA PNG; with
    max_rows, only that many rows from the top are decoded."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width, height, bpp = 8, [], 0, 0, 3
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            if depth != 8 or color not in (2, 6):
                raise ValueError("PNG colour type %d depth %d" % (color, depth))
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(min(height, max_rows or height)):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 2:
            line = bytearray((x + u) & 255 for x, u in zip(line, prev))
        elif f in (1, 3, 4):
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                if f == 1:
                    line[x] = (line[x] + a) & 255
                    continue
                b = prev[x]
                if f == 3:
                    line[x] = (line[x] + ((a + b) >> 1)) & 255
                    continue
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if bpp == 3 else bytes(
            v for i, v in enumerate(line) if i % 4 != 3))
        prev = line
    return width, height, rows


def _count(row, x0, x1, rgb):
    """Pixels of colour rgb (within a small tolerance) in row[x0:x1]."""
    n = 0
    r0, g0, b0 = rgb
    for i in range(3 * x0, 3 * x1, 3):
        if abs(row[i] - r0) <= 6 and abs(row[i + 1] - g0) <= 6 and abs(row[i + 2] - b0) <= 6:
            n += 1
    return n


def static_problems(doc):
    """What a mail client would strip or fetch, from the source alone."""
    bad = []
    low = doc.lower()
    for what in ("<svg", "<style", "<img", "<script", "<link", "<iframe", "<object", "@import"):
        if what in low:
            bad.append("%s in the HTML part" % what)
    for m in re.finditer(r"\b(src|href|background|srcset)\s*=", low):
        bad.append("a %s= attribute: something fetched from elsewhere" % m.group(1))
    if re.search(r"url\s*\(", low):
        bad.append("url(...) in a style: something fetched from elsewhere")
    return bad


def _scaled(v, top, steps):
    s = v * steps // top
    return min(steps, max(s, 1 if v > 0 else 0))


def _figure_top(unit, values):
    if unit == "%":
        return 100
    if unit == ".":
        return 50
    return max([1] + values)


def _lum(rgb):
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _dark_problems(page, r, work):
    """With a client's dark mode that darkens the page itself (Chromium's forced dark, as
    Gmail's and Outlook's apps do), bars and text still stand out from the background:
    each bar's middle against the page beside the chart, and the darkest and lightest
    pixels of the figures table.  (A client that honours the page's color-scheme keeps
    its own explicit light colours, readable as they are.)"""
    shot = os.path.join(work, "dark.png")
    rc, _ = _run(["--enable-features=WebContentsForceDark",
                  "--screenshot=" + shot, "file://" + page], os.path.join(work, "p3"),
                 min(8000, int(r["height"]) + 16))
    if rc != 0 or not os.path.exists(shot):
        return ["chromium did not take the dark-mode screenshot (status %d)" % rc]
    last = int(r.get("figures_bottom", 0)) + 2
    width, _, rows = png_pixels(shot, last)
    x0, y0, w, h = (int(v) for v in r["chart"])
    bg = rows[y0 + 2][3 * (width - 5):3 * (width - 4)]
    bad = []
    if _lum(bg) > 128:
        return ["dark mode: the page stayed light %s; is Chromium's forced dark mode gone?"
                % (tuple(bg),)]
    for b in r["bars"]:
        x, y = int(b[2] + b[4] / 2), int(b[3] + b[5] / 2)
        px = rows[y][3 * x:3 * x + 3]
        if abs(_lum(px) - _lum(bg)) < 30:
            bad.append("dark mode: a bar (%d) at %d,%d is %s on a %s page" % (
                b[0], x, y, tuple(px), tuple(bg)))
    lums = [_lum(row[i:i + 3]) for row in rows[y0 + h:last] for i in range(0, 3 * width, 3 * 7)]
    if lums and max(lums) - min(lums) < 100:
        bad.append("dark mode: the figures have no contrast (%d to %d)" % (min(lums), max(lums)))
    return bad[:5]


def check(doc, text, screenshot=None, dark=False):
    """Problems of HTML part doc (str) against the parsed text part ([] when none); with
    dark, also as a client's dark mode draws it."""
    if chromium() is None:
        return ["no chromium to render the digest with (tests/deps.sh installs it)"]
    bad = static_problems(doc)
    d = digest_check.TextDigest(text) if isinstance(text, str) else text
    work = tempfile.mkdtemp(prefix="mentord-browser.")
    try:
        page = os.path.join(work, "digest.html")
        probe = os.path.join(work, "probe.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(doc)
        with open(probe, "w", encoding="utf-8") as f:
            f.write(doc.replace("</body>", _PROBE + "</body>"))
        rc, dom = _run(["--dump-dom", "file://" + probe], os.path.join(work, "p2"))
        m = re.search(r'<pre id="mentord-probe">(.*?)</pre>', dom, re.S)
        if rc != 0 or not m:
            return bad + ["chromium did not lay the page out (status %d)" % rc]
        r = json.loads(html.unescape(m.group(1)))
        # The screenshot is as tall as the page (the probe's <pre> is not in it).
        shot = screenshot or os.path.join(work, "digest.png")
        rc, _ = _run(["--screenshot=" + shot, "file://" + page], os.path.join(work, "p1"),
                     min(8000, int(r["height"]) + 16))
        if rc != 0 or not os.path.exists(shot):
            return bad + ["chromium did not take a screenshot (status %d)" % rc]
        bad += _dom_problems(r, d)
        bad += _pixel_problems(shot, r)
        if dark and r["chart"]:
            bad += _dark_problems(page, r, work)
    finally:
        if screenshot is None or not screenshot.startswith(work):
            shutil.rmtree(work, ignore_errors=True)
    return bad


def _dom_problems(r, d):
    bad = []
    if r["width"] > WIDTH + 40:
        bad.append("the page is %d px wide" % r["width"])
    # The chart: 12 periods of two bars, each as long as its value from zero.
    if not r["chart"] or r["chart"][2] < 400 or r["chart"][3] < 100:
        bad.append("chart area missing or too small: %s" % r["chart"])
    if len(r["labels"]) != 2 * digest_check.PERIODS:
        bad.append("chart: %d bar labels, wanted %d" % (len(r["labels"]),
                                                        2 * digest_check.PERIODS))
    values = [int(x.split()[0]) for x in r["labels"]]
    top = max([1] + values)
    # The width attribute is what Outlook's Word engine draws; the browser, the style.
    for v, color, _, _, w, h, attr in r["bars"]:
        if abs(w - _scaled(v, top, BAR_MAX)) > 1 or attr != _scaled(v, top, BAR_MAX) or h < 8:
            bad.append("chart bar of %d is %.0fx%.0f px (width=%d), wanted %d px long (scale 0-%d)"
                       % (v, w, h, attr, _scaled(v, top, BAR_MAX), top))
    if len(r["bars"]) != sum(1 for v in values if v > 0):
        bad.append("chart: %d bars drawn for %d values above zero"
                   % (len(r["bars"]), sum(1 for v in values if v > 0)))
    # Every figure, with its value, change and sparkline.
    html_rows = {v[0]: v for v in r["figures"].values()}
    if list(html_rows) != d.order:
        bad.append("HTML figures %s, text figures %s" % (list(html_rows), d.order))
    for label, (value, change, spark) in d.figures.items():
        got = html_rows.get(label)
        if got is None:
            bad.append("%s: not in the HTML" % label)
            continue
        if (got[1], got[2]) != (value, change):
            bad.append("%s: HTML shows %s %s, text %s %s" % (label, got[1], got[2], value, change))
        slots = got[3]
        if len(slots) != digest_check.PERIODS:
            bad.append("%s: %d sparkline slots" % (label, len(slots)))
            continue
        if slots[-1][0] != value:
            bad.append("%s: the last bar says %s, the figure %s" % (label, slots[-1][0], value))
        unit = "%" if value.endswith("%") else "." if "." in value else ""
        if value == "-":
            unit = "%" if "%" in label else "." if "(1-5)" in label else ""
        measured = [s[1] for s in slots if s[1] is not None]
        top = _figure_top(unit, measured)
        for title, v, h, attr in slots:
            if v is None:
                if title != "-":
                    bad.append("%s: no bar for %s" % (label, title))
                continue
            want = max(1, _scaled(v, top, SPARK))
            if abs(h - want) > 0.5 or attr != want:
                bad.append("%s: bar of %s is %.1f px high (height=%s), wanted %d (scale 0-%d)"
                           % (label, title, h, attr, want, top))
    # What needs a manager: the same sentences, first.
    t = [" ".join(x.split()) for x in r["top"]]
    want = [" ".join(x.split()) for x in d.top]
    if t != want:
        bad.append("needs-a-manager sentences: HTML %s, text %s" % (t, want))
    if not r["lists"] or r["lists"][0] != "Needs a manager this week":
        bad.append("the HTML does not start with what needs a manager: %s" % r["lists"][:2])
    for title in d.lists:
        if title not in r["lists"]:
            bad.append("list %r not in the HTML" % title)
    if d.none_line and (r["none"] is None or " ".join(r["none"].split()) != d.none_line):
        bad.append("empty lists: HTML %r, text %r" % (r["none"], d.none_line))
    return bad


def _pixel_problems(shot, r):
    """The chart's colours are on the screen, about as much of them as its bars take."""
    bad = []
    if not r["chart"]:
        return bad
    x0, y0, w, h = (int(round(v)) for v in r["chart"])
    # Only down to the end of the figures: the lists below have no colour to count.
    last = max([y0 + h] + [int(b[3] + b[5]) for b in r["bars"]] + [int(r.get("figures_bottom", 0))])
    try:
        width, height, rows = png_pixels(shot, last + 2)
    except (ValueError, zlib.error, struct.error) as e:
        return ["screenshot unreadable: %s" % e]
    lo, hi = max(0, x0), min(width, x0 + w)
    for name, color, rgb in (("active", "#2e7d32", ACTIVE), ("waiting", "#e8710a", WAITING)):
        got = sum(_count(rows[y], lo, hi, rgb) for y in range(max(0, y0), min(len(rows), y0 + h)))
        area = sum(b[4] * b[5] for b in r["bars"] if b[1] == color)
        if area and not 0.8 * area <= got <= 1.25 * area + 50:
            bad.append("screenshot: %d %s pixels in the chart, its bars take %d"
                       % (got, name, area))
    spark = sum(_count(row, 0, width, SPARK_RGB) for row in rows[y0 + h:])
    want = sum(s[2] * 6 for f in r["figures"].values() for s in f[3] if s[1])
    if want and spark < 0.8 * want:
        bad.append("screenshot: %d sparkline pixels, the bars take %d" % (spark, want))
    return bad


def main(argv):
    if len(argv) < 3:
        print("usage: digest_browser.py TEXT HTML [SCREENSHOT.png]", file=sys.stderr)
        return 2
    text = open(argv[1], encoding="utf-8").read()
    doc = open(argv[2], encoding="utf-8").read()
    dark = "--dark" in argv
    args = [a for a in argv if a != "--dark"]
    bad = check(doc, text, args[3] if len(args) > 3 else None, dark)
    for b in bad:
        print("digest-browser: %s" % b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
