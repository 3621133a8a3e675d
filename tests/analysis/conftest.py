"""Shared fixtures of the analysis tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def single_torch_thread():
    """Small batched tensors: one torch thread is much faster on a shared machine (restored after)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
