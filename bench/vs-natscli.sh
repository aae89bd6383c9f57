#!/usr/bin/env bash
# Check that `natsctl bench` is not the bottleneck: measure one nats-server
# with natscli's `nats bench` and with `natsctl bench`, alternately, and
# print each round's figures and the medians.
#
#   NATS_BIN=/path/to/nats bench/vs-natscli.sh [rounds]
#
# natscli is not on the Go module proxy: build it from its repository
# outside this one (git clone https://github.com/nats-io/natscli /tmp/natscli
# && cd /tmp/natscli && go build -o /tmp/nats ./nats).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
nats=${NATS_BIN:?set NATS_BIN to a natscli binary}
ns=${NATS_SERVER_BIN:-$(command -v nats-server || echo "$(go env GOPATH)/bin/nats-server")}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/natsctl" ./cmd/natsctl
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ns" -a 127.0.0.1 -p "$port" >"$work/server.log" 2>&1 &
pids+=($!)
url=nats://127.0.0.1:$port
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done

# natscli_rate extracts msgs/s from natscli's "... publisher stats: N msgs/sec"
# or "... subscriber stats:" line.
natscli_rate() { grep -E "$1 stats:" | head -1 | sed -E 's/.*stats: ([0-9,]+) msgs\/sec.*/\1/' | tr -d , || true; }
natsctl_rate() { python3 -c "import json,sys; r=json.load(sys.stdin); print(int([g for g in r['groups'] if g['role']=='$1'][0]['msgs_per_sec']))"; }

N=2000000
printf "%-6s %-22s %12s\n" round tool/figure msgs/s
for r in $(seq "$rounds"); do
	# pub, 16 B
	a=$("$nats" -s "$url" bench pub bench --msgs $N --size 16 --no-progress 2>&1 | natscli_rate publisher)
	b=$("$work/natsctl" bench pub -s "$url" --msgs $N --size 16 --json --no-progress --monitor off | natsctl_rate pub)
	printf "%-6s %-22s %12s\n" "$r" "natscli pub" "$a" "$r" "natsctl pub" "$b"
	# pub and sub in two processes, 16 B
	"$nats" -s "$url" bench sub bench --msgs $N --size 16 --no-progress >"$work/sub.out" 2>&1 &
	sp=$!
	sleep 0.5
	"$nats" -s "$url" bench pub bench --msgs $N --size 16 --no-progress >/dev/null 2>&1
	wait $sp
	a=$(natscli_rate subscriber <"$work/sub.out")
	"$work/natsctl" bench sub -s "$url" --msgs $N --json --no-progress --monitor off >"$work/sub.json" &
	sp=$!
	sleep 0.5
	"$work/natsctl" bench pub -s "$url" --msgs $N --size 16 --no-progress --monitor off >/dev/null
	wait $sp
	b=$(natsctl_rate sub <"$work/sub.json")
	printf "%-6s %-22s %12s\n" "$r" "natscli pub+sub: sub" "$a" "$r" "natsctl pub+sub: sub" "$b"
	c=$("$work/natsctl" bench pubsub -s "$url" --msgs $N --size 16 --json --no-progress --monitor off | natsctl_rate sub)
	printf "%-6s %-22s %12s\n" "$r" "natsctl pubsub: sub" "$c"
done
