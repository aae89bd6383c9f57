package store

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type acked struct {
	subject string
	data    []byte
}

// TestCrash_KillNine appends from a helper process, SIGKILLs it at a
// random moment, reopens and checks every acknowledged message, several
// times over the same directory.
func TestCrash_KillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes; skipped with -short")
	}
	dir := t.TempDir()
	all := map[uint64]acked{}
	var maxAcked uint64
	for round := range 5 {
		acks := runAndKill(t, dir, 20+rand.IntN(400))
		if len(acks) == 0 {
			t.Fatalf("round %d: no acks", round)
		}
		for seq, a := range acks {
			if seq <= maxAcked {
				t.Fatalf("round %d: sequence %d reused (previous rounds acked up to %d)", round, seq, maxAcked)
			}
			all[seq] = a
		}
		for seq := range acks {
			maxAcked = max(maxAcked, seq)
		}
		s, err := OpenFile(FileConfig{Config: Config{Name: "CRASH"}, Dir: dir, SegmentSize: 64 << 10})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		for _, r := range s.Reports() {
			if !r.Torn {
				t.Errorf("round %d: unexpected damage: %s", round, r)
			}
		}
		st := s.State(false)
		if st.LastSeq < maxAcked {
			t.Fatalf("round %d: LastSeq %d below acknowledged %d", round, st.LastSeq, maxAcked)
		}
		var sm Msg
		var prev uint64
		for seq := uint64(1); seq <= st.LastSeq; seq++ {
			m, err := s.LoadMsg(seq, &sm)
			a, ok := all[seq]
			if ok && err != nil {
				t.Fatalf("round %d: acknowledged seq %d lost: %v", round, seq, err)
			}
			if err != nil {
				continue
			}
			if m.Seq <= prev {
				t.Fatalf("round %d: out of order", round)
			}
			prev = m.Seq
			if ok && (m.Subject != a.subject || !bytes.Equal(m.Data, a.data)) {
				t.Fatalf("round %d: seq %d = %q %x, acknowledged %q %x", round, seq, m.Subject, m.Data, a.subject, a.data)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d acked, last seq %d, %d messages", round, len(acks), st.LastSeq, st.Msgs)
	}
}

// runAndKill starts the crash helper, reads acks until it has n, SIGKILLs
// it, reads what it printed before dying and returns the acks.
func runAndKill(t *testing.T, dir string, n int) map[uint64]acked {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=crash", helperDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	acks := map[uint64]acked{}
	rd := bufio.NewReader(out)
	killed := false
	var bad string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			break // a line cut by the kill (no newline) was never an ack
		}
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "ack" {
			bad = line
			continue
		}
		seq, err1 := strconv.ParseUint(f[1], 10, 64)
		var data []byte
		var err2 error
		if len(f) == 4 {
			data, err2 = hex.DecodeString(f[3])
		}
		if err1 != nil || err2 != nil {
			bad = line
			continue
		}
		if _, dup := acks[seq]; dup {
			t.Errorf("sequence %d acknowledged twice", seq)
		}
		acks[seq] = acked{subject: f[2], data: data}
		if len(acks) >= n && !killed {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	err = cmd.Wait()
	if bad != "" {
		t.Fatalf("helper said %q", bad)
	}
	if !killed || err == nil {
		t.Fatalf("helper ended by itself: %v", err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper not killed by SIGKILL: %v", err)
	}
	return acks
}
