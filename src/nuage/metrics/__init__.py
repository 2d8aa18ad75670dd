"""Prometheus metrics: ``GET /_nuage/metrics`` on the S3 port (docs/metrics.md lists every metric).

Requests are counted in plain dictionaries as they end (:mod:`nuage.metrics.requests`, a sink of the
HTTP layer's request records); prometheus-client runs only when Prometheus scrapes, through custom
collectors (:mod:`nuage.metrics.collect`). The workers of one gateway add up their counts through
prometheus-client's multiprocess files (:mod:`nuage.metrics.shared`); :mod:`nuage.metrics.guard` says
who may scrape."""
