#!/usr/bin/env python3
"""Draws a Chrome trace-event file (as mgm-java's --trace writes it) into a self-contained HTML page:
an overview of the whole run and a zoom into one region (e.g. one decode step), one track per
thread or device stream, nested slices stacked by depth and coloured by op, plus the op totals.
Perfetto's UI needs a network connection; this page does not, and headless Chromium can render it
to a PNG:

    python3 trace_to_html.py trace.json trace.html --zoom decode --zoom-index -1
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars \
        --window-size=1280,860 --screenshot=trace.png file://$PWD/trace.html
"""
import argparse
import collections
import html
import json


def load(path):
    with open(path) as f:
        trace = json.load(f)
    names = {}
    slices = []
    for e in trace["traceEvents"]:
        if e.get("ph") == "M" and e.get("name") in ("thread_name", "process_name"):
            key = (e["pid"], e.get("tid", -1))
            names[key] = e["args"]["name"]
        elif e.get("ph") == "X":
            slices.append({"track": (e["pid"], e["tid"]), "name": e["name"], "cat": e.get("cat", ""),
                           "ts": float(e["ts"]), "dur": float(e["dur"]), "args": e.get("args", {})})
    return trace.get("otherData", {}), names, slices


def with_depths(slices):
    """Stack depth of every slice on its track (parents first: sorted by start, longer first)."""
    by_track = collections.defaultdict(list)
    for s in slices:
        by_track[s["track"]].append(s)
    for track in by_track.values():
        track.sort(key=lambda s: (s["ts"], -s["dur"]))
        open_ends = []
        for s in track:
            while open_ends and open_ends[-1] <= s["ts"]:
                open_ends.pop()
            s["depth"] = len(open_ends)
            open_ends.append(s["ts"] + s["dur"])
    return by_track


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("out")
    ap.add_argument("--zoom", help="name of the region to zoom into (e.g. decode)")
    ap.add_argument("--zoom-index", type=int, default=0, help="which occurrence of it (negative: from the end)")
    ap.add_argument("--overview-from", help="start the overview at the first region of this name (skip e.g. the load)")
    ap.add_argument("--title", default="mgm-java trace")
    a = ap.parse_args()

    other, names, slices = load(a.trace)
    by_track = with_depths(slices)
    zoom = None
    if a.zoom:
        regions = sorted((s for s in slices if s["name"] == a.zoom and s["cat"] != "op"), key=lambda s: s["ts"])
        if not regions:
            raise SystemExit("no region named %r in %s" % (a.zoom, a.trace))
        z = regions[a.zoom_index]
        zoom = {"from": z["ts"], "to": z["ts"] + z["dur"], "label": "%s #%d" % (a.zoom, regions.index(z) + 1)}

    overview_from = None
    if a.overview_from:
        starts = [s["ts"] for s in slices if s["name"] == a.overview_from and s["cat"] != "op"]
        if not starts:
            raise SystemExit("no region named %r in %s" % (a.overview_from, a.trace))
        overview_from = min(starts)
    totals = collections.defaultdict(lambda: [0, 0.0])
    for s in slices:
        if s["cat"] == "op" and s["track"][0] == 1 and (overview_from is None or s["ts"] >= overview_from):
            totals[s["name"]][0] += 1
            totals[s["name"]][1] += s["dur"]
    rows = sorted(totals.items(), key=lambda kv: -kv[1][1])
    all_ops = sum(v[1] for _, v in rows) or 1.0

    tracks = []
    for key in sorted(by_track):
        label = names.get(key, "thread %s" % key[1])
        if key[0] != 1:
            label = names.get(key, "stream %s" % key[1]) + " (device)"
        tracks.append({"label": label, "slices": [[s["ts"], s["dur"], s["depth"], s["name"], s["cat"],
                                                   s["args"].get("shape", "")] for s in by_track[key]]})
    data = {"tracks": tracks, "zoom": zoom, "overviewFrom": overview_from, "overviewName": a.overview_from}
    table = "".join("<tr><td>%s</td><td>%d</td><td>%.2f</td><td>%.1f%%</td></tr>"
                    % (html.escape(n), c, d / 1000, 100 * d / all_ops) for n, (c, d) in rows[:10])
    page = TEMPLATE.replace("@TITLE@", html.escape(a.title)) \
        .replace("@SUBTITLE@", html.escape("%s - backend %s - %d slices" % (a.trace.split("/")[-1], other.get("backend", "?"),
                                                                         len(slices)))) \
        .replace("@SINCE@", ", from the first " + html.escape(a.overview_from) if a.overview_from else "") \
        .replace("@TABLE@", table).replace("@DATA@", json.dumps(data))
    with open(a.out, "w") as f:
        f.write(page)


