"""The fleet status as one self-contained HTML page: inline CSS and a few lines of inline
JavaScript, no external script, font, image or request (a Content-Security-Policy says so to the
browser too). A summary row per region with its state, GPU use against quota, then a drill-down
per region (``<details>``). Everything from the snapshot is escaped."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape

from ..kube.status import ClusterSnapshot, GpuPool, KueueFacts, RayClusterFacts
from ..status import DEGRADED, HEALTHY, FleetStatus, RegionStatus
from .status_text import job_summary, number, release_cell

ICON = {HEALTHY: "✓", DEGRADED: "!"}  # every other state: ✕ (the region could not be read)
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]+")

CSS = """
:root{--bg:#f6f8fa;--card:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--track:#e6eaef;
--ok:#1a7f37;--ok-bg:#dafbe1;--warn:#8a5a00;--warn-bg:#fff1c2;--bad:#c4232d;--bad-bg:#ffe4e6;
--alloc:#9ec5fe;--used:#0b62d6;--link:#0550ae;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#151b23;--fg:#e6edf3;--muted:#9198a1;
--line:#30363d;--track:#262c36;--ok:#57d364;--ok-bg:#12361d;--warn:#e3b341;--warn-bg:#3b2e0a;--bad:#ff8182;
--bad-bg:#4a1619;--alloc:#1f4f8f;--used:#58a6ff;--link:#79c0ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
a{color:var(--link)}
header,main,footer{max-width:1280px;margin:0 auto;padding:0 24px}
header{padding-top:24px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 10px}
h3{font-size:14px;margin:0 0 8px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.meta{color:var(--muted);margin:0}
.chips{display:flex;flex-wrap:wrap;gap:8px;list-style:none;padding:0;margin:14px 0 0}
.pill{display:inline-flex;align-items:center;gap:6px;border-radius:999px;padding:2px 10px;font-weight:600;
white-space:nowrap;border:1px solid transparent}
.pill .icon{font-size:12px}
.s-healthy{color:var(--ok);background:var(--ok-bg);border-color:var(--ok)}
.s-degraded{color:var(--warn);background:var(--warn-bg);border-color:var(--warn)}
.s-down{color:var(--bad);background:var(--bad-bg);border-color:var(--bad)}
.totals{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-top:16px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.stat b{display:block;font-size:22px}
.stat span{color:var(--muted)}
.tablewrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{font-size:12px;color:var(--muted);font-weight:600;background:var(--bg);white-space:nowrap}
tbody tr:last-child>*{border-bottom:0}
tbody th{font-weight:600}
.summary tbody tr{border-left:4px solid transparent}
.summary tr.r-healthy>th{box-shadow:inset 4px 0 var(--ok)}
.summary tr.r-degraded>th{box-shadow:inset 4px 0 var(--warn)}
.summary tr.r-down>th{box-shadow:inset 4px 0 var(--bad)}
.sub{display:block;color:var(--muted);font-weight:400;font-size:12px}
.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{position:relative;height:10px;min-width:140px;border-radius:5px;background:var(--track);overflow:hidden;
margin:3px 0 2px}
.bar .alloc,.bar .used{position:absolute;left:0;top:0;bottom:0;border-radius:5px}
.bar .alloc{background:var(--alloc)}
.bar .used{background:var(--used)}
.bad{color:var(--bad);font-weight:600}
.down{color:var(--bad)}
.warn{color:var(--warn);font-weight:600}
.muted{color:var(--muted)}
.tools{display:flex;gap:8px;margin:0 0 10px}
button{font:inherit;color:var(--fg);background:var(--card);border:1px solid var(--line);border-radius:6px;
padding:4px 12px;cursor:pointer}
button:hover{border-color:var(--muted)}
button:focus-visible,summary:focus-visible,a:focus-visible{outline:3px solid var(--used);outline-offset:2px}
details.region{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:0 0 12px}
details.region>summary{cursor:pointer;padding:12px 16px;display:flex;flex-wrap:wrap;align-items:center;gap:10px;
font-weight:600;font-size:15px}
details.region>summary .sub{display:inline;font-size:13px}
details.region[open]>summary{border-bottom:1px solid var(--line)}
.body{padding:16px;display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}
.card.wide{grid-column:1/-1}
.card table th,.card table td{padding:5px 8px}
ul.problems{margin:0;padding-left:20px}
ul.problems li{margin:2px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
footer{color:var(--muted);padding-top:8px;padding-bottom:32px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
"""

JS = """
(function () {
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  document.querySelectorAll("button[data-open]").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("data-open") === "true";
      document.querySelectorAll("details.region").forEach(function (d) { d.open = open; });
    });
  });
})();
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def when(timestamp: str | None) -> str:
    """``2026-11-28T16:40:03.118204+00:00`` → ``2026-11-28 16:40:03 UTC`` (as given when not ISO 8601)."""
    if not timestamp:
        return "-"
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment.tzinfo else str(moment)


def region_id(name: str) -> str:
    return "region-" + _SAFE_ID.sub("-", name)


def state_class(state: str) -> str:
    return state if state in (HEALTHY, DEGRADED) else "down"


def pill(state: str) -> str:
    return (f'<span class="pill s-{state_class(state)}"><span class="icon" aria-hidden="true">'
            f'{ICON.get(state, "✕")}</span>{_e(state)}</span>')


def bar(used: float, allocatable: float, quota: float | None, label: str) -> str:
    """Requested (dark) over allocatable (light), on a track as long as the quota (or allocatable)."""
    scale = max(quota or 0, allocatable, used) or 1
    return (f'<div class="bar" role="img" aria-label="{_e(label)}">'
            f'<span class="alloc" style="width:{min(100.0, allocatable / scale * 100):.1f}%"></span>'
            f'<span class="used" style="width:{min(100.0, used / scale * 100):.1f}%"></span></div>')


def gpu_cell(region: RegionStatus, facts: ClusterSnapshot) -> str:
    """The summary's GPU cell of a region that answered (``facts``: its snapshot)."""
    quota = region.gpu_quota.gpus if region.gpu_quota else None
    if not facts.gpu_pools:
        text = "no GPU nodes" + (f" · quota {quota}" if quota is not None else "")
        return f'<span class="muted">{_e(text)}</span>'
    used, alloc = region.gpus_requested, region.gpus_allocatable
    label = f"{number(used)} of {number(alloc)} allocatable GPUs requested" + (
        f", declared quota {quota} GPUs" if quota is not None else "")
    text = f"{number(used)} / {number(alloc)}" + (f" · quota {quota}" if quota is not None else "")
    if facts.gpus_pending:
        text += f" · +{number(facts.gpus_pending)} pending"
    return bar(used, alloc, quota, label) + f'<span class="num">{_e(text)}</span>'


def summary_row(region: RegionStatus) -> str:
    rid = region_id(region.name)
    facts = region.facts
    where = " · ".join(x for x in (region.location, region.kube_context or region.cluster, region.role) if x)
    head = (f'<tr class="r-{state_class(region.state)}"><th scope="row"><a href="#{rid}">{_e(region.name)}</a>'
            f'<span class="sub">{_e(where)}</span></th><td>{pill(region.state)}</td>')
    if facts is None:
        return head + (f'<td colspan="6" class="down">{_e(region.message)}</td>'
                       f'<td class="num">{region.seconds:.1f} s</td></tr>')
    release = _e(release_cell(region)).replace("(drift)", '<span class="warn">drift</span>')
    ready = sum(rc.ready for rc in facts.rayclusters)
    clusters = f"{ready}/{len(facts.rayclusters)} ready" if facts.rayclusters else "none"
    jobs = job_summary(facts.rayjobs)
    job_text = f"{jobs['running']} running · {jobs['waiting']} waiting"
    if jobs["failed"]:
        job_text += f' · <span class="bad">{jobs["failed"]} failed</span>'
    kueue = '<span class="muted">-</span>'
    if facts.kueue is not None:
        admitted = sum(q.admitted for q in facts.kueue.cluster_queues)
        pending = sum(q.pending for q in facts.kueue.cluster_queues)
        kueue = f"{admitted} admitted · {pending} pending"
        if facts.kueue.workers:
            active = sum(w.active is True for w in facts.kueue.workers)
            kueue += f'<span class="sub">{active}/{len(facts.kueue.workers)} workers connected</span>'
    bound = sum(c.phase == "Bound" for c in facts.volume_claims)
    storage = f"{bound}/{len(facts.volume_claims)} PVC bound" if facts.volume_claims else "no PVC"
    identity = "webhook ✓" if facts.identity_webhook else '<span class="bad">webhook missing</span>'
    storage_html = _e(storage) if bound == len(facts.volume_claims) else f'<span class="bad">{_e(storage)}</span>'
    return head + (f"<td>{release}</td><td>{_e(clusters)}</td><td>{job_text}</td><td>{gpu_cell(region, facts)}</td>"
                   f"<td>{kueue}</td><td>{identity}<span class=\"sub\">{storage_html}</span></td>"
                   f'<td class="num">{region.seconds:.1f} s</td></tr>')


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], caption: str) -> str:
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (f'<div class="tablewrap"><table><caption class="sr-only">{_e(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _release_card(region: RegionStatus, facts: ClusterSnapshot) -> str:
    release = facts.release
    if release is None:
        return '<div class="card"><h3>Helm release</h3><p class="bad">not installed</p></div>'
    expected = region.expected
    rows = [("release", f"{release.namespace}/{release.name} revision {release.revision}"),
            ("status", release.status), ("chart", f"{release.chart} {release.chart_version}"),
            ("app version", release.app_version or "-"), ("last deployed", when(release.last_deployed)),
            ("values", release.values_digest[:23])]
    if expected is not None:
        rows.append(("plan would deploy", f"{expected.chart} {expected.chart_version}"
                     + (f", values {expected.values_digest[:23]}" if expected.values_digest else "")))
    items = "".join(f"<dt>{_e(k)}</dt><dd>{'<code>' + _e(v) + '</code>' if k == 'values' else _e(v)}</dd>"
                    for k, v in rows)
    drift = "".join(f'<li class="warn">{_e(d)}</li>' for d in region.drift)
    return (f'<div class="card"><h3>Helm release</h3><dl>{items}</dl>'
            + (f'<ul class="problems">{drift}</ul>' if drift else "") + "</div>")


def _raycluster_rows(clusters: Iterable[RayClusterFacts]) -> Iterable[list[str]]:
    for rc in clusters:
        groups = ", ".join(f"{g.name} {g.ready}/{g.desired}" for g in rc.groups) or "-"
        state = _e(rc.state or "-") + ("" if rc.ready else ' <span class="warn">(not ready)</span>')
        yield [f"{_e(rc.namespace)}/{_e(rc.name)}" + (f'<span class="sub">{_e(rc.owner)}</span>' if rc.owner else ""),
               state, "✓" if rc.head_ready else '<span class="bad">✕</span>', _e(groups)]


def _pool_rows(pools: Iterable[GpuPool]) -> Iterable[list[str]]:
    for p in pools:
        nodes = f"{p.nodes_ready}/{p.nodes_total}"
        label = f"{number(p.gpus_requested)} of {number(p.gpus_allocatable)} GPUs requested in pool {p.name}"
        yield [_e(p.name), _e(p.vm_size or "-"),
               nodes if p.nodes_ready == p.nodes_total else f'<span class="bad">{nodes}</span>',
               bar(p.gpus_requested, p.gpus_allocatable, None, label)
               + f'<span class="num">{number(p.gpus_requested)} / {number(p.gpus_allocatable)}</span>']


def _kueue_card(kueue: KueueFacts, status: FleetStatus) -> str:
    queues = _table(("ClusterQueue", "admitted", "reserving", "pending", "GPU quota used"), (
        [_e(q.name) + (' <span class="sub">MultiKueue</span>' if q.multikueue else ""), str(q.admitted),
         str(q.reserving), str(q.pending),
         bar(q.gpu_used, q.gpu_quota, q.gpu_quota, f"{number(q.gpu_used)} of {number(q.gpu_quota)} GPUs of quota used")
         + f'<span class="num">{number(q.gpu_used)} / {number(q.gpu_quota)}</span>']
        for q in kueue.cluster_queues), "Kueue ClusterQueues")
    parts = [f'<div class="card wide"><h3>Kueue queues <span class="sub" style="display:inline;text-transform:none">'
             f'kueue.x-k8s.io/{_e(kueue.api_version)}</span></h3>{queues}']
    if kueue.workers:
        workers = _table(("worker cluster", "region", "connected", "message"), (
            [_e(w.name), _e(status.worker_region(w.name) or "-"),
             "✓" if w.active else '<span class="bad">✕</span>', _e(w.message)] for w in kueue.workers),
            "MultiKueue worker clusters")
        parts.append(f"<h3 style=\"margin-top:14px\">MultiKueue workers</h3>{workers}")
    if kueue.dispatches:
        rows = []
        for d in kueue.dispatches:
            where = d.cluster or (("nominated: " + ", ".join(d.nominated)) if d.nominated else "-")
            region = status.worker_region(d.cluster) if d.cluster else None
            rows.append([f"{_e(d.namespace)}/{_e(d.job)}", _e(d.queue or "-"), _e(d.state),
                         _e(where) + (f'<span class="sub">{_e(region)}</span>' if region and region != where else ""),
                         _e(when(d.created))])
        parts.append('<h3 style="margin-top:14px">Recent RayJobs: where they were dispatched</h3>'
                     + _table(("RayJob", "ClusterQueue", "state", "worker", "created"), rows, "Recent dispatches"))
    return "".join(parts) + "</div>"


def region_details(region: RegionStatus, status: FleetStatus) -> str:
    facts = region.facts
    where = " · ".join(x for x in (region.location, f"cluster {region.cluster}",
                                    f"context {region.kube_context}" if region.kube_context else "", region.role) if x)
    opened = " open" if region.state != HEALTHY else ""
    out = [f'<details class="region" id="{region_id(region.name)}"{opened}><summary>{pill(region.state)}'
           f'{_e(region.name)} <span class="sub">{_e(where)} · read in {region.seconds:.1f} s</span></summary>'
           '<div class="body">']
    problems = ([region.message] if region.message else []) + list(region.problems)
    if problems:
        items = "".join(f"<li>{_e(p)}</li>" for p in problems)
        out.append(f'<div class="card wide"><h3>Problems</h3><ul class="problems">{items}</ul></div>')
    if facts is not None:
        out.append(_release_card(region, facts))
        jobs = ", ".join(f"{s} {n}" for s, n in facts.rayjobs) or "none"
        identity = "present" if facts.identity_webhook else '<span class="bad">missing</span>'
        claims = "".join(f"<dt>PVC {_e(c.namespace)}/{_e(c.name)}</dt><dd>"
                         + (_e(c.phase) if c.phase == "Bound" else f'<span class="bad">{_e(c.phase)}</span>')
                         + (f' <span class="muted">({_e(c.storage_class)})</span>' if c.storage_class else "")
                         + "</dd>" for c in facts.volume_claims)
        out.append(f'<div class="card"><h3>Cluster</h3><dl><dt>Kubernetes</dt><dd>{_e(facts.server_version)}</dd>'
                   f"<dt>RayJobs</dt><dd>{_e(jobs)}</dd><dt>workload identity webhook</dt><dd>{identity}</dd>"
                   f"{claims or '<dt>PVCs</dt><dd>none</dd>'}</dl></div>")
        if facts.rayclusters:
            out.append('<div class="card wide"><h3>RayClusters</h3>' + _table(
                ("RayCluster", "state", "head ready", "workers ready/desired per group"),
                _raycluster_rows(facts.rayclusters), "RayClusters") + "</div>")
        if facts.gpu_pools:
            quota = ""
            if region.gpu_quota:
                quota = "<p class=\"muted\">Declared quota: " + _e(", ".join(
                    f"{f.family} {f.vcpus} vCPUs = {f.gpus} GPUs on {f.vm_size}"
                    for f in region.gpu_quota.families)) + "</p>"
            out.append('<div class="card wide"><h3>GPU node pools</h3>' + _table(
                ("pool", "VM size", "nodes ready", "GPUs requested / allocatable"), _pool_rows(facts.gpu_pools),
                "GPU node pools") + quota + "</div>")
        if facts.kueue is not None:
            out.append(_kueue_card(facts.kueue, status))
    out.append("</div></details>")
    return "".join(out)


def format_status(status: FleetStatus) -> str:
    counts = status.counts()
    chips = "".join(f"<li>{pill(state)} <span class=\"num\">{n}</span></li>" for state, n in counts.items())
    answered = [r for r in status.regions if r.facts is not None]
    used = sum(r.gpus_requested for r in answered)
    alloc = sum(r.gpus_allocatable for r in answered)
    quota = sum(r.gpu_quota.gpus for r in status.regions if r.gpu_quota)
    running = sum(job_summary(r.facts.rayjobs)["running"] for r in answered if r.facts)
    pending = sum(q.pending for r in answered if r.facts and r.facts.kueue for q in r.facts.kueue.cluster_queues)
    stats = [(f"{status.answered}/{len(status.regions)}", "regions answered"),
             (f"{number(used)} / {number(alloc)}", "GPUs requested / allocatable"),
             (str(quota), "GPUs of declared quota"), (str(running), "RayJobs running"),
             (str(pending), "Kueue workloads pending")]
    totals = "".join(f'<div class="stat"><b class="num">{_e(v)}</b><span>{_e(k)}</span></div>' for v, k in stats)
    rows = "".join(summary_row(r) for r in status.regions)
    details = "".join(region_details(r, status) for r in status.regions)
    title = f"rayfleet status: {status.fleet}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="rayfleet status">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Fleet status</h1>
<p class="meta"><code>{_e(status.fleet)}</code> · taken <time datetime="{_e(status.taken_at)}">{_e(status.taken_at)}\
</time> · read in {status.seconds:.1f} s</p>
<ul class="chips" aria-label="regions by state">{chips}</ul>
<div class="totals">{totals}</div>
</header>
<main>
<h2 id="regions">Regions</h2>
<div class="tablewrap"><table class="summary" aria-labelledby="regions">
<thead><tr><th scope="col">Region</th><th scope="col">State</th><th scope="col">Helm release</th>\
<th scope="col">RayClusters</th><th scope="col">RayJobs</th><th scope="col">GPUs requested / allocatable</th>\
<th scope="col">Kueue</th><th scope="col">Identity · storage</th><th scope="col">Read</th></tr></thead>
<tbody>{rows}</tbody>
</table></div>
<h2 id="details">Details</h2>
<div class="tools"><button type="button" data-open="true">Expand all</button>\
<button type="button" data-open="false">Collapse all</button></div>
{details}
</main>
<footer>Generated by <code>rayfleet status</code>. Bars: dark = GPUs requested by scheduled pods, light = GPUs \
allocatable on ready and unready GPU nodes, track = the region's declared GPU quota.</footer>
<script>{JS}</script>
</body>
</html>
"""
