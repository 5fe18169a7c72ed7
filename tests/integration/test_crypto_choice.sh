#!/usr/bin/env bash
# sluice-dp measures both AEAD engines at start and `show crypto` tells which
# it chose for each algorithm and record size, with the numbers behind it;
# crypto.engine = "openssl" pins OpenSSL everywhere (test_tls_robust runs
# the relay that way and checks `show crypto` says so).
# timeout: 90
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init crypto_choice
sl_appliance_start

js=$(sl_ctl_json show crypto)
printf '%s\n' "$js" | jq -c '.choices[]' | sed 's/^/    | /' >&2
n=$(jq '.choices | length' <<<"$js")
((n == 6)) || sl_fail "want 3 AEADs x 2 record sizes, got $n choices"
# auto: the chosen engine is the faster of those measured
jq -e '.forced == false and all(.choices[];
	(.engine == "ipsec-mb" and .ipsecmb_gbps >= .openssl_gbps) or
	(.engine == "openssl" and .openssl_gbps >= .ipsecmb_gbps))' <<<"$js" >/dev/null ||
	sl_fail "a choice is not the faster engine: $js"
jq -e 'all(.choices[]; .openssl_gbps > 0)' <<<"$js" >/dev/null || sl_fail "OpenSSL was not measured"
sl_ok "auto: each choice is the faster engine"
sl_run "show crypto (human)" sl_ctl show crypto
sl_test_exit
