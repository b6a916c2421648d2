"""Reasoning data: final answers and their checks."""
