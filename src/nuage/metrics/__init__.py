"""Prometheus metrics of a gateway (served at /_nuage/metrics)."""
