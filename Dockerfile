# Multi-stage build: a static keyward binary on a minimal, non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# docker build --build-arg VERSION=$(git describe --tags --always) \
#   --build-arg COMMIT=$(git rev-parse HEAD) --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
ARG VERSION=0.1.0-dev
ARG COMMIT=
ARG DATE=
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.Version=${VERSION} -X main.Commit=${COMMIT} -X main.BuildDate=${DATE}" \
    -o /out/keyward ./cmd/keyward \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=0.1.0-dev
ARG COMMIT=
ARG DATE=
LABEL org.opencontainers.image.title="Keyward" \
      org.opencontainers.image.description="OAuth 2.0 / OpenID Connect authorization server with API-key management" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${DATE}"
COPY --from=build /out/keyward /usr/local/bin/keyward
COPY --from=build --chown=65532:65532 /out/data /var/lib/keyward
USER 65532:65532
ENV KEYWARD_DATA_DIR=/var/lib/keyward \
    KEYWARD_PUBLIC_ADDR=0.0.0.0:8080 \
    KEYWARD_ADMIN_ADDR=0.0.0.0:8081 \
    KEYWARD_LOG_FORMAT=json
EXPOSE 8080 8081
# /readyz on KEYWARD_PUBLIC_ADDR (https once KEYWARD_TLS_CERT is set); the
# image has no shell or curl, so the binary checks itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/keyward", "healthcheck"]
VOLUME ["/var/lib/keyward"]
ENTRYPOINT ["/usr/local/bin/keyward"]
CMD ["serve"]
