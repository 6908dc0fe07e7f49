"""GitOps delivery: the fleet handed to engines that already deliver and stage releases.

- ``settings``: the fleet file's ``delivery:`` block (the chart's source, intervals, Fleet Manager names).
- ``flux``: per region a Flux HelmRelease, its source and one ConfigMap per values layer, and
  Flux's own values merge (``flux_values``) to prove parity with what rayfleet validated.
- ``fleet_manager``: hub objects for Azure Kubernetes Fleet Manager (placement, per-region
  overrides, a staged update strategy whose stages are the waves) and the update run.
- ``writer``: deterministic YAML, written to a folder safely (fresh temp folder, then swapped in).
"""
