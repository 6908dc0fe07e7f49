"""Where a finding points (``rayfleet.locations``): the template line of the field, the values line
that set it, the fleet file's region entry, stdin's name. Code scanning shows findings there, so
every line is pinned here, including the first line of a file and the boundaries between documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from rayfleet.findings import Finding, Severity, SourceLocation
from rayfleet.locations import (
    STDIN,
    STDIN_PSEUDO_PATH,
    Locator,
    field_keys,
    helm_template_sources,
    template_for_line,
    template_key_lines,
    template_line,
)

TEMPLATE = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata:
  name: {{ .Release.Name }}
  annotations:
    {{- include "x.annotations" . | nindent 4 }}
spec:
  # the head
  headGroupSpec:
    rayStartParams: {}
    template:
      spec:
        containers:
          - name: head
            image: "{{ .Values.image }}"
            resources: {{ toYaml .Values.resources | nindent 14 }}
  "quoted.key": 1
"""


def test_key_lines_follow_indentation_and_skip_comments_and_directives() -> None:
    lines = {kl.line: (kl.keys, kl.emits) for kl in template_key_lines(TEMPLATE)}
    assert lines[1] == (("apiVersion",), False)
    assert lines[4] == (("metadata", "name"), False)
    assert lines[5] == (("metadata", "annotations"), True)  # the include under it writes its subtree
    assert 6 not in lines and 8 not in lines  # a directive line, a comment
    assert lines[9] == (("spec", "headGroupSpec"), False)
    assert lines[14] == (("spec", "headGroupSpec", "template", "spec", "containers", "name"), False)
    assert lines[16] == (("spec", "headGroupSpec", "template", "spec", "containers", "resources"), True)
    assert lines[17] == (("spec", "quoted.key"), False)


@pytest.mark.parametrize(("path", "line"), [
    ("apiVersion", 1),
    ("metadata.name", 4),
    ('metadata.annotations["team.io/owner"]', 5),  # written by the include: the key above it
    ("spec.headGroupSpec.template.spec.containers[0].image", 15),
    ("spec.headGroupSpec.template.spec.containers[0].resources.limits.cpu", 16),  # toYaml
    ('spec["quoted.key"]', 17),
    ("spec.headGroupSpec.template.spec.containers[0].env", None),  # not in the template, no emitter above
    ("", None),
])
def test_template_line_of_a_field(path: str, line: int | None) -> None:
    assert template_line(TEMPLATE, path) == line


def test_field_keys_drop_indices_and_unquote() -> None:
    assert field_keys('a.b[0]["x.io/y"].c[12]') == ("a", "b", "x.io/y", "c")
    assert field_keys('a["say \\"hi\\""]') == ("a", 'say "hi"')
    assert field_keys("") == ()


def test_helm_sources_and_the_document_each_line_belongs_to(tmp_path: Path) -> None:
    written = tmp_path / "in-repo.yaml"
    written.write_text("x: 1\n")
    stream = ("---\n# Source: ray-aks/charts/ray-cluster/templates/a.yaml\nkind: A\n"
              "---\n# Source: /abs/path.yaml\nkind: B\n"
              f"---\n# Source: {written}\nkind: C\n"
              "---\n# Source: ray-aks/templates/d.yaml\nkind: D\n")
    # the absolute path that is not a file is left out; the one that is a file stays as written
    sources = helm_template_sources(stream.replace(str(written), "REL"), "charts/ray-aks")
    assert sources == [(2, "charts/ray-aks/charts/ray-cluster/templates/a.yaml"),
                       (11, "charts/ray-aks/templates/d.yaml")]
    assert template_for_line(sources, 1) is None
    assert template_for_line(sources, 2) == "charts/ray-aks/charts/ray-cluster/templates/a.yaml"
    assert template_for_line(sources, 10) == "charts/ray-aks/charts/ray-cluster/templates/a.yaml"
    assert template_for_line(sources, 11) == "charts/ray-aks/templates/d.yaml"
    assert template_for_line(sources, 12) == "charts/ray-aks/templates/d.yaml"


