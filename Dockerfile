# syntax=docker/dockerfile:1
#
# hookgate: one static binary on a distroless base.
#   docker build -t hookgate:local .
#   docker run --rm -p 8080:8080 -e HOOKGATE_ADMIN_TOKEN=change-me-please-0123 hookgate:local
# With no DATABASE_URL / REDIS_URL it keeps SQLite under /data and runs an
# embedded Redis (a try-out setup); docker-compose.yml is the production shape.

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w" -o /out/hookgate ./cmd/hookgate \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookgate /hookgate
# The data dir must belong to the nonroot user (65532) so a fresh volume
# inherits that owner: SQLite, a generated master key and Redis files live here.
COPY --from=build --chown=65532:65532 /out/data /data
# Set HOOKGATE_PUBLIC_URL to the address Odoo reaches: ingest URLs are built from it.
ENV HOOKGATE_ADDR=0.0.0.0:8080 \
    HOOKGATE_PUBLIC_URL=http://localhost:8080 \
    HOOKGATE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/hookgate"]
CMD ["serve"]
