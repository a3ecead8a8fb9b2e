# syntax=docker/dockerfile:1
# Glimpse server image: the server and the indexer (cgo: libjpeg-turbo, libheif), the embedded
# default model and web interface, and ONNX Runtime 1.30.0 (CPU).
#
#   docker build -t glimpse .
#   docker run --rm -v glimpse-data:/data -v ~/Pictures:/photos:ro --entrypoint indexer glimpse add /photos
#   docker run -d -p 127.0.0.1:8080:8080 -v glimpse-data:/data -v ~/Pictures:/photos:ro glimpse
#
# Arguments after the image name are more server flags (the entrypoint sets --addr 0.0.0.0:8080
# and --data /data). API keys, which writes need (POST /index, POST /texts, deletes, and so
# `indexer add` while the server runs): mount a file with one key per line and name it:
#   docker run ... -v ./api-keys.txt:/run/secrets/glimpse-api-keys:ro glimpse --api-key-file /run/secrets/glimpse-api-keys
#   docker exec CONTAINER indexer add --api-key-file /run/secrets/glimpse-api-keys /photos
# docker-compose.yml does the same with a compose secret.

ARG GO_VERSION=1.26

# --- build ------------------------------------------------------------------------------------
FROM golang:${GO_VERSION}-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libturbojpeg0-dev libheif-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# ONNX Runtime through make setup's script (sha256-checked). A libonnxruntime.so.1 already in
# .cache/ (the build context keeps it, see .dockerignore) is reused; otherwise the script fetches
# it with npm pack, so npm is installed only then.
RUN if ! ./scripts/setup-ort.sh >/dev/null 2>&1; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm \
      && ./scripts/setup-ort.sh; \
    fi \
 && cp .cache/onnxruntime-1.30.0/libonnxruntime.so.1 /libonnxruntime.so.1
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/server ./cmd/indexer

# --- runtime ----------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libturbojpeg0 libheif1 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 glimpse \
 && useradd --system --uid 10001 --gid glimpse --home-dir /data --shell /usr/sbin/nologin glimpse \
 && mkdir -p /data /photos \
 && chown glimpse:glimpse /data
COPY --from=build /libonnxruntime.so.1 /usr/local/lib/libonnxruntime.so.1
COPY --from=build /out/server /out/indexer /usr/local/bin/
ENV GLIMPSE_ORT_LIB=/usr/local/lib/libonnxruntime.so.1 \
    GLIMPSE_DATA=/data
USER glimpse:glimpse
WORKDIR /data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["server", "--addr", "0.0.0.0:8080", "--data", "/data"]
