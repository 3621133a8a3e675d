"""A qubit observable declared once, at run time, is read by every backend (issue 22).

The toy observable is registered on :class:`SchwingerModel` here (and removed afterwards): two
components mixing what backends read differently — a constant, Z, ZZ, the hopping XX + YY, and a
three-body Z·(XX + YY) — so each backend's generic path (sector kernels, Qiskit operators and
measurement bases, MPS ladder contractions, the TDVP state model, device compilation) is used.
Every backend that serves the model must offer it and estimate it in agreement with ED; the
condensate is checked beside it against the Hellmann–Feynman derivative of ED energies, which does
not use the condensate's Pauli sum (so a wrong sign in that one formula fails every backend here).
"""

from __future__ import annotations

import math

import pytest

from qlat.core.backend import get_backend
from qlat.core.observable_registry import OBSERVABLES, Observable
from qlat.core.registry import BACKENDS
from qlat.theories.pauli_sum import PauliSum
from qlat.theories.schwinger_observables import QubitObservable
from qlat.theories.schwinger_qubit import SchwingerModel

pytest.importorskip("tenpy")

MODEL = SchwingerModel(4, 1.0, 0.6, formulation="electric")


def _toy_realization(model: SchwingerModel) -> QubitObservable:
    n = model.n_sites
    first = PauliSum.from_sparse_list(
        [("", [], 0.1), ("Z", [0], 0.25), ("ZZ", [1, 2], -0.7), ("XX", [0, 1], 0.3), ("YY", [0, 1], 0.3)],
        num_qubits=n)
    second = PauliSum.from_sparse_list([("ZXX", [0, 1, 2], 0.5), ("ZYY", [0, 1, 2], 0.5)], num_qubits=n)
    return QubitObservable(name="toy", terms=(first, second), labels=("t_0", "t_1"), unit="1", profile=True)


@pytest.fixture
def toy():
    observable = OBSERVABLES.add(Observable("toy", unit="1", description="test double (issue 22)"))
    observable.register(SchwingerModel, _toy_realization)
    yield observable
    observable.unregister(SchwingerModel)
    OBSERVABLES.remove("toy")


def _schwinger_backends() -> list[str]:
    out = []
    for name in BACKENDS.names():
        try:
            backend = get_backend(name)
        except Exception:  # noqa: BLE001 — an optional backend without its dependency
            continue
        if backend.supports(MODEL):
            out.append(name)
    return out


def _options(name: str, tmp_path) -> dict:
    from qlat.quantum.adiabatic import AdiabaticSchedule

    # T = 12/g: close to the vacuum, dt = 0.25 keeps the Trotter error of the circuits small; TDVP
    # (no Trotter error, but the slowest per step) takes T = 6/g at dt = 0.5, its bars still < 0.05
    slow = AdiabaticSchedule(total_time=6.0 if name == "tdvp" else 12.0, dt=0.5 if name == "tdvp" else 0.25,
                             ramp="sin2")
    if name == "ed":
        return {}
    if name == "dmrg":
        return {"bond_dim": 8}
    if name in ("fake", "ibm"):  # ibm: the same device path behind a loopback service (no account)
        from qlat.quantum.ibm.store import JobStore

        options = {"device": "fake_manila", "schedule": slow, "shots": 2000, "seed": 3, "device_noise": False,
                   "store": JobStore(tmp_path / "jobs.sqlite")}
        if name == "ibm":  # a real device path: its noise stays on (the noise error is in the bar)
            from qlat.quantum.ibm.loopback import LoopbackService

            options["service"] = LoopbackService(tmp_path / "loopback-service")
            del options["device_noise"]
        return options
    if name == "sc-vqe":  # trained on the N = 4 and 6 chains (seconds), evaluated exactly at N = 4
        return {"sizes": (4, 6)}
    options = {"schedule": slow}
    if name == "aer":
        options.update(shots=2000, seed=3)
    if name == "tdvp":
        options.update(max_bond_dimension=4)
    return options


def _reference() -> dict[str, float]:
    """ED values of the toy and the Hellmann–Feynman condensate ∂E₀/∂m/(Na) (electric formulation)."""
    from qlat.exact.diagonalization import diagonalize

    ed = get_backend("ed").estimate(MODEL, ["toy", "condensate"])
    h = 1e-5
    energies = [diagonalize(MODEL.with_(mass=MODEL.mass + s * h), k=1).ground_energy for s in (1, -1)]
    hellmann_feynman = (energies[0] - energies[1]) / (2 * h * MODEL.volume)
    return {"toy[0]": ed["toy[0]"].value, "toy[1]": ed["toy[1]"].value, "condensate": hellmann_feynman}


def _spectral_half_range(key: str) -> tuple[float, float]:
    """(Tr O/2^N, ‖O − Tr O/2^N‖) of the component ``key`` of the toy or the condensate, from its dense matrix."""
    import numpy as np

    from qlat.theories.schwinger_observables import qubit_observable

    name, _, index = key.partition("[")
    terms = qubit_observable(name, MODEL).terms[int(index.rstrip("]")) if index else 0]
    matrix = terms.to_sparse_pauli_op().to_matrix()
    mixed = float(np.real(np.trace(matrix))) / matrix.shape[0]
    eigenvalues = np.linalg.eigvalsh(matrix)
    return mixed, float(np.max(np.abs(eigenvalues - mixed)))


BACKEND_NAMES = _schwinger_backends()


def test_every_backend_of_the_model_is_covered():
    assert {"ed", "dmrg", "statevector", "aer", "mps", "tdvp", "fake", "ibm", "sc-vqe"} <= set(BACKEND_NAMES)


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_the_toy_is_read_by_every_backend(name, toy, tmp_path):
    reference = _reference()
    assert abs(reference["toy[0]"]) > 0.05 and abs(reference["toy[1]"]) > 0.05  # a zero would hide nothing
    assert abs(reference["condensate"]) > 0.1
    backend = get_backend(name)
    assert "toy" in backend.observables(MODEL)
    out = backend.estimate(MODEL, ["toy", "condensate"], **_options(name, tmp_path))
    for key, exact in reference.items():
        est = out[key]
        total = math.hypot(est.error, est.systematic)
        assert math.isfinite(est.value) and math.isfinite(total), (key, est)
        if name == "ibm":  # device noise on: the bar is the noise model's; the power check is fake's (same path)
            assert abs(est.value - exact) <= 4 * total, (key, est.value, exact, total)
            # … and no wider than a state allows: the noiseless value lies within ‖O − Tr O/2^N‖ of Tr O/2^N
            # (T = 12 on fake_manila leaves f ~ 1e-4, where (1/f − 1)|value − Tr O/2^N| alone gave ~170)
            mixed, radius = _spectral_half_range(key)
            schedule = est.provenance["systematic_sources"].get("schedule", 0.0)
            assert total <= 1.5 * (abs(est.value - mixed) + radius) + 3 * est.error + schedule, (key, total, radius)
            continue
        # the bars must be narrow enough to see a wrong sign of the condensate (2|S| ≈ 0.8) …
        assert total < 0.05, (key, total)
        # … and the value within them (plus a small adiabatic residue)
        assert abs(est.value - exact) <= 4 * total + 5e-3, (key, est.value, exact, total)


def test_removing_the_toy_removes_it_everywhere():
    assert "toy" not in OBSERVABLES
    with pytest.raises(Exception, match="toy"):
        get_backend("ed").estimate(MODEL, ["toy"])
    assert "toy" not in get_backend("dmrg").observables(MODEL)
    assert "toy" not in get_backend("tdvp").observables(MODEL)
