"""Errors of a batch run that stop it before or during work (a leaf module: the CLI imports it
without loading the batch). Messages are in Chinese and English."""

from __future__ import annotations

from analysis.core.errors import AnalysisError


class BatchError(AnalysisError):
    """The run cannot start or continue: the period is locked by another run, the reports folder
    cannot be written or is full, or a report hit a full or read-only disk."""


__all__ = ["BatchError"]
