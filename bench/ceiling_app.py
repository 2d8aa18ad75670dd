"""A trivial ASGI app: the ceiling of the HTTP stack (uvicorn + uvloop + httptools, with Nuage's coalescing
protocol, as `nuage serve` runs it) and of the load generator on this machine, right now. bench/run.py runs
it like a server (as "stack": `python ceiling_app.py PORT`) with the same pinning and wrk settings. GET
answers 4 KiB (1 MiB when the path ends in "/1m"); PUT reads and drops the body.

`python ceiling_app.py PORT plain` runs it on uvicorn's own httptools protocol instead (the server
"uvicorn" of bench/run.py): the "uvicorn ~31,000 4 KiB PUTs/s" that issue 2 quotes among the limits of
the machine its targets were set on, measured the same way here."""

import sys
from typing import Any

SMALL = b"x" * 4096
LARGE = b"x" * (1024 * 1024)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    while True:
        message = await receive()
        if not message.get("more_body"):
            break
    body = b"" if scope["method"] != "GET" else LARGE if scope["path"].endswith("/1m") else SMALL
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode()), (b"etag", b'"0"')]})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    import uvicorn

    from nuage.httpserver import HttpProtocol

    plain = sys.argv[2:] == ["plain"]
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop",
                http="httptools" if plain else HttpProtocol, log_level="warning", access_log=False)
