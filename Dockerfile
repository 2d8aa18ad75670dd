# Nuage in a container: one gateway, its data in the /data volume.
#
#   docker build -t nuage .
#   docker run -d --name nuage -p 9000:9000 -p 9001:9001 -v nuage-data:/data nuage
#   docker logs nuage          # the first start prints the root access key and secret (once)
#
# Debian's Python image (bookworm, Python 3.11, as the project is tested on). The server runs as its own
# user, never root; SIGTERM (docker stop) drains requests and exits 0 within the stop timeout.
FROM python:3.11-slim-bookworm

RUN useradd --system --home-dir /data --shell /usr/sbin/nologin nuage \
    && install -d -o nuage -g nuage -m 700 /data

WORKDIR /opt/nuage
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/nuage/.venv \
    && /opt/nuage/.venv/bin/pip install --no-cache-dir . \
    && rm -rf /opt/nuage/src

USER nuage
ENV NUAGE_DATA=/data
VOLUME ["/data"]
EXPOSE 9000 9001
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/opt/nuage/.venv/bin/python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9000/_nuage/health', timeout=2).status == 200 else 1)"]
CMD ["/opt/nuage/.venv/bin/nuage", "serve", "--host", "0.0.0.0", "--port", "9000", "--data", "/data"]
