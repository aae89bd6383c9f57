#!/usr/bin/env bash
# Compare `natsctl serve` with nats-server v2.15.2 on this machine: builds
# natsctl, finds (or installs, into a temporary directory) nats-server, then
# runs `natsctl bench compare`, which starts each server on free loopback
# ports for every run, alternates them, stops them, and prints the medians
# and ratios (natsctl / nats-server) of the scenario list.
#
#   bench/compare.sh                      # 5 rounds of the built-in list
#   ROUNDS=3 bench/compare.sh --markdown  # extra flags go to bench compare
#   bench/compare.sh --scenarios my.txt
#
# Needs Go and Linux (/proc for the idle-connection memory figure).
set -euo pipefail

cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
want=v2.15.2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building natsctl..." >&2
go build -o "$work/natsctl" ./cmd/natsctl

ns=${NATS_SERVER_BIN:-}
if [[ -z $ns ]]; then
	for c in "$(command -v nats-server || true)" "$(go env GOPATH)/bin/nats-server"; do
		if [[ -x $c ]] && "$c" --version 2>/dev/null | grep -q "${want#v}"; then
			ns=$c
			break
		fi
	done
fi
if [[ -z $ns ]]; then
	echo "installing nats-server $want..." >&2
	GOBIN=$work go install "github.com/nats-io/nats-server/v2@$want"
	ns=$work/nats-server
fi
echo "nats-server: $ns ($("$ns" --version))" >&2

# 10,000 idle connections need as many descriptors in the server and in
# the client process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 10100)); then
	echo "warning: open-files limit $(ulimit -n) is below 10100: the idle scenario will fail (raise it with ulimit -n)" >&2
fi

echo "machine: $(nproc) cores, $(uname -sr)" >&2
"$work/natsctl" bench compare --rounds "$rounds" --names nats-server,natsctl "$@" \
	"$ns -a 127.0.0.1 -p {port}" \
	"$work/natsctl serve -a 127.0.0.1 -p {port} -m 0 --jetstream=false"
