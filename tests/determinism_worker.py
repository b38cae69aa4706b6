"""Writes one trace per (variant, seed) into a folder; run by tests/test_determinism.py in separate processes."""

import sys
from pathlib import Path

from faultlab.choices import SeededChoices
from faultlab.registry import get_protocol
from faultlab.runtime import simulate
from faultlab.trace import write_trace

out, protocol_name, seeds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
protocol = get_protocol(protocol_name)
for variant in protocol.variants:
    config = protocol.make_config(variant.settings)
    for seed in range(seeds):
        result = simulate(protocol, config, SeededChoices(seed))
        write_trace(result, out / f"{variant.name}-{seed}.json", {"engine": "seeded", "seed": seed})
