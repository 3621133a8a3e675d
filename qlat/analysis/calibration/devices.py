r"""Calibration cases of device runs: fake IBM devices in local testing mode against exact diagonalization.

Estimator ``"fake"``: :func:`qlat.quantum.ibm.backend.run_on_device` on a fake device (the
runtime's local testing mode, the device's noise model simulated by Aer), without mitigation.
Its error bar is shot noise ⊕ the ``"schedule"`` source (|noiseless circuit − exact|, from ED) ⊕
the ``"noise"`` source (the white-noise model of the hardware bias,
:mod:`qlat.quantum.ibm.reference`).  Because the schedule source is the exact distance of the
noiseless circuit, what this calibration measures is the *noise* model: whether
(1/f − 1)|value − Tr O/2^N|, with f the estimated error-free fraction from the device's error
rates, covers the device-vs-noiseless difference.

Points (randomized with the generator's rng, hard ones included): a device among small
Falcon devices (5, 7, 16 qubits), an Eagle (127) and a Heron (133) — the big ones simulated on
the qubits the job uses (:mod:`qlat.quantum.ibm.active`); N ∈ {4, 6} (N = 4 on 5-qubit
devices); a ∈ [0.3, 1.2], m ∈ [0, 1], θ ∈ [0, π] (θ → π at large m is the level crossing where
no short schedule is adiabatic); the device schedule T = 3 (the default) or T = 1.5 / 4.5 at
dt = 0.75; 2000 shots.  Each run gives two points (energy, condensate), whose errors are
correlated (same shots).

Warnings the estimator earns itself (counted apart by the harness): an estimated error-free
fraction below 0.5 (noise dominates); the schedule's error larger than the hardware part (the
point then tests the schedule, whose source is exact by construction); a value within 5 % of the
operator's scale of Tr O/2^N (where the white-noise model is blind).  Sizes: ``"test"`` one run on
``fake_torino`` at T = 3 (a few seconds), ``"quick"`` 10 runs, ``"full"`` 40 runs.

Measured (``run_calibration(estimators=["fake"], size="full", seed=s)``, s = 0 and 1, 160 points,
~80 s each on one core): unwarned points 16 + 14, |z| ≤ 1/2/3 for 62/100/100 % and 86/100/100 %,
median σ/|Δ| 1.24 and 1.49; all points (warned included) 70/100/100 % and 65/97/100 %.  The noise
model alone, (value − noiseless)/(shot ⊕ noise): 96 % within 2σ in both runs; its misses are points
whose value sits near Tr O/2^N (now warned) or with f < 0.1 (warned).  About 80 % of the points
warn, most for f < 0.5 (every N = 6 circuit and the 5-qubit device): the default device schedule
is long for today's error rates.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qlat.analysis.calibration.harness import CalibrationPoint, calibration_case

#: Fake devices drawn from (name, qubits): Falcon r5.11L / r5.11H / r4P, Eagle r3, Heron r1.
DEVICES: tuple[tuple[str, int], ...] = (("fake_manila", 5), ("fake_nairobi", 7), ("fake_guadalupe", 16),
                                        ("fake_sherbrooke", 127), ("fake_torino", 133))
#: Runs per size (each run gives an energy and a condensate point).
RUNS = {"test": 1, "quick": 10, "full": 40}
SHOTS = 2000
OBSERVABLES = ("energy", "condensate")


def _draw(rng: np.random.Generator, size: str) -> dict:
    if size == "test":
        device, qubits = DEVICES[-1]
    else:
        device, qubits = DEVICES[int(rng.integers(len(DEVICES)))]
    n = 4 if qubits < 6 else int(rng.choice([4, 6]))
    total_time = 3.0 if size == "test" else float(rng.choice([1.5, 3.0, 3.0, 4.5]))
    return {"device": device, "N": n, "a": round(float(rng.uniform(0.3, 1.2)), 4),
            "m": round(float(rng.uniform(0.0, 1.0)), 4), "theta": round(float(rng.uniform(0.0, math.pi)), 4),
            "T": total_time, "dt": 0.75, "shots": SHOTS, "seed": int(rng.integers(0, 2**31))}


@calibration_case("fake", family="devices",
                  description="fake IBM devices (local testing mode, device noise by Aer), no mitigation, vs ED: "
                              "shot noise + schedule (noiseless vs exact) + white-noise model of the hardware bias")
def fake_device_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    from qlat.core.errors import QlatWarning
    from qlat.quantum.exact_backend import exact_estimates
    from qlat.quantum.ibm.backend import device_schedule, run_on_device
    from qlat.quantum.ibm.store import JobStore
    from qlat.theories.schwinger_qubit import SchwingerModel

    with tempfile.TemporaryDirectory(prefix="qlat-calibrate-fake-") as tmp:
        store = JobStore(Path(tmp) / "jobs.sqlite")
        for _ in range(RUNS[size]):
            point = _draw(rng, size)
            model = SchwingerModel(point["N"], point["a"], point["m"], point["theta"])
            schedule = device_schedule(total_time=point["T"], dt=point["dt"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", QlatWarning)  # the warnings are in the Estimates and the report
                warnings.filterwarnings("ignore", message="Options .* have no effect in local testing mode")
                run = run_on_device(model, backend=f"fake:{point['device']}", schedule=schedule,
                                    observables=OBSERVABLES, shots=point["shots"], seed=point["seed"], store=store)
            exact = exact_estimates(model, observables=OBSERVABLES)
            assert run.estimates is not None  # a local run finishes in the call
            for key in OBSERVABLES:
                est = run.estimates[key]
                yield CalibrationPoint(
                    estimator="fake", observable=key, estimate=est, exact=exact[key].value, reference="ed",
                    point={**point, "error_free_fraction": est.provenance.get("error_free_fraction"),
                           "noiseless": est.provenance.get("noiseless_value")})
