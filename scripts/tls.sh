#!/bin/sh
# Generates throwaway TLS material for the TLS specs into DIR (never commit
# its output): a test CA, a server certificate for 127.0.0.1 / localhost
# signed by it, one for a wrong host name signed by it, and a self-signed
# certificate no CA vouches for.  Usage: scripts/tls.sh DIR
set -eu
dir="$1"
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1; }

q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj "/CN=vzaps test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

leaf() { # name subject-alt-names
  q openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" > "$1.ext"
  q openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 \
    -extfile "$1.ext"
  cat "$1.pem" "$1.key" > "$1.bundle.pem"
}
leaf server "IP:127.0.0.1,DNS:localhost"
leaf wronghost "DNS:wrong.example.invalid"

q openssl req -x509 -newkey rsa:2048 -nodes -keyout selfsigned.key -out selfsigned.pem -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost"
cat selfsigned.pem selfsigned.key > selfsigned.bundle.pem
chmod 600 ./*.key
echo "$dir"
