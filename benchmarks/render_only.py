"""``python -m benchmarks.render_only FLEET``: what ``helm template`` does for every region, nothing
else -- the Helm render floor the issue compares validate with.

Each region's values files are read by Helm's own reader (as ``helm -f`` reads them), folded in
Helm's order, and the chart is loaded and rendered by Helm's engine (``EmbeddedHelm.render``).
The rendered text is not parsed, no schema or policy runs: those are validate's own work.
Prints the seconds the rendering loop took (inside the process, imports excluded) on stderr.
"""

from __future__ import annotations

import sys
import time

import helm_python
from rayfleet.fleet import load_fleet
from rayfleet.render import EmbeddedHelm
from rayfleet.values import fold_values


def main(argv: list[str]) -> int:
    fleet = load_fleet(argv[0])
    engine = EmbeddedHelm()
    start = time.perf_counter()
    texts = 0
    for region in fleet.regions:
        layers = [helm_python.values_from_yaml(p.read_text(encoding="utf-8")) or {}
                  for p in fleet.values_stack_paths(region)]
        rendered = engine.render(fleet.chart, fleet.values_stack_paths(region), fold_values(layers),
                                 release=region.release_name, namespace=region.namespace,
                                 kube_version=region.cluster.kubernetes_version)
        texts += sum(len(text) for text in rendered.manifests.values())
    seconds = time.perf_counter() - start
    print(f"render_fleet seconds: {seconds:.6f} ({len(fleet.regions)} regions, {texts} characters)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
