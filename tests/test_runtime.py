"""Tests of dlcourse.runtime: seeded generators, seed(), device() and passive_omp()."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
import torch

import dlcourse
from dlcourse.runtime import device, generator, seed


def test_generator_is_a_seeded_cpu_generator():
    a, b = generator(5), generator(5)
    assert a.device.type == "cpu"
    assert torch.equal(torch.randn(4, generator=a), torch.randn(4, generator=b))


@pytest.mark.parametrize("bad", [1.0, "1", True, None])
def test_generator_seed_must_be_an_int(bad):
    with pytest.raises(TypeError, match="seed must be an int, got"):
        generator(bad)


def test_seed_returns_a_generator_and_seeds_torch():
    g = seed(3)
    first = torch.rand(2)
    seed(3)
    assert torch.equal(torch.rand(2), first)
    assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=generator(3)))


def test_seed_errors_follow_the_rule():
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        seed(-1)
    with pytest.raises(TypeError, match="seed must be a non-negative int, got float 1.5"):
        seed(1.5)


def test_device_override(monkeypatch):
    monkeypatch.setenv("DLCOURSE_DEVICE", "cpu")
    assert device() == torch.device("cpu")
    monkeypatch.setenv("DLCOURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match=r"DLCOURSE_DEVICE='tpu': use one of 'cpu', 'cuda'"):
        device()


def test_passive_omp_before_and_after_torch(monkeypatch):
    code = ("import os, warnings, dlcourse; warnings.simplefilter('error'); "
            "print(dlcourse.passive_omp(), os.environ['OMP_WAIT_POLICY'])")
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["True", "PASSIVE"], out.stderr
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with pytest.warns(RuntimeWarning, match="after `import torch`"):
        assert dlcourse.passive_omp() is False  # torch is already imported in this process


def test_passive_omp_is_quiet_when_the_environment_set_it_before_torch(monkeypatch):
    """As in the autograder's warm children: torch imported, the policy set before it loaded."""
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dlcourse.passive_omp() is True


def test_num_threads_sets_and_restores_the_thread_count():
    import torch

    from dlcourse.runtime import num_threads

    before = torch.get_num_threads()
    with num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), num_threads(1):
        raise RuntimeError("restored even when the block raises")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="n must be a positive int"):
        with num_threads(0):
            pass
