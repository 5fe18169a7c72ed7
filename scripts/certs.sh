#!/usr/bin/env bash
# Test PKI for the demo and the tests (issue 4), under OUTDIR (default
# build/certs).  Idempotent: only what is missing is made.  Private keys are
# mode 0600 and never committed (build/ is ignored).  ECDSA P-256: the
# handshake benchmark compares sluice-cp with `openssl s_time` on the same
# certificate, so the choice is the same on both sides.
#
#   ca.pem        test CA                     (signs demo, origin)
#   demo.pem      demo.sluice.test, IP 198.19.0.10 and .11 (the terminate apps)
#   e2e-ca.pem    a second CA                 (signs bank)
#   bank.pem      bank.sluice.test, IP 198.19.0.11    (the S5 passthrough server)
#   origin.pem    origin.sluice.test, IP 198.19.0.12  (the reverse-mode backend)
#   untrusted.pem self-signed, IP 198.19.0.12         (a backend nobody trusts)
set -euo pipefail
out=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/certs}
mkdir -p "$out"
cd "$out"
umask 077

key() { [[ -s $1.key ]] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

ca() { # ca NAME CN
	[[ -s $1.pem ]] && return 0
	key "$1"
	openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 3650 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() { # leaf NAME ISSUER CN SAN
	[[ -s $1.pem ]] && return 0
	key "$1"
	openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' "$4" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" \
		-days 825 -extfile "$1.ext" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

ca ca "Sluice Test CA"
ca e2e-ca "Sluice Test E2E CA"
leaf demo ca demo.sluice.test "DNS:demo.sluice.test,IP:198.19.0.10,IP:198.19.0.11"
leaf bank e2e-ca bank.sluice.test "DNS:bank.sluice.test,IP:198.19.0.11"
leaf origin ca origin.sluice.test "DNS:origin.sluice.test,IP:198.19.0.12"
if [[ ! -s untrusted.pem ]]; then
	key untrusted
	openssl req -x509 -new -key untrusted.key -out untrusted.pem -days 825 -subj "/CN=untrusted.sluice.test" \
		-addext "subjectAltName=DNS:untrusted.sluice.test,IP:198.19.0.12" 2>/dev/null
fi
chmod 0644 ./*.pem
chmod 0600 ./*.key
