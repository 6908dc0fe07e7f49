"""rayfleet's benchmarks: ``python -m benchmarks`` (see docs/benchmarks.md).

One module, one job: ``generate`` writes synthetic fleets and their rendered manifests, ``corpus``
the planted credentials and misconfigurations, ``measure`` times commands, ``schema_cost`` times
per-object schema checks in-process, ``render_only`` is the render-only child process,
``environment`` records the machine and versions, ``report`` writes results.md, results.json
and scaling.png.
"""
