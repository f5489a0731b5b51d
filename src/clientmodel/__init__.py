"""clientmodel: customer models for B2B process and B2C people."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