def finding(**kw) -> Finding:
    return Finding(policy="p", severity=Severity.ERROR, message="m", remediation="r", **kw)


def test_a_field_in_a_template_points_at_its_line_and_then_at_the_values_line(tmp_path: Path) -> None:
    template = tmp_path / "rc.yaml"
    template.write_text(TEMPLATE)
    values = SourceLocation("values/eastus2.yaml", 7)
    locator = Locator()
    assert locator.locate(finding(template=str(template), path="metadata.name")) == [
        SourceLocation(str(template), 4)]
    assert locator.locate(finding(template=str(template), path="metadata.name", source=values)) == [
        SourceLocation(str(template), 4), values]
    # the field is not in the template: the values line first, then the template's first line
    assert locator.locate(finding(template=str(template), path="spec.x", source=values)) == [
        values, SourceLocation(str(template), 1)]
    assert locator.locate(finding(template=str(template), path="spec.x")) == [SourceLocation(str(template), 1)]
    # a values location without a line, or in the template itself, is not a second place
    assert locator.locate(finding(template=str(template), path="metadata.name",
                                  source=SourceLocation("values/eastus2.yaml"))) == [SourceLocation(str(template), 4)]
    assert locator.locate(finding(template=str(template), path="metadata.name",
                                  source=SourceLocation(str(template), 9))) == [SourceLocation(str(template), 4)]
    # a template that cannot be read (packed in a .tgz): line 1
    gone = str(tmp_path / "charts" / "dep.tgz" / "t.yaml")
    assert locator.locate(finding(template=gone, path="metadata.name")) == [SourceLocation(gone, 1)]


def test_findings_without_a_template() -> None:
    locator = Locator(fleet_file="fleet.yaml", region_lines={"eastus2": 12, "westus3": 30})
    assert locator.locate(finding(source=SourceLocation("m.yaml", 5))) == [SourceLocation("m.yaml", 5)]
    assert locator.locate(finding(source=SourceLocation("m.yaml"))) == [SourceLocation("m.yaml", 1)]
    # the fleet file without a line: the region's entry
    assert locator.locate(finding(source=SourceLocation("fleet.yaml"), region="westus3")) == [
        SourceLocation("fleet.yaml", 30)]
    # no source at all: the fleet file at the region's entry, else line 1
    assert locator.locate(finding(region="eastus2")) == [SourceLocation("fleet.yaml", 12)]
    assert locator.locate(finding()) == [SourceLocation("fleet.yaml", 1)]
    assert Locator(default_file="plan.yaml").locate(finding()) == [SourceLocation("plan.yaml", 1)]


def test_stdin_and_scanned_inputs() -> None:
    assert Locator(stdin_name="deploy/ray.yaml").locate(finding(source=SourceLocation(STDIN, 8))) == [
        SourceLocation("deploy/ray.yaml", 8)]
    assert Locator().locate(finding(source=SourceLocation(STDIN))) == [SourceLocation(STDIN_PSEUDO_PATH, 1)]
    assert Locator(inputs=("a.yaml", "b.yaml")).locate(finding()) == [SourceLocation("a.yaml", 1)]
    assert Locator(inputs=("-",)).locate(finding()) == [SourceLocation(STDIN_PSEUDO_PATH, 1)]
    assert Locator().locate(finding()) == [SourceLocation(STDIN_PSEUDO_PATH, 1)]
    # another pseudo-file (in angle brackets) is not a place in the repository
    assert Locator(inputs=("x.yaml",)).locate(finding(source=SourceLocation("<render>", 3))) == [
        SourceLocation("x.yaml", 1)]


def test_a_directive_under_the_very_first_key_marks_it() -> None:
    text = 'labels:\n  {{- include "x.labels" . | nindent 2 }}\n'
    [only] = template_key_lines(text)
    assert (only.line, only.keys, only.emits) == (1, ("labels",), True)
    assert template_line(text, 'labels["app"]') == 1
    assert template_key_lines('{{- include "x" . }}\nkind: A\n')[0].emits is False  # nothing above it to mark
