"""``python -m benchmarks.render_only FLEET``: render every region and nothing else.

The floor for this design: loading the fleet and Helm's own engine rendering each release. Prints
the seconds ``render_fleet`` took (inside the process, imports excluded) on stderr.
"""

from __future__ import annotations

import sys
import time

from rayfleet.fleet import load_fleet
from rayfleet.pipeline import render_fleet


def main(argv: list[str]) -> int:
    fleet = load_fleet(argv[0])
    start = time.perf_counter()
    renders = render_fleet(fleet)
    seconds = time.perf_counter() - start
    objects = sum(len(r.release.objects) for r in renders.values())
    print(f"render_fleet seconds: {seconds:.6f} ({len(renders)} regions, {objects} objects)", file=sys.stderr)
    return 0 if all(r.rendered for r in renders.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
