"""`rayfleet admit` over mutated manifests (the hostile-input contract of issue #12): exit 0, 1 or
2, an exit 2 is one line, no exception escapes, however the objects are malformed."""

from __future__ import annotations

import random

from ..core.helpers import run_cli
from ..hostile.test_cli_fuzz import _assert_contract, _manifests, _structure_mutation, _text_mutation

SEED = 18_2026
ROUNDS = 40


def test_admit_never_crashes_on_mutated_manifests():
    rng = random.Random(SEED)
    texts = _manifests()
    exits: set[int] = set()
    for round_ in range(ROUNDS):
        base = rng.choice(texts)
        mutated = _structure_mutation(base, rng) if round_ % 2 == 0 else None
        if mutated is None:
            mutated = _text_mutation(base, rng)
        result = run_cli("admit", "-", "--report", "json", input=mutated)
        _assert_contract(result, f"admit round {round_}:\n{mutated[:1500]}")
        exits.add(result.exit_code)
    assert exits >= {1, 2}, exits  # the fuzz reached both the policies and the refusals
