#!/usr/bin/env bash
# sluice-dp --check: the default config passes; typo'd keys, syntax errors and
# bad values are refused with FILE:LINE: message and a non-zero exit; the
# daemon itself refuses to start on a bad file.  (tests/unit/test_conf.c
# covers the validator in depth; this checks the binary.)
# timeout: 60
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init bad_config
[[ -x $SL_DP ]] || sl_die "$SL_DP not built"

# check_ok FILE: exit 0 and "FILE: ok"
check_ok() {
	sl_expect_rc 0 "--check accepts $1" timeout 20 "$SL_DP" --check "$1"
	grep -qxF "$1: ok" <<<"$SL_OUT" || sl_fail "--check $1 printed no '$1: ok' line"
}

# check_bad FILE LINE WORD DESC: non-zero, "FILE:LINE: ..." naming WORD
check_bad() {
	local f=$1 line=$2 word=$3 desc=$4
	sl_expect_rc '[1-9][0-9]*' "--check refuses $desc" timeout 20 "$SL_DP" --check "$f"
	[[ -n $line ]] || sl_fail "$desc: test bug: no line number"
	awk -v p="$f:$line: " 'index($0, p) == 1 { found = 1 } END { exit !found }' <<<"$SL_OUT" ||
		sl_fail "$desc: expected a line starting '$f:$line: ', got: $SL_OUT"
	if [[ -n $word ]]; then
		grep -qF -- "$word" <<<"$SL_OUT" || sl_fail "$desc: the message does not name '$word': $SL_OUT"
	fi
	sl_ok "$desc reported at $f:$line"
}

# mutate NAME SED-EXPR: copy the good config, apply the edit, print the path
mutate() {
	local out=$SL_WORK/$1.conf
	sed "$2" "$SL_CONF" >"$out"
	cmp -s "$SL_CONF" "$out" && sl_fail "mutation $1 changed nothing"
	printf '%s\n' "$out"
}
lineof() { grep -n -m1 -- "$2" "$1" | cut -d: -f1; }

# 1. The embedded default (config/sluice.conf) and a generated test config pass.
cd "$SL_ROOT"
check_ok config/sluice.conf
check_ok "$SL_ROOT/config/sluice.conf"
SL_CONF_ROUTES='{ prefix = "198.19.128.0/24"; via = "198.19.0.10"; }'
SL_CONF_NEIGH='{ addr = "198.19.0.10"; mac = "02:00:00:00:00:0a"; port = "server"; }'
sl_conf_write "$SL_CONF"
check_ok "$SL_CONF"
if [[ -d $SL_ROOT/config/examples ]]; then
	for f in "$SL_ROOT"/config/examples/*.conf; do
		[[ -e $f ]] && check_ok "$f"
	done
fi

# 2. A typo'd key at the top level of a group.
f=$(mutate typo_eal 's/^  lcores = /  lcorse = /')
check_bad "$f" "$(lineof "$f" lcorse)" lcorse "typo'd key eal.lcorse"

# 3. A typo'd key inside a list element (ports[1]).
f=$(mutate typo_port '0,/^    addr = "198.19/s//    adr = "198.19/')
check_bad "$f" "$(lineof "$f" 'adr = ')" adr "typo'd key ports[1].adr"

# 4. An unknown top-level group.
f=$(mutate typo_group 's/^control = {/contorl = {/')
check_bad "$f" "$(lineof "$f" contorl)" contorl "unknown group contorl"

# 5. Syntax errors.
f=$(mutate syntax_eq 's/^  mem_mb = /  mem_mb = = /')
check_bad "$f" "$(lineof "$f" 'mem_mb = =')" "" "syntax error (mem_mb = = N)"
f=$(mutate syntax_at 's/^  socket = /  socket @ /')
check_bad "$f" "$(lineof "$f" 'socket @')" "" "syntax error (socket @ ...)"
f=$(mutate syntax_brace 's/^};$/};}/')
check_bad "$f" "$(lineof "$f" '^};}$')" "" "syntax error (stray closing brace)"

# 6. Values that parse but are wrong.
f=$(mutate bad_addr 's#"198.18.0.1/24"#"198.18.0.1/33"#')
check_bad "$f" "$(lineof "$f" '198.18.0.1/33')" "" "bad port address 198.18.0.1/33"
f=$(mutate bad_route_port 's/port = "server"; }/port = "nosuchport"; }/')
check_bad "$f" "$(lineof "$f" nosuchport)" nosuchport "neighbour on an unknown port"
f=$(mutate bad_route_prefix 's#198.19.128.0/24#198.19.128.7/24#')
check_bad "$f" "$(lineof "$f" 198.19.128.7/24)" "" "route prefix with host bits set"
f=$(mutate bad_type 's/^  mem_mb = [0-9]*;/  mem_mb = "lots";/')
check_bad "$f" "$(lineof "$f" '"lots"')" mem_mb "mem_mb of the wrong type"

# 7. A file that does not exist.
sl_expect_rc '[1-9][0-9]*' "--check refuses a missing file" timeout 20 "$SL_DP" --check "$SL_WORK/nope.conf"
grep -qF "$SL_WORK/nope.conf" <<<"$SL_OUT" || sl_fail "missing file: the message does not name the file"

# 8. The daemon refuses to start on a bad file, with the same message, and
#    leaves no DPDK state behind.
f=$SL_WORK/typo_eal.conf
sl_expect_rc '[1-9][0-9]*' "sluice-dp -c refuses a bad file" timeout 30 "$SL_DP" -c "$f"
grep -qF "$f:$(lineof "$f" lcorse):" <<<"$SL_OUT" || sl_fail "sluice-dp -c $f did not print $f:LINE"
! sl_prefix_in_use "$SL_PREFIX" || sl_fail "a DPDK primary with prefix $SL_PREFIX is running"

sl_log "all config checks passed"