TEMPLATE = """<!doctype html><html><head><meta charset="utf-8"><title>@TITLE@</title><style>
body{font:13px sans-serif;margin:12px;background:#fff;color:#222}h1{font-size:17px;margin:0}
.sub{color:#666;margin:2px 0 8px}canvas{display:block;border:1px solid #ccc;margin:4px 0 10px}
h2{font-size:13px;margin:6px 0 0}table{border-collapse:collapse;font-size:12px}
td,th{padding:1px 10px 1px 0;text-align:right}td:first-child,th:first-child{text-align:left}
</style></head><body><h1>@TITLE@</h1><div class="sub">@SUBTITLE@</div>
<h2 id="h-all">whole run</h2><canvas id="all"></canvas>
<h2 id="h-zoom"></h2><canvas id="zoom"></canvas>
<h2>ops by total time (host threads@SINCE@)</h2>
<table><tr><th>op</th><th>calls</th><th>total ms</th><th>share</th></tr>@TABLE@</table>
<script>
const data = @DATA@;
const W = 1240, ROW = 17, LABEL = 120;
function colour(name, cat) {
  if (cat === 'phase') return '#8fa9c9';
  if (cat === 'layer') return '#c9d7e8';
  let h = 0; for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return 'hsl(' + (h % 360) + ',62%,62%)';
}
function draw(id, from, to) {
  const cv = document.getElementById(id), g = cv.getContext('2d');
  let height = 22;
  const layout = data.tracks.map(t => { const depth = Math.max(0, ...t.slices.map(s => s[2])) + 1;
    const y = height; height += depth * ROW + 8; return {t, y}; });
  cv.width = W; cv.height = height;
  g.font = '11px sans-serif'; g.textBaseline = 'middle';
  const scale = (W - LABEL - 10) / (to - from), x = ts => LABEL + (ts - from) * scale;
  // time axis
  g.fillStyle = '#444'; g.strokeStyle = '#ddd';
  const span = to - from, step = Math.pow(10, Math.floor(Math.log10(span / 6)));
  const tick = [1, 2, 5, 10].map(m => m * step).find(s => span / s <= 8);
  for (let k = 0; from + k * tick <= to; k++) {
    const t = from + k * tick, ms = k * tick / 1000;
    g.beginPath(); g.moveTo(x(t), 14); g.lineTo(x(t), height); g.stroke();
    g.fillText(tick >= 1000 ? ms.toFixed(tick >= 100000 ? 0 : 1) + ' ms' : (k * tick).toFixed(0) + ' us', x(t) + 2, 8);
  }
  for (const {t, y} of layout) {
    g.fillStyle = '#222'; g.fillText(t.label, 4, y + ROW / 2);
    for (const [ts, dur, depth, name, cat, shape] of t.slices) {
      if (ts + dur < from || ts > to) continue;
      const x0 = Math.max(LABEL, x(ts)), x1 = Math.min(W - 10, x(ts + dur)), w = Math.max(1, x1 - x0);
      const yy = y + depth * ROW;
      g.fillStyle = colour(name, cat); g.fillRect(x0, yy, w, ROW - 2);
      if (w > 30) {
        g.save(); g.beginPath(); g.rect(x0, yy, w, ROW - 2); g.clip();
        g.fillStyle = '#111'; g.fillText(cat === 'op' && w > 160 && shape ? name + ' ' + shape : name, x0 + 3, yy + ROW / 2 - 1);
        g.restore();
      }
    }
  }
}
let lo = Infinity, hi = -Infinity;
for (const t of data.tracks) for (const s of t.slices) { lo = Math.min(lo, s[0]); hi = Math.max(hi, s[0] + s[1]); }
if (data.overviewFrom !== null) {
  lo = data.overviewFrom;
  document.getElementById('h-all').textContent = 'run from the first ' + data.overviewName;
}
draw('all', lo, hi);
if (data.zoom) {
  document.getElementById('h-zoom').textContent = 'zoom: ' + data.zoom.label + ' (' +
      ((data.zoom.to - data.zoom.from) / 1000).toFixed(2) + ' ms)';
  draw('zoom', data.zoom.from, data.zoom.to);
} else { document.getElementById('zoom').style.display = 'none'; }
</script></body></html>
"""

if __name__ == "__main__":
    main()
