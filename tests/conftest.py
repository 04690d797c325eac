"""Test-suite wide settings: the GPU lane.

Tests marked ``gpu`` need a CUDA device: they are skipped where none is present (``make test``)
and run by ``make test-gpu``, which also runs every notebook with ``DLCOURSE_DEVICE=cuda``.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    if not any("gpu" in item.keywords for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (make test-gpu on a machine with one)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
