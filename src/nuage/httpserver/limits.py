"""What one HTTP connection, one client and the whole server may take before the connection protocol
refuses: sizes of a request's head, the time to send it, and numbers of open connections.

The defaults follow what nginx and S3 accept: nginx reads a request line or a header line of up to 8 KiB
(``large_client_header_buffers 4 8k``) and gives a client 60 s to send its head
(``client_header_timeout``); S3 refuses request heads over a few KiB of user metadata. The limits here are
looser than nginx's so that no request an SDK sends comes near them (long presigned URLs, many
``x-amz-*`` headers), and tight enough that a client cannot make the server hold megabytes or keep a
connection open without sending a request.

- Request line (its URL) over ``max_request_line`` bytes: 414 URI Too Long.
- One header (name and value) over ``max_header_size`` bytes, all headers over ``max_headers_size``
  bytes (name, value and 4 bytes of ``: `` and CR LF each), or more than ``max_headers`` headers:
  431 Request Header Fields Too Large.
- A head not complete ``header_timeout`` seconds after its first byte arrived (after the connection opened,
  for its first request): 408 Request Timeout; a connection that sent nothing is closed without an answer.
- More than ``max_connections`` open connections in the process, or more than
  ``max_connections_per_client`` from one client address: the new connection is answered 503 with the S3
  error code SlowDown at once and closed, so that SDKs back off and retry (they do on 503 and SlowDown).
  Connections already open are never cut to make room. Behind a proxy every connection comes from the
  proxy's address: set ``max_connections_per_client`` to 0 (no per-client cap) there.

Every refusal carries ``Connection: close``; the server then stops reading the request (it reads and
drops a little more for a moment, so that the client reads the answer instead of a connection reset).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HttpLimits"]


@dataclass(frozen=True)
class HttpLimits:
    max_request_line: int = 16 * 1024
    max_header_size: int = 16 * 1024
    max_headers_size: int = 64 * 1024
    max_headers: int = 128
    header_timeout: float = 30.0
    max_connections: int = 4096            # 0: no cap
    max_connections_per_client: int = 1024  # 0: no cap

    @property
    def max_head(self) -> int:
        """Bytes a request's head may take on the wire: request line and headers, with their line ends."""
        return self.max_request_line + self.max_headers_size + 1024
