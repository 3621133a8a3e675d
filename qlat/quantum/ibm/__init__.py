"""IBM quantum hardware for the adiabatic Schwinger circuits (qiskit-ibm-runtime), tested on fake devices.

- :mod:`~qlat.quantum.ibm.accounts`: credentials via the runtime's own mechanisms, bounded connect.
- :mod:`~qlat.quantum.ibm.devices`: ``fake:<device>`` / ``ibm:<device>`` names.
- :mod:`~qlat.quantum.ibm.compile`: ISA circuits, a line of good qubits, mapped observables.
- :mod:`~qlat.quantum.ibm.dryrun`: the report before submission.
- :mod:`~qlat.quantum.ibm.mitigation`: TREX, ZNE, DD, twirling, Gauss-law post-selection by name.
- :mod:`~qlat.quantum.ibm.postselect`: charge-conserving bases and total-charge post-selection.
- :mod:`~qlat.quantum.ibm.submit`, :mod:`~qlat.quantum.ibm.store`: submission and the SQLite job store.
- :mod:`~qlat.quantum.ibm.results`: primitive results → Estimates from the stored recipe (ZNE fit).
- :mod:`~qlat.quantum.ibm.jobs`: list / status / fetch / cancel / show for ``qlat jobs``.
- :mod:`~qlat.quantum.ibm.loopback`: an offline stand-in service (fake devices, results filed by id).
- :mod:`~qlat.quantum.ibm.backend`: :func:`run_on_device` and the registered backends ``fake`` / ``ibm``.

Nothing here is imported by ``import qlat``; qiskit_ibm_runtime is imported only when needed.
"""
