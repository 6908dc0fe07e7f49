"""Precision and recall of ``rayfleet scan`` on realistic manifests (``python -m benchmarks.precision``).

``benchmarks/realworld/manifests/`` holds manifests written by us in the shapes the public projects
document and apply (KubeRay samples, the Blob CSI driver's examples, the azure-workload-identity
quick start, Kueue's RayJob example, the Azure samples for Ray on AKS): upstream files are never
copied. ``benchmarks/realworld/truth.yaml`` says, file by file, which errors are real problems:
``policy path`` entries, written by a person reading the manifest, not by running the tool.

Each file is scanned on its own (as a user would scan it), against the KubeRay CRDs. An error the
tool reports that the truth lists is a true positive; one it does not list is a false alarm; a
truth entry the tool does not report is a miss. Warnings and info findings are counted but not
judged.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rayfleet.findings import Severity
from rayfleet.pipeline import scan_manifests

CORPUS = Path(__file__).parent / "realworld"
SHARED_CRDS = Path(__file__).parents[2] / "shared" / "crds" / "kuberay"


@dataclass
class FileScore:
    file: str
    true: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    warnings: int = 0


@dataclass
class Score:
    files: list[FileScore]

    @property
    def true(self) -> int:
        return sum(len(f.true) for f in self.files)

    @property
    def false_alarms(self) -> int:
        return sum(len(f.false_alarms) for f in self.files)

    @property
    def missed(self) -> int:
        return sum(len(f.missed) for f in self.files)

    @property
    def precision(self) -> float:
        reported = self.true + self.false_alarms
        return self.true / reported if reported else 1.0

    @property
    def recall(self) -> float:
        real = self.true + self.missed
        return self.true / real if real else 1.0


def load_truth(corpus: Path = CORPUS) -> dict[str, list[str]]:
    raw = yaml.safe_load((corpus / "truth.yaml").read_text()) or {}
    return {str(name): [str(e) for e in entries or []] for name, entries in raw.items()}


def score(corpus: Path = CORPUS, crds: Path | None = SHARED_CRDS) -> Score:
    truth = load_truth(corpus)
    files: list[FileScore] = []
    for manifest in sorted((corpus / "manifests").glob("*.yaml")):
        result = scan_manifests([str(manifest)], crds=crds)
        errors = Counter(f"{f.policy} {f.path or '-'}" for f in result.findings if f.severity is Severity.ERROR)
        want = Counter(truth.get(manifest.name, []))
        files.append(FileScore(
            manifest.name,
            true=sorted((errors & want).elements()),
            false_alarms=sorted((errors - want).elements()),
            missed=sorted((want - errors).elements()),
            warnings=sum(1 for f in result.findings if f.severity is Severity.WARNING),
        ))
    return Score(files)


def to_markdown(result: Score) -> str:
    lines = [
        f"Errors reported: {result.true + result.false_alarms}; real problems: {result.true + result.missed}; "
        f"false alarms: {result.false_alarms}; missed: {result.missed}; "
        f"**precision {result.precision:.1%}**, **recall {result.recall:.1%}**.",
        "",
        "| Manifest (our own, in the upstream shape) | True errors | False alarms | Missed | Warnings |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in result.files:
        lines.append(f"| `{f.file}` | {len(f.true)} | {len(f.false_alarms)} | {len(f.missed)} | {f.warnings} |")
    details = [(f.file, kind, e) for f in result.files
               for kind, entries in (("false alarm", f.false_alarms), ("missed", f.missed)) for e in entries]
    if details:
        lines += ["", *[f"- `{file}`: {kind}: `{entry}`" for file, kind, entry in details]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.precision", description=__doc__.split("\n\n")[0])
    parser.add_argument("--crds", type=Path, default=SHARED_CRDS if SHARED_CRDS.is_dir() else None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "precision.md")
    args = parser.parse_args(argv)
    result = score(CORPUS, args.crds)
    text = to_markdown(result)
    args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
