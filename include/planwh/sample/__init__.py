"""``planwh sample``: realistic, deterministic landing files with a known share of planted faults.

See :mod:`planwh.sample.generate` for the layout and what each file holds.
"""

from planwh.sample.generate import (
    FAULT_REASONS,
    GATE_RULES,
    MANIFEST_NAME,
    Issue,
    SampleError,
    SampleFile,
    SampleManifest,
    SampleSpec,
    clear_previous_sample,
    generate_sample,
)
from planwh.sample.reference import ReferenceDataError

__all__ = [
    "FAULT_REASONS",
    "GATE_RULES",
    "MANIFEST_NAME",
    "Issue",
    "ReferenceDataError",
    "SampleError",
    "SampleFile",
    "SampleManifest",
    "SampleSpec",
    "clear_previous_sample",
    "generate_sample",
]
