#!/usr/bin/env bash
# Regenerates the TLS fixtures of tests/http (valid for 100 years; ECDSA P-256):
# a CA; two server certificates for 127.0.0.1/localhost (server, rotated) and a client
# certificate signed by it; a self-signed "stranger" client the CA does not vouch for.
# The CA key is not kept.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
key() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
key -x509 -keyout "$tmp/ca.key" -out ca.crt -days 36500 -subj "/CN=podpath test CA"
sign() {  # sign NAME SUBJECT EXTENSIONS
  key -keyout "$1.key" -out "$tmp/$1.csr" -subj "$2"
  printf '%b' "$3" >"$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA ca.crt -CAkey "$tmp/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -out "$1.crt" -days 36500 -extfile "$tmp/$1.ext" 2>/dev/null
}
sign server /CN=localhost 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
# The certificate a rotation brings (reload tests): same names, another key and subject.
sign rotated /CN=rotated 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
sign client /CN=prometheus \
  'subjectAltName=DNS:prometheus.monitoring,URI:spiffe://cluster/prometheus\nextendedKeyUsage=clientAuth\n'
key -x509 -keyout stranger.key -out stranger.crt -days 36500 -subj /CN=stranger \
  -addext subjectAltName=DNS:prometheus.monitoring -addext extendedKeyUsage=clientAuth
