#!/usr/bin/env bash
# Test PKI for the demo and the tests (issue 4), under OUTDIR (default
# build/certs).  ECDSA P-256 throughout: the handshake benchmark compares
# sluice-cp with `openssl s_time` against `openssl s_server` on the same
# certificate, so both sides sign with the same (and the cheaper) key type.
#
#   ca.pem        test CA                     (signs demo, origin, appliance)
#   demo.pem      demo.sluice.test, IP 198.19.0.10 and .11 (the terminate apps)
#   e2e-ca.pem    a second CA                 (signs bank)
#   bank.pem      bank.sluice.test, IP 198.19.0.11    (the S5 passthrough server)
#   origin.pem    origin.sluice.test, IP 198.19.0.12  (the reverse-mode backend)
#   untrusted.pem self-signed, IP 198.19.0.12         (a backend nobody trusts)
#   appliance.pem appliance.sluice.test, IP 198.18.100.1 (ca; the S4 agents
#                 listener: agents verify the appliance with ca.pem)
#   agent-ca.pem  the agents' CA              (signs site-a, site-b, stranger)
#   site-a.pem    CN and DNS site-a, clientAuth (the agent of site A)
#   site-b.pem    CN and DNS site-b, clientAuth (the agent of site B)
#   stranger.pem  CN and DNS stranger, clientAuth (agent-ca, but no known site)
#   rogue-ca.pem  a CA the appliance does not trust (signs rogue)
#   rogue.pem     CN and DNS site-a, clientAuth (site A's name, wrong issuer)
#
# Idempotent and cheap when everything is in place (~1 s).  A pair is
# (re)made only when it is missing or unusable: no key, a key that is not
# the certificate's, a certificate that does not verify against its issuer
# (e.g. the CA was remade) or expires within a day.  Concurrent callers are
# serialized by a lock in OUTDIR; files appear by rename, never half written.
# Private keys are mode 0600 and never committed (build/ is ignored).
set -euo pipefail
out=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/certs}
mkdir -p "$out"
cd "$out"
umask 077
exec 9>.lock
flock -w 60 9 || {
	echo "certs.sh: $out/.lock held for 60 s by another certs.sh" >&2
	exit 1
}

say() { printf 'certs.sh: %s\n' "$*" >&2; }

# usable NAME [ISSUER]: NAME.pem and NAME.key exist and belong together, the
# certificate is valid for another day and verifies against ISSUER.pem (or
# itself when self-signed)
usable() {
	local name=$1 issuer=${2:-$1}
	[[ -s $name.pem && -s $name.key && -s $issuer.pem ]] || return 1
	[[ $(openssl x509 -in "$name.pem" -noout -pubkey 2>/dev/null) == \
		"$(openssl pkey -in "$name.key" -pubout 2>/dev/null)" ]] || return 1
	openssl x509 -in "$name.pem" -noout -checkend 86400 >/dev/null 2>&1 || return 1
	if [[ $issuer == "$name" ]]; then
		openssl verify -CAfile "$name.pem" "$name.pem" >/dev/null 2>&1
	else
		openssl verify -x509_strict -CAfile "$issuer.pem" "$name.pem" >/dev/null 2>&1
	fi
}

# a fresh key into NAME.key.new (renamed by the caller once the certificate is made)
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key.new" 2>/dev/null; }

commit() { # commit NAME: the new pair replaces the old one
	chmod 0600 "$1.key.new"
	chmod 0644 "$1.pem.new"
	mv -f "$1.key.new" "$1.key"
	mv -f "$1.pem.new" "$1.pem"
	say "made $out/$1.pem"
}

ca() { # ca NAME CN
	usable "$1" && return 0
	newkey "$1"
	openssl req -x509 -new -key "$1.key.new" -out "$1.pem.new" -days 3650 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	commit "$1"
}

leaf() { # leaf NAME ISSUER CN SAN [EKU]: EKU serverAuth (default) or clientAuth
	usable "$1" "$2" && return 0
	newkey "$1"
	openssl req -new -key "$1.key.new" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=%s\n' \
		"$4" "${5:-serverAuth}" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem.new" \
		-days 825 -extfile "$1.ext" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
	commit "$1"
}

selfsigned() { # selfsigned NAME CN SAN
	usable "$1" && return 0
	newkey "$1"
	openssl req -x509 -new -key "$1.key.new" -out "$1.pem.new" -days 825 -subj "/CN=$2" \
		-addext "subjectAltName=$3" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
	commit "$1"
}

ca ca "Sluice Test CA"
ca e2e-ca "Sluice Test E2E CA"
leaf demo ca demo.sluice.test "DNS:demo.sluice.test,IP:198.19.0.10,IP:198.19.0.11"
leaf bank e2e-ca bank.sluice.test "DNS:bank.sluice.test,IP:198.19.0.11"
leaf origin ca origin.sluice.test "DNS:origin.sluice.test,IP:198.19.0.12"
selfsigned untrusted untrusted.sluice.test "DNS:untrusted.sluice.test,IP:198.19.0.12"
# S4 agents (scripts/lib.sh sl_agent_sites): the appliance's listener on the
# wan port, the agents' client certificates and the bad agents' ones
leaf appliance ca appliance.sluice.test "DNS:appliance.sluice.test,IP:198.18.100.1"
ca agent-ca "Sluice Test Agent CA"
leaf site-a agent-ca site-a "DNS:site-a" clientAuth
leaf site-b agent-ca site-b "DNS:site-b" clientAuth
leaf stranger agent-ca stranger "DNS:stranger" clientAuth
ca rogue-ca "Sluice Test Rogue CA"
leaf rogue rogue-ca site-a "DNS:site-a" clientAuth
chmod 0600 ./*.key # also pairs made by an older certs.sh
