"""Prometheus exporter for DigitalOcean: read-only tokens, background polling, cached /metrics."""

__version__ = "0.1.0"
