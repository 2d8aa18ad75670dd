"""Nuage: a self-hostable S3-compatible cloud platform."""

__version__ = "0.1.0"
