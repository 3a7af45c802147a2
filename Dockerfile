# Multi-stage build: a static keyward binary on a minimal, non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/keyward ./cmd/keyward \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keyward /usr/local/bin/keyward
COPY --from=build --chown=65532:65532 /out/data /var/lib/keyward
USER 65532:65532
ENV KEYWARD_DATA_DIR=/var/lib/keyward \
    KEYWARD_PUBLIC_ADDR=0.0.0.0:8080 \
    KEYWARD_ADMIN_ADDR=0.0.0.0:8081 \
    KEYWARD_LOG_FORMAT=json
EXPOSE 8080 8081
VOLUME ["/var/lib/keyward"]
ENTRYPOINT ["/usr/local/bin/keyward"]
CMD ["serve"]
