"""Measured calibration of every estimator's error bar (:mod:`qlat.analysis.calibration.harness`)."""

from qlat.analysis.calibration.harness import (
    COVERAGE_GOAL,
    TIGHTNESS_GOAL,
    CalibrationPoint,
    CalibrationReport,
    EstimatorSummary,
    calibration_case,
    check_update,
    load_cases,
    read_recorded,
    record_calibration,
    run_calibration,
)

__all__ = ["COVERAGE_GOAL", "TIGHTNESS_GOAL", "CalibrationPoint", "CalibrationReport", "EstimatorSummary",
           "calibration_case", "check_update", "load_cases", "read_recorded", "record_calibration",
           "run_calibration"]
