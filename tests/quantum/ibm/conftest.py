"""Shared fixtures: an isolated data directory and no IBM credentials (nothing reaches the network)."""

from __future__ import annotations

import pytest

from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.theories.schwinger_qubit import SchwingerModel


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Every test gets its own QLAT_DATA_DIR and HOME and no QISKIT_IBM_* variables."""
    for name in ("QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL", "QISKIT_IBM_URL"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("QLAT_DATA_DIR", str(tmp_path / "data"))
    # the runtime resolves ~/.qiskit/qiskit-ibm.json at import time: point it at the empty HOME too
    import qiskit_ibm_runtime.accounts.management as management

    monkeypatch.setattr(management, "_DEFAULT_ACCOUNT_CONFIG_JSON_FILE", str(home / ".qiskit" / "qiskit-ibm.json"))
    yield


@pytest.fixture
def model4() -> SchwingerModel:
    return SchwingerModel(n_sites=4, spacing=1.0, mass=0.5)


@pytest.fixture
def one_step() -> AdiabaticSchedule:
    """One Trotter step (the cheapest circuit that exercises every layer)."""
    return AdiabaticSchedule(total_time=0.75, dt=0.75, initial_mass=1.0)
