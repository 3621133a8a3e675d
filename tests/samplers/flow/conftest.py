"""Shared tiny flows for the flow tests (trained for a few dozen steps at most)."""

from __future__ import annotations

import pytest
import torch

from qlat.core.lattice import Lattice
from qlat.samplers.flow import FlowModel, TrainConfig, save_checkpoint, train
from qlat.theories.phi4 import Phi4Theory
from qlat.theories.u1 import U1Theory


def make_model_dir(path, theory, arch, *, steps, batch=32, lr=3e-3, seed=0):
    torch.manual_seed(seed)
    model = FlowModel(theory.params(), arch)
    config = TrainConfig(steps=steps, batch=batch, lr=lr, seed=seed)
    state = train(model, theory, config=config)
    save_checkpoint(path, model, config=config, state=state)
    return path


@pytest.fixture(scope="session")
def u1_theory():
    return U1Theory(Lattice((4, 4)), beta=1.0)


@pytest.fixture(scope="session")
def u1_model_dir(tmp_path_factory, u1_theory):
    """U(1) L=4 β=1, 4 spline layers, 40 training steps ("barely trained")."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return make_model_dir(tmp_path_factory.mktemp("u1flow"), u1_theory, {"n_layers": 4, "hidden": [8]}, steps=40,
                              batch=64, lr=5e-3)
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="session")
def free_theory():
    return Phi4Theory(Lattice((4, 4)), m2=1.0, lam=0.0)


@pytest.fixture(scope="session")
def free_model_dir(tmp_path_factory, free_theory):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return make_model_dir(tmp_path_factory.mktemp("phi4flow"), free_theory, {"n_layers": 4, "hidden": [8]},
                              steps=30)
    finally:
        torch.set_num_threads(before)
