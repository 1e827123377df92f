"""Diagnosis: observed facts → findings, each with the exact command that fixes it."""
