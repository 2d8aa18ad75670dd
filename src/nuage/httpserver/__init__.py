"""Nuage's HTTP/1.1 server: uvicorn's server (sockets, TLS, lifespan, signals, graceful shutdown) with a
connection protocol of our own on httptools (protocol.py, cycle.py), leaner than uvicorn's on small
requests."""

from nuage.httpserver.limits import HttpLimits
from nuage.httpserver.protocol import HttpProtocol
from nuage.httpserver.server import GracefulServer

__all__ = ["GracefulServer", "HttpLimits", "HttpProtocol"]
