"""The GPU lane: the library on CUDA gives what it gives on the CPU.

Random numbers are drawn on the CPU from explicit generators and moved, so a model built for CUDA
starts from the very weights it has on the CPU; its outputs and statistics agree to float32
rounding. Skipped without a CUDA device (``tests/conftest.py``); ``make test-gpu`` runs them.
"""

from __future__ import annotations

import pytest
import torch

from dlcourse.data import load_digits
from dlcourse.nn import mlp
from dlcourse.probes import ActivationStats
from dlcourse.runtime import generator
from dlcourse.train import fit

pytestmark = pytest.mark.gpu


def _model(device: str) -> torch.nn.Module:
    return mlp(64, 10, width=32, depth=3, activation="tanh", generator=generator(0)).to(device)


def test_the_same_seed_builds_the_same_weights_on_both_devices():
    cpu, cuda = _model("cpu"), _model("cuda")
    for a, b in zip(cpu.parameters(), cuda.parameters()):
        assert b.device.type == "cuda" and torch.equal(a, b.cpu())


def test_forward_and_probes_agree_across_devices():
    data = load_digits()
    stats = {}
    for device in ("cpu", "cuda"):
        model = _model(device)
        with ActivationStats(model) as probe:
            out = model(data.X_train[:256].to(device))
        stats[device] = (out.detach().cpu(), [s.std for s in probe.layers])
    torch.testing.assert_close(stats["cuda"][0], stats["cpu"][0], rtol=1e-4, atol=1e-5)
    assert stats["cuda"][1] == pytest.approx(stats["cpu"][1], rel=1e-3)


def test_training_on_cuda_follows_the_cpu_run():
    data = load_digits()
    histories = {}
    for device in ("cpu", "cuda"):
        model = _model(device)
        train = (data.X_train, data.y_train)
        histories[device] = fit(model, train, epochs=3, lr=0.05, seed=0, device=device)
    cpu, cuda = histories["cpu"].loss, histories["cuda"].loss
    assert cuda == pytest.approx(cpu, rel=1e-3)
