# Herald hub image: a static binary on a distroless base, run as a non-root user.
# Not built in CI (no Docker engine there); .ci/run runs its build line and its start and
# health-check commands on the host, with the same environment variables.
#
#   docker build -t herald .
#   docker run -p 8080:8080 -v herald-data:/data -e HERALD_JWT_KEY=… herald
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /out/herald ./cmd/herald
# /data exists in the image owned by the runtime user, so a fresh named volume mounted
# there (Docker copies the ownership of the image's directory into it) is writable.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /herald
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV HERALD_ADDR=:8080 HERALD_DATA=/data
VOLUME /data
EXPOSE 8080
# No shell in the image: the binary checks itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s CMD ["/herald", "healthcheck", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/herald", "serve"]
