"""Device names: ``fake:<device>`` (the runtime's fake provider, local testing mode) and ``ibm:<device>``.

Fake devices are named as ``qiskit_ibm_runtime.fake_provider`` spells their ``backend.name``, in
lower case: ``fake_manila`` (5 qubits), ``fake_guadalupe`` (16), ``fake_sherbrooke`` (127,
Eagle heavy-hex), ``fake_torino`` (133, Heron) …  They carry a snapshot of the real device's
coupling map, gate set and error rates, and a noise model built from them that the runtime's
local testing mode simulates with Aer.  Real devices are named as the service names them
(``ibm_torino``); resolving one needs a service (:func:`qlat.quantum.ibm.accounts.connect`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from qlat.core.errors import ParameterError

#: The two device families a ``--backend`` may name.
PROVIDERS: tuple[str, ...] = ("fake", "ibm")

_NAME = re.compile(r"^[a-z][a-z0-9_\-]*$")


def parse_device_spec(spec: str, *, parameter: str = "backend") -> tuple[str, str]:
    """``"fake:fake_manila"`` → ``("fake", "fake_manila")``; ``"ibm:ibm_torino"`` → ``("ibm", "ibm_torino")``."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ParameterError(parameter, "must be fake:<device> or ibm:<device>", spec)
    provider, _, device = spec.partition(":")
    if provider not in PROVIDERS:
        raise ParameterError(parameter, "must be fake:<device> or ibm:<device>", spec)
    check_device_name(device, parameter=parameter)
    return provider, device


def check_device_name(device: Any, *, parameter: str = "device") -> str:
    if not isinstance(device, str) or not _NAME.match(device):
        raise ParameterError(parameter, "must be a device name in lower case, e.g. fake_manila or ibm_torino", device)
    return device


def _class_to_name(cls_name: str) -> str:
    stem = cls_name[len("Fake"):]
    if stem.endswith("V2"):
        stem = stem[:-2]
    return "fake_" + stem.lower()


@lru_cache(maxsize=1)
def _fake_classes() -> dict[str, str]:
    import qiskit_ibm_runtime.fake_provider as fp

    # names only: getattr would import every fake device's module (slow)
    return {_class_to_name(attr): attr for attr in dir(fp)
            if attr.startswith("Fake") and attr not in ("FakeProviderForBackendV2", "FakeFractionalBackend")}


def fake_device_names() -> list[str]:
    """Every fake device name the installed runtime provides, sorted."""
    return sorted(_fake_classes())


def fake_device(name: str, *, parameter: str = "device") -> Any:
    """A fresh instance of the fake device ``name`` (e.g. ``"fake_manila"``)."""
    check_device_name(name, parameter=parameter)
    classes = _fake_classes()
    if name not in classes:
        close = [n for n in classes if name.replace("fake_", "") in n][:5]
        known = f"known: {', '.join(sorted(classes)[:12])} …"
        raise ParameterError(parameter, "unknown fake device" + ("" if close else f"; {known}"), name,
                             hint=f"did you mean {', '.join(close)}?" if close else None)
    import qiskit_ibm_runtime.fake_provider as fp

    device = getattr(fp, classes[name])()
    if device.name != name:  # pragma: no cover - a renamed class in a future runtime
        raise ParameterError(parameter, f"the runtime's {classes[name]} is named {device.name!r}", name)
    return device
