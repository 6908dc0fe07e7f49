"""The status page, read as a user reads it: the page is parsed (html.parser) and every summary
row, every region's drill-down, every value and the classes that carry meaning (state colours,
"bad"/"warn" marks, open drill-downs) are compared with what the hand-built fleet
(tests/status/handbuilt.py) must show, written out here by hand. The browser test
(test_html.py) checks the layout; this one the content, without a browser."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

import pytest
from rayfleet.report import status_html

from tests.status.handbuilt import HOSTILE, NORTH, fleet_status

VOID = {"meta", "link", "br", "img", "input", "hr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        found = []
        for child in self.elements():
            if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                found.append(child)
            found += child.all(tag, cls)
        return found

    def one(self, tag: str | None = None, cls: str | None = None) -> Node:
        [node] = self.all(tag, cls)
        return node


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    builder = _Builder()
    builder.feed(page)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


@pytest.fixture(scope="module")
def page() -> Node:
    return parse(status_html.format_status(fleet_status()))


def _bar(node: Node) -> tuple[str | None, str | None, str | None]:
    """(aria-label, allocatable width, requested width) of a GPU bar."""
    bar = node.one("div", "bar")
    return bar.attrs["aria-label"], bar.one("span", "alloc").attrs["style"], bar.one("span", "used").attrs["style"]


def _pill(node: Node) -> tuple[set[str], str]:
    pill = node.one("span", "pill")
    return pill.classes, pill.text()


# --- header and totals ---------------------------------------------------------------------------

def test_header_counts_and_totals(page):
    assert page.one("title").text() == "rayfleet status: fleets/prod.yaml"
    meta = page.one("p", "meta")
    assert meta.one("code").text() == "fleets/prod.yaml"
    assert meta.one("time").attrs["datetime"] == "2026-12-02T01:30:00Z"
    assert meta.text() == "fleets/prod.yaml · taken 2026-12-02T01:30:00Z · read in 2.5 s"
    chips = page.one("ul", "chips").all("li")
    assert [(_pill(li), li.one("span", "num").text()) for li in chips] == [
        (({"pill", "s-healthy"}, "✓healthy"), "2"),
        (({"pill", "s-degraded"}, "!degraded"), "2"),
        (({"pill", "s-down"}, "✕unauthorized"), "1"),
    ]
    stats = [(s.one("b").text(), s.one("span").text()) for s in page.all("div", "stat")]
    assert stats == [
        ("4/5", "regions answered"),  # westus3 did not answer
        ("5.5 / 8", "GPUs requested / allocatable"),  # 3 + 2.5 of 4 + 3 + 1, answering regions only
        ("20", "GPUs of declared quota"),  # 10 + 4 + 6: westus3's quota counts though it did not answer
        ("3", "RayJobs running"),  # 1 + 2
        ("4", "Kueue workloads pending"),  # 1 + 2 + 1
    ]


# --- the summary table ---------------------------------------------------------------------------

def _rows(page: Node) -> list[Node]:
    return page.one("table", "summary").one("tbody").all("tr")


def test_one_summary_row_per_region_with_every_cell(page):
    rows = _rows(page)
    assert [r.classes for r in rows] == [{"r-healthy"}, {"r-degraded"}, {"r-down"}, {"r-healthy"}, {"r-degraded"}]
    heads = [(r.one("th").one("a").attrs["href"], r.one("th").one("a").text(), r.one("th").one("span", "sub").text())
             for r in rows]
    assert heads == [
        ("#region-eastus2", "eastus2", "eastus2 · ctx-eus2 · worker"),
        ("#region-swedencentral", "swedencentral", "swedencentral · aks-sdc"),  # no context: the cluster
        ("#region-westus3", "westus3", "westus3 · ctx-wus3 · worker"),
        ("#region-manager", "manager", "centralus · ctx-mgr · manager"),
        ("#region-north-eu-b-", NORTH, "northeurope · aks-neu"),
    ]
    cells = [[c.text() for c in r.all("td")] for r in rows]
    assert cells == [
        ["✓healthy", "0.2.0 r4 deployed", "1/1 ready", "1 running · 0 waiting", "3 / 4 · quota 10",
         "5 admitted · 1 pending", "webhook ✓1/1 PVC bound", "0.8 s"],
        ["!degraded", "0.1.0 r7 deployed drift", "1/2 ready", "2 running · 3 waiting · 1 failed",
         "2.5 / 4 · +1 pending", "4 admitted · 3 pending2/4 workers connected", "webhook missing1/2 PVC bound",
         "1.2 s"],
        ["✕unauthorized", HOSTILE, "0.3 s"],
        ["✓healthy", "0.3.1 r2 deployed", "none", "0 running · 0 waiting", "no GPU nodes", "-",
         "webhook ✓no PVC", "0.6 s"],
        ["!degraded", "-", "none", "0 running · 0 waiting", "no GPU nodes · quota 6", "-", "webhook ✓no PVC", "1.1 s"],
    ]
    assert [_pill(r)[0] for r in rows] == [{"pill", f"s-{s}"} for s in
                                           ("healthy", "degraded", "down", "healthy", "degraded")]
    # The unreadable region's message spans the six fact columns, marked down.
    down = rows[2].all("td")[1]
    assert (down.attrs["colspan"], down.classes) == ("6", {"down"})


def test_summary_marks_what_is_wrong(page):
    east, sweden, _, mgr, north = _rows(page)
    # Nothing is marked in a region in order; drift, failed jobs, a missing webhook, an unbound PVC are.
    assert east.all(cls="bad") == east.all(cls="warn") == []
    assert [n.text() for n in sweden.all(cls="warn")] == ["drift"]
    assert [n.text() for n in sweden.all(cls="bad")] == ["1 failed", "webhook missing", "1/2 PVC bound"]
    assert [n.text() for n in mgr.all(cls="muted")] == ["no GPU nodes", "-"]
    assert [n.text() for n in north.all(cls="muted")] == ["no GPU nodes · quota 6", "-"]
    assert [n.text() for n in sweden.all("span", "sub")][1:] == ["2/4 workers connected", "1/2 PVC bound"]


def test_summary_gpu_bars(page):
    east, sweden = _rows(page)[:2]
    assert _bar(east) == ("3 of 4 allocatable GPUs requested, declared quota 10 GPUs", "width:40.0%", "width:30.0%")
    assert _bar(sweden) == ("2.5 of 4 allocatable GPUs requested", "width:100.0%", "width:62.5%")


# --- the drill-downs ------------------------------------------------------------------------------

def _details(page: Node) -> dict[str, Node]:
    return {d.attrs["id"]: d for d in page.all("details", "region")}


def _cards(details: Node) -> dict[str, Node]:
    return {c.elements()[0].children[0].strip(): c for c in details.one("div", "body").elements()}


def _dl(card: Node) -> list[tuple[str, str]]:
    dl = card.one("dl").elements()
    return [(dt.text(), dd.text()) for dt, dd in zip(dl[::2], dl[1::2], strict=True)]


def _table(node: Node) -> tuple[list[str], list[list[str]]]:
    return ([th.text() for th in node.one("thead").all("th")],
            [[td.text() for td in tr.all("td")] for tr in node.one("tbody").all("tr")])


def test_every_region_has_a_drill_down_open_when_it_needs_attention(page):
    details = _details(page)
    assert list(details) == ["region-eastus2", "region-swedencentral", "region-westus3", "region-manager",
                             "region-north-eu-b-"]
    assert {k: "open" in d.attrs for k, d in details.items()} == {
        "region-eastus2": False, "region-swedencentral": True, "region-westus3": True, "region-manager": False,
        "region-north-eu-b-": True}
    summaries = [(_pill(d.one("summary")), d.one("summary").one("span", "sub").text()) for d in details.values()]
    assert summaries == [
        (({"pill", "s-healthy"}, "✓healthy"), "eastus2 · cluster aks-eus2 · context ctx-eus2 · worker · read in 0.8 s"),
        (({"pill", "s-degraded"}, "!degraded"), "swedencentral · cluster aks-sdc · read in 1.2 s"),
        (({"pill", "s-down"}, "✕unauthorized"),
         "westus3 · cluster aks-wus3 · context ctx-wus3 · worker · read in 0.3 s"),
        (({"pill", "s-healthy"}, "✓healthy"),
         "centralus · cluster aks-mgr · context ctx-mgr · manager · read in 0.6 s"),
        (({"pill", "s-degraded"}, "!degraded"), "northeurope · cluster aks-neu · read in 1.1 s"),
    ]
    assert [list(_cards(d)) for d in details.values()] == [
        ["Helm release", "Cluster", "RayClusters", "GPU node pools", "Kueue queues"],
        ["Problems", "Helm release", "Cluster", "RayClusters", "GPU node pools", "Kueue queues"],
        ["Problems"],
        ["Helm release", "Cluster"],
        ["Problems", "Helm release", "Cluster"],
    ]


def test_problems_cards(page):
    details = _details(page)
    problems = {k: [li.text() for li in _cards(d)["Problems"].all("li")] for k, d in details.items()
                if "Problems" in _cards(d)}
    assert problems == {
        "region-swedencentral": ["GPU node pool a100: 2/3 nodes ready",
                                 "the workload identity webhook is not installed"],
        "region-westus3": [HOSTILE],
        "region-north-eu-b-": ["no Helm release ray in namespace ray"],
    }


def test_release_cards(page):
    details = _details(page)
    east = _cards(details["region-eastus2"])["Helm release"]
    assert _dl(east) == [
        ("release", "ray/ray revision 4"), ("status", "deployed"), ("chart", "ray-aks 0.2.0"),
        ("app version", "2.52.0"), ("last deployed", "2026-11-30 09:12:41 UTC"),
        ("values", "sha256:0123456789abcdef"),  # the digest cut to 16 hex digits
        ("plan would deploy", "ray-aks 0.2.0, values sha256:0123456789abcdef"),
    ]
    assert [c.text() for c in east.all("code")] == ["sha256:0123456789abcdef"]  # only the digest is code
    assert east.all("ul") == []
    sweden = _cards(details["region-swedencentral"])["Helm release"]
    assert _dl(sweden) == [
        ("release", "ray/ray revision 7"), ("status", "deployed"), ("chart", "ray-aks 0.1.0"), ("app version", "-"),
        ("last deployed", "-"), ("values", "sha256:fedcba9876543210"), ("plan would deploy", "ray-aks 0.2.0")]
    drift = sweden.one("ul", "problems").all("li")
    assert [(li.classes, li.text()) for li in drift] == [
        ({"warn"}, "chart ray-aks 0.1.0 is deployed; plan would deploy ray-aks 0.2.0")]
    manager = _cards(details["region-manager"])["Helm release"]
    assert [k for k, _ in _dl(manager)] == ["release", "status", "chart", "app version", "last deployed", "values"]
    assert dict(_dl(manager))["last deployed"] == "2026-12-01 08:00:00 UTC"
    north = _cards(details["region-north-eu-b-"])["Helm release"]
    assert [(p.classes, p.text()) for p in north.all("p")] == [({"bad"}, "not installed")]


def test_cluster_cards(page):
    cards = {k: _cards(d).get("Cluster") for k, d in _details(page).items()}
    assert _dl(cards["region-eastus2"]) == [
        ("Kubernetes", "v1.33.2"), ("RayJobs", "Complete 2, Running 1"), ("workload identity webhook", "present"),
        ("PVC ray/ray-data", "Bound (ray-blob-fuse)")]
    sweden = cards["region-swedencentral"]
    assert _dl(sweden) == [
        ("Kubernetes", "v1.32.7"), ("RayJobs", "Failed 1, Running 2, Waiting 3"),
        ("workload identity webhook", "missing"), ("PVC ray/ray-data", "Bound"),
        ("PVC ray/scratch", "Pending (managed-csi)")]
    assert [n.text() for n in sweden.all(cls="bad")] == ["missing", "Pending"]
    assert [n.text() for n in sweden.all(cls="muted")] == ["(managed-csi)"]
    assert cards["region-eastus2"].all(cls="bad") == []
    assert _dl(cards["region-manager"]) == [
        ("Kubernetes", "v1.33.1"), ("RayJobs", "none"), ("workload identity webhook", "present"), ("PVCs", "none")]
    assert cards["region-westus3"] is None


def test_raycluster_and_gpu_pool_tables(page):
    details = _details(page)
    east, sweden = _cards(details["region-eastus2"]), _cards(details["region-swedencentral"])
    headers = ["RayCluster", "state", "head ready", "workers ready/desired per group"]
    assert _table(east["RayClusters"]) == (headers, [["ray/ray-cluster", "ready", "✓", "gpu 3/3, cpu 1/1"]])
    assert _table(sweden["RayClusters"]) == (headers, [
        ["ray/ray-clusterRayJob/sweep", "- (not ready)", "✕", "-"],
        ["team-b/svc", "ready", "✓", "gpu 2/3"]])
    first, second = sweden["RayClusters"].one("tbody").all("tr")
    assert [n.text() for n in first.all(cls="warn")] == ["(not ready)"]
    assert [n.text() for n in first.all(cls="bad")] == ["✕"]
    assert [n.text() for n in first.all(cls="sub")] == ["RayJob/sweep"]
    assert second.all(cls="warn") == second.all(cls="bad") == second.all(cls="sub") == []

    headers = ["pool", "VM size", "nodes ready", "GPUs requested / allocatable"]
    assert _table(east["GPU node pools"]) == (headers, [["h100", "Standard_NC40ads_H100_v5", "4/4", "3 / 4"]])
    assert [p.text() for p in east["GPU node pools"].all("p")] == [
        "Declared quota: StandardNCadsH100v5Family 400 vCPUs = 10 GPUs on Standard_NC40ads_H100_v5"]
    assert _table(sweden["GPU node pools"]) == (headers, [
        ["a100", "Standard_NC24ads_A100_v4", "2/3", "2.5 / 3"], ["t4", "-", "1/1", "0 / 1"]])
    assert sweden["GPU node pools"].all("p") == []  # no declared quota
    a100, t4 = sweden["GPU node pools"].one("tbody").all("tr")
    assert [n.text() for n in a100.all(cls="bad")] == ["2/3"] and t4.all(cls="bad") == []
    assert _bar(a100) == ("2.5 of 3 GPUs requested in pool a100", "width:100.0%", "width:83.3%")
    assert _bar(t4) == ("0 of 1 GPUs requested in pool t4", "width:100.0%", "width:0.0%")


def test_kueue_cards(page):
    details = _details(page)
    east = _cards(details["region-eastus2"])["Kueue queues"]
    assert east.all("h3")[0].text() == "Kueue queues kueue.x-k8s.io/v1beta2"
    [queues] = east.all("table")  # no workers, no dispatches
    headers = ["ClusterQueue", "admitted", "reserving", "pending", "GPU quota used"]
    assert _table(queues) == (headers, [["gpu", "5", "2", "1", "3 / 10"]])
    assert _bar(queues) == ("3 of 10 GPUs of quota used", "width:100.0%", "width:30.0%")

    sweden = _cards(details["region-swedencentral"])["Kueue queues"]
    assert sweden.all("h3")[0].text() == "Kueue queues kueue.x-k8s.io/v1beta1"
    assert [h.text() for h in sweden.all("h3")[1:]] == ["MultiKueue workers",
                                                        "Recent RayJobs: where they were dispatched"]
    queues, workers, dispatches = sweden.all("table")
    assert _table(queues) == (headers, [["gpu MultiKueue", "1", "0", "2", "2 / 8"], ["cpu", "3", "1", "1", "0 / 0"]])
    gpu, cpu = queues.one("tbody").all("tr")
    assert _bar(gpu)[1:] == ("width:100.0%", "width:25.0%") and _bar(cpu)[1:] == ("width:0.0%", "width:0.0%")
    assert _table(workers) == (["worker cluster", "region", "connected", "message"], [
        ["aks-eus2", "eastus2", "✓", ""],  # a worker named by its region's cluster name
        ["westus3", "westus3", "✕", "dial tcp: i/o timeout"],
        ["ctx-x", "-", "✕", ""],  # not known (None): not connected
        ["ctx-mgr", "manager", "✓", ""],  # a worker named by its region's context
    ])
    assert [[n.text() for n in tr.all(cls="bad")] for tr in workers.one("tbody").all("tr")] == [[], ["✕"], ["✕"], []]
    assert _table(dispatches) == (["RayJob", "ClusterQueue", "state", "worker", "created"], [
        ["ray/train", "gpu-batch", "admitted", "aks-eus2eastus2", "2026-12-02 01:10:00 UTC"],
        ["ray/sweep", "-", "pending", "nominated: eastus2, westus3", "2026-12-02 01:12:00 UTC"],
        ["ray/lost", "gpu-batch", "pending", "-", "-"],
        ["ray/here", "gpu-batch", "admitted", "eastus2", "not a time"],  # the region's own name: no second name
    ])


# --- escaping and the small helpers -------------------------------------------------------------

def test_hostile_names_and_messages_stay_text(page):
    assert page.all("img") == []
    assert [b for b in page.all("b") if "num" not in b.classes] == []  # north"eu<b> made no bold element
    raw = status_html.format_status(fleet_status())
    assert "&lt;img src=&quot;https://evil.example/x.png&quot;" in raw
    assert 'north&quot;eu&lt;b&gt;' in raw and NORTH not in raw


@pytest.mark.parametrize("timestamp, shown", [
    (None, "-"),
    ("", "-"),
    ("2026-11-28T16:40:03.118204+00:00", "2026-11-28 16:40:03 UTC"),
    ("2026-12-02T01:10:00Z", "2026-12-02 01:10:00 UTC"),
    ("2026-12-02T03:10:00+02:00", "2026-12-02 01:10:00 UTC"),  # converted to UTC
    ("2026-12-02T01:10:00", "2026-12-02 01:10:00"),  # no zone: not claimed to be UTC
    ("yesterday", "yesterday"),
])
def test_when(timestamp, shown):
    assert status_html.when(timestamp) == shown


def test_region_ids_and_state_classes():
    assert status_html.region_id("west us/3") == "region-west-us-3"
    assert status_html.region_id("a_b-C9") == "region-a_b-C9"
    assert [status_html.state_class(s) for s in ("healthy", "degraded", "unreachable", "timeout")] == [
        "healthy", "degraded", "down", "down"]


def test_bar_scales_to_the_largest_of_quota_allocatable_and_requested():
    def widths(*args):
        node = parse(status_html.bar(*args, "x"))
        return _bar(node)[1:]
    assert widths(3, 4, 10) == ("width:40.0%", "width:30.0%")
    assert widths(3, 4, None) == ("width:100.0%", "width:75.0%")
    assert widths(0.25, 0.5, None) == ("width:100.0%", "width:50.0%")  # less than one GPU: no floor of 1
    assert widths(6, 4, 5) == ("width:66.7%", "width:100.0%")  # requested beyond allocatable and quota
    assert widths(0, 0, None) == ("width:0.0%", "width:0.0%")
    assert widths(0, 0, 0) == ("width:0.0%", "width:0.0%")


def test_totals_when_no_region_answered():
    # Totals of requests come from the regions that answered; the declared quota from every region.
    status = fleet_status()
    only = replace(status, regions=(status.regions[2],))
    root = parse(status_html.format_status(only))
    assert [(s.one("b").text(), s.one("span").text()) for s in root.all("div", "stat")] == [
        ("0/1", "regions answered"), ("0 / 0", "GPUs requested / allocatable"), ("4", "GPUs of declared quota"),
        ("0", "RayJobs running"), ("0", "Kueue workloads pending")]
