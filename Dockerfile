# Build a static binary (pure-Go SQLite, no cgo) and ship it on a distroless base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/treue ./cmd/treue

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/treue /usr/local/bin/treue
COPY examples/rules.yaml /etc/treue/rules.yaml
WORKDIR /var/lib/treue
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/usr/local/bin/treue"]
CMD ["serve"]
