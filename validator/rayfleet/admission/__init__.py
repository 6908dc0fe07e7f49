"""rayfleet's release policies as ValidatingAdmissionPolicies: the CEL twins (``twins``), the
objects built from them (``build``), offline evaluation (``evaluate``), the chart's generated
file (``chart_file``) and the commands' library side (``commands``). See docs/policies.md."""
