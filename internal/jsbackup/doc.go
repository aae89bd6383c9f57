// Package jsbackup is natsctl's portable stream backup format: a stream's
// configuration and its messages (sequence, subject, headers, data, time),
// independent of any server's storage layout, so that a backup taken from
// nats-server restores into natsctl and the other way round.
//
// The same format is written by `natsctl stream backup` (which reads the
// messages through the ordinary JetStream API of either server) and by
// natsctl's $JS.API.STREAM.SNAPSHOT (the server's own snapshot), and read
// by `natsctl stream restore` and $JS.API.STREAM.RESTORE.
//
// # Format
//
// An s2 stream (github.com/klauspost/compress/s2, the compression
// nats-server and natscli use for snapshots) holding JSON lines:
//
//	{"format":"natsctl-stream-backup","version":1,"config":{...},"state":{...},"created":"..."}
//	{"seq":1,"subject":"orders.new","hdrs":"<base64>","data":"<base64>","time":"2026-..."}
//	...
//	{"end":true,"messages":2,"last_seq":7}
//
// The first line names the format and carries the stream configuration and
// state exactly as the server reported them (nats-server's JSON field
// names). Each message line has the raw header block ("NATS/1.0\r\n...")
// and the payload in base64. Sequences strictly increase. The last line
// counts the messages, so a truncated file is detected rather than
// restored short.
//
// The package knows nothing of servers or connections: it only encodes and
// decodes.
package jsbackup
