"""README claims stay true: the fleet example covers the fleet schema, release names agree across
the docs, the speed numbers are the recorded benchmark's (with its machine), the detection numbers
are the corpus's."""

from __future__ import annotations

import json
import re

import yaml
from rayfleet.policies import ALL_POLICIES

from tests.policies.secret_corpus_report import load_corpus

from .helpers import REPO

README = (REPO / "README.md").read_text()
SCHEMA = json.loads((REPO / "schemas" / "fleet.schema.json").read_text())


def _fleet_example() -> dict:
    section = README[README.index("## The fleet file"):]
    block = section[section.index("```yaml\n") + 8:]
    return yaml.safe_load(block[:block.index("```")])


def test_the_readme_fleet_example_shows_every_key_of_the_schema():
    example = _fleet_example()
    assert sorted(set(SCHEMA["properties"]) - set(example)) == []
    [region] = example["regions"]
    block = README[README.index("## The fleet file"):]
    # Keys that replace or rename something (manifests, fleetMember) are shown as comments.
    commented = set(re.findall(r"\n\s+# (\w+): ", block[:block.index("```\n")]))
    assert sorted(set(SCHEMA["definitions"]["region"]["properties"]) - set(region) - commented) == []
    known = {p.id for p in ALL_POLICIES}
    assert [w["policy"] for w in example["waivers"] if w["policy"] not in known] == []


def test_every_doc_installs_the_release_under_the_example_fleets_name():
    release = yaml.safe_load((REPO / "examples" / "fleet.yaml").read_text())["release"]["name"]
    docs = [REPO / "README.md", REPO / "charts" / "ray-aks" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    names = {}
    for doc in docs:
        pattern = (r"helm (?:install|upgrade --install|template) ([a-z][-a-z0-9]*) \S*ray-aks"
                   r"|helm test ([a-z][-a-z0-9]*) (?:-n|--namespace)")
        for match in re.finditer(pattern, doc.read_text()):
            names.setdefault(match.group(1) or match.group(2), []).append(doc.name)
    assert set(names) == {release}, names
    assert len(names[release]) >= 6  # README, docs/charts.md and the chart README: install and test


def test_speed_numbers_are_the_recorded_benchmarks_and_name_its_machine():
    results = json.loads((REPO / "benchmarks" / "results" / "results.json").read_text())
    speed = README[README.index("## Speed"):README.index("## Python API")]
    machine, versions = results["machine"], results["versions"]
    assert f"{machine['CPU']} VM ({machine['cores']} cores, {machine['RAM']} RAM" in speed
    assert f"Python\n{versions['python']}" in speed or f"Python {versions['python']}" in speed
    assert f"{versions['rayfleet policies']} policies" in speed
    rayfleet = {m["regions"]: sorted(m["wall"])[len(m["wall"]) // 2] for m in results["measurements"]
                if m["tool"] == "rayfleet validate"}
    row = next(line for line in speed.splitlines() if line.startswith("| `rayfleet validate`"))
    cells = [c.strip() for c in row.strip("|").split("|")][1:]
    for regions, cell in zip(sorted(rayfleet), cells, strict=True):
        stated = float(cell.split()[0])
        assert abs(stated - rayfleet[regions]) <= 0.06 * rayfleet[regions], (regions, stated, rayfleet[regions])


def test_detection_numbers_are_the_corpus_sizes():
    corpus = load_corpus()
    positives, negatives = len(corpus["positives"]), len(corpus["negatives"])
    assert f"recognise {positives} of {positives} positives and raise 0 false alarms on {negatives} negatives" \
        in " ".join(README.split())
