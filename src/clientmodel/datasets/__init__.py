"""Seeded synthetic data with known truth: a small company's consumers, deals and accounts.

Each generator lives in its own module and takes a ``seed``; the same seed gives the same data.
"""
