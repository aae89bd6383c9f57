package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultScenarios is the comparison the project's performance bar is
// measured with (docs/PERFORMANCE.md). One scenario a line:
//
//	name | figure[,figure] | natsctl bench arguments
//
// Figures: "pub msgs/s", "sub msgs/s", "sub MB/s", "p50", "p99" (latency,
// µs) and "rss/conn" (server resident bytes per idle connection, for the
// idle command; needs a server the comparison starts itself).
const DefaultScenarios = `
pub 1 pub, 16 B          | pub msgs/s | pub --pub 1 --size 16 --msgs 4000000
pubsub 1:1, 16 B         | sub msgs/s | pubsub --pub 1 --sub 1 --size 16 --msgs 2000000
pubsub 1:1, 1 KiB        | sub MB/s   | pubsub --pub 1 --sub 1 --size 1KiB --msgs 500000
fanout 1:5, 16 B         | sub msgs/s | fanout --pub 1 --sub 5 --size 16 --msgs 500000
queue 1:4 (one group), 16 B | sub msgs/s | queue --pub 1 --sub 4 --size 16 --msgs 2000000
manypub 4:1, 16 B        | sub msgs/s | pubsub --pub 4 --sub 1 --size 16 --msgs 2000000
reqrep 1:1, 16 B         | p50,p99    | reqrep --pub 1 --sub 1 --size 16 --msgs 20000
idle 10000 connections   | rss/conn   | idle --clients 10000
`

// CompareScenario is one line of a scenario list.
type CompareScenario struct {
	Name    string
	Figures []string
	Args    []string
}

// ParseScenarios reads a scenario list (see DefaultScenarios). Blank lines
// and lines starting with # are skipped.
func ParseScenarios(text string) ([]CompareScenario, error) {
	var out []CompareScenario
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			return nil, fmt.Errorf("scenario line %d: want `name | figure[,figure] | bench arguments`, got %q", i+1, line)
		}
		sc := CompareScenario{Name: strings.TrimSpace(parts[0]), Args: strings.Fields(parts[2])}
		for _, f := range strings.Split(parts[1], ",") {
			f = strings.TrimSpace(f)
			if _, ok := figures[f]; !ok {
				return nil, fmt.Errorf("scenario line %d: unknown figure %q (want one of %s)", i+1, f, strings.Join(figureNames(), ", "))
			}
			sc.Figures = append(sc.Figures, f)
		}
		if sc.Name == "" || len(sc.Args) == 0 {
			return nil, fmt.Errorf("scenario line %d: empty name or arguments", i+1)
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, errors.New("no scenarios")
	}
	return out, nil
}

// figure extracts one number from a run; higher says whether more is
// better.
type figure struct {
	higher bool
	get    func(*Result) (float64, bool)
}

var figures = map[string]figure{
	"pub msgs/s": {true, groupFig("pub", func(g *Group) float64 { return g.MsgsPerSec })},
	"sub msgs/s": {true, groupFig("sub", func(g *Group) float64 { return g.MsgsPerSec })},
	"sub MB/s":   {true, groupFig("sub", func(g *Group) float64 { return g.MBPerSec })},
	"p50":        {false, latFig(50)},
	"p99":        {false, latFig(99)},
	"rss/conn":   {false, nil}, // measured by the comparison itself
}

func figureNames() []string {
	var n []string
	for k := range figures {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

func groupFig(role string, f func(*Group) float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		g := r.Group(role)
		if g == nil {
			return 0, false
		}
		return f(g), true
	}
}

func latFig(p float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		if r.Latency == nil || r.Latency.Count == 0 {
			return 0, false
		}
		return float64(r.Latency.P(p)) / 1e3, true
	}
}

// Target is a server to measure: a URL, or a command the comparison starts
// (and stops) for each run, in which {port} and {mport} stand for free
// client and monitoring ports.
type Target struct {
	Name string
	URL  string
	Cmd  []string
}

// ParseTarget reads a target: a nats:// URL, or a command line.
func ParseTarget(s string) Target {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "nats://") || strings.HasPrefix(s, "tls://") {
		return Target{Name: s, URL: s}
	}
	f := strings.Fields(s)
	name := s
	if len(f) > 0 {
		name = f[0]
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		if len(f) > 1 && !strings.HasPrefix(f[1], "-") {
			name += " " + f[1]
		}
	}
	return Target{Name: name, Cmd: f}
}

// CompareConfig is a comparison: each scenario runs Rounds times against
// both targets, alternating which goes first.
type CompareConfig struct {
	Targets   [2]Target
	Scenarios []CompareScenario
	Rounds    int
	// Self is the natsctl executable that runs each scenario in a child
	// process (a fresh process per run: no warm state carried over).
	Self string
	// Log gets one line per run.
	Log io.Writer
}

// Comparison is the outcome: one row per scenario figure.
type Comparison struct {
	Targets [2]string    `json:"targets"`
	Rounds  int          `json:"rounds"`
	Rows    []CompareRow `json:"rows"`
}

// CompareRow holds every round's value for both targets, their medians and
// the ratio of the second to the first.
type CompareRow struct {
	Scenario string       `json:"scenario"`
	Figure   string       `json:"figure"`
	Higher   bool         `json:"higher_is_better"`
	Values   [2][]float64 `json:"values"`
	Median   [2]float64   `json:"median"`
	Ratio    float64      `json:"ratio"` // median of the second / median of the first
	Pass     bool         `json:"pass"`  // the second reaches the first
}

// Compare runs the comparison. Every process it starts is stopped before
// it returns.
func Compare(ctx context.Context, cfg CompareConfig) (*Comparison, error) {
	if cfg.Rounds < 1 {
		return nil, errors.New("--rounds must be at least 1")
	}
	cmp := &Comparison{Targets: [2]string{cfg.Targets[0].Name, cfg.Targets[1].Name}, Rounds: cfg.Rounds}
	if len(cfg.Targets[0].Cmd) == 0 || len(cfg.Targets[1].Cmd) == 0 {
		// Memory per connection needs the server's pid: only for servers
		// started here.
		var kept []CompareScenario
		for _, sc := range cfg.Scenarios {
			if sc.Args[0] == "idle" {
				if cfg.Log != nil {
					fmt.Fprintf(cfg.Log, "skipping %s: memory per connection needs both servers started by the comparison (commands, not URLs)\n", sc.Name)
				}
				continue
			}
			kept = append(kept, sc)
		}
		cfg.Scenarios = kept
	}
	type key struct{ sc, fig int }
	vals := map[key]*[2][]float64{}
	for s, sc := range cfg.Scenarios {
		for f := range sc.Figures {
			vals[key{s, f}] = &[2][]float64{}
		}
	}
	for round := range cfg.Rounds {
		order := []int{0, 1}
		if round%2 == 1 {
			order = []int{1, 0}
		}
		for s, sc := range cfg.Scenarios {
			for _, t := range order {
				got, err := runOne(ctx, cfg, cfg.Targets[t], sc)
				if err != nil {
					return nil, fmt.Errorf("round %d, %s, %s: %w", round+1, sc.Name, cfg.Targets[t].Name, err)
				}
				var parts []string
				for f, v := range got {
					vals[key{s, f}][t] = append(vals[key{s, f}][t], v)
					parts = append(parts, fmt.Sprintf("%s %s", sc.Figures[f], fmtFig(v)))
				}
				if cfg.Log != nil {
					fmt.Fprintf(cfg.Log, "round %d/%d  %-28s %-14s %s\n", round+1, cfg.Rounds, sc.Name, cfg.Targets[t].Name, strings.Join(parts, "  "))
				}
			}
		}
	}
	for s, sc := range cfg.Scenarios {
		for f, name := range sc.Figures {
			v := vals[key{s, f}]
			row := CompareRow{Scenario: sc.Name, Figure: name, Higher: figures[name].higher, Values: *v}
			row.Median = [2]float64{Median(v[0]), Median(v[1])}
			if row.Median[0] != 0 {
				row.Ratio = row.Median[1] / row.Median[0]
			}
			if row.Higher {
				row.Pass = row.Ratio >= 1
			} else {
				row.Pass = row.Ratio <= 1
			}
			cmp.Rows = append(cmp.Rows, row)
		}
	}
	return cmp, nil
}

// Median of xs (mean of the middle two for an even count); 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtFig(v float64) string {
	if v >= 1000 {
		return human(v)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// fmtFigUnit prints a figure's value with its unit.
func fmtFigUnit(fig string, v float64) string {
	switch fig {
	case "p50", "p99":
		return fmtFig(v) + " µs"
	case "rss/conn":
		return humanBytes(v)
	}
	return fmtFig(v)
}

// runOne starts the target if it is a command, runs the scenario in a child
// process, and returns its figures.
func runOne(ctx context.Context, cfg CompareConfig, t Target, sc CompareScenario) ([]float64, error) {
	url, pid := t.URL, 0
	if len(t.Cmd) > 0 {
		srv, err := startServer(ctx, t.Cmd)
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		url, pid = srv.url, srv.cmd.Process.Pid
	}
	if sc.Args[0] == "idle" {
		if pid == 0 {
			return nil, errors.New("rss/conn needs a server the comparison starts (a command, not a URL)")
		}
		v, err := idleRSS(ctx, cfg.Self, url, pid, sc.Args)
		if err != nil {
			return nil, err
		}
		return []float64{v}, nil
	}
	args := append([]string{"bench"}, sc.Args...)
	args = append(args, "--server", url, "--json", "--no-progress", "--monitor", "off")
	var out, errOut bytes.Buffer
	c := exec.CommandContext(ctx, cfg.Self, args...)
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("natsctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("natsctl %s: bad JSON: %w", strings.Join(args, " "), err)
	}
	if d := r.Delivery; d != nil && d.Lost > 0 && cfg.Log != nil {
		fmt.Fprintf(cfg.Log, "warning: %s against %s lost %d of %d messages\n", sc.Name, t.Name, d.Lost, d.Expected)
	}
	var got []float64
	for _, f := range sc.Figures {
		v, ok := figures[f].get(&r)
		if !ok {
			return nil, fmt.Errorf("the run has no %q figure", f)
		}
		got = append(got, v)
	}
	return got, nil
}

// idleRSS measures the server's resident memory per idle connection: RSS
// with the connections open minus RSS before, divided by their number.
func idleRSS(ctx context.Context, self, url string, pid int, args []string) (float64, error) {
	before, err := ReadRSS(pid)
	if err != nil {
		return 0, err
	}
	args = append([]string{"bench"}, args...)
	args = append(args, "--server", url)
	c := exec.Command(self, args...)
	stdout, err := c.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var errOut bytes.Buffer
	c.Stderr = &errOut
	if err := c.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}()
	sc := bufio.NewScanner(stdout)
	n := 0
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "connected %d", &n); err == nil {
			break
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("idle clients did not connect: %s", strings.TrimSpace(errOut.String()))
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	// Let the server settle (goroutines started, buffers sized), then take
	// the highest of a few readings.
	var after int64
	for range 5 {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		rss, err := ReadRSS(pid)
		if err != nil {
			return 0, err
		}
		after = max(after, rss)
	}
	return float64(after-before) / float64(n), nil
}

// ReadRSS returns a process's resident set size in bytes, from
// /proc/PID/status (Linux).
func ReadRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read server memory: %w (rss/conn needs Linux /proc)", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb * 1024, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

type server struct {
	cmd  *exec.Cmd
	url  string
	log  *bytes.Buffer
	done chan struct{}
}

// startServer runs argv with {port} and {mport} replaced by free ports and
// waits until the client port accepts connections.
func startServer(ctx context.Context, argv []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mport, err := freePort()
	if err != nil {
		return nil, err
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		a = strings.ReplaceAll(a, "{port}", strconv.Itoa(port))
		args[i] = strings.ReplaceAll(a, "{mport}", strconv.Itoa(mport))
	}
	s := &server{url: fmt.Sprintf("nats://127.0.0.1:%d", port), log: &bytes.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	ownProcessGroup(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", strings.Join(args, " "), err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited: %s", strings.Join(args, " "), strings.TrimSpace(s.log.String()))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s: port %d not open after 15s", strings.Join(args, " "), port)
		}
	}
}

// stop ends the server: SIGTERM to its process group, SIGKILL after 10 s.
func (s *server) stop() {
	pgid := s.cmd.Process.Pid
	terminateGroup(pgid, false)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		terminateGroup(pgid, true)
		<-s.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WriteComparison prints the table: each figure's medians and the ratio of
// the second target to the first, with whether it reaches the bar.
func WriteComparison(w io.Writer, c *Comparison, tty bool) error {
	p := &printer{w: w}
	head := []string{"scenario", "figure", c.Targets[0], c.Targets[1], "ratio", "bar", "ok"}
	var rows [][]string
	for _, r := range c.Rows {
		bar, ok := "≥ 1.0", "yes"
		if !r.Higher {
			bar = "≤ 1.0"
		}
		if !r.Pass {
			ok = "NO"
		}
		rows = append(rows, []string{r.Scenario, r.Figure, fmtFigUnit(r.Figure, r.Median[0]), fmtFigUnit(r.Figure, r.Median[1]), strconv.FormatFloat(r.Ratio, 'f', 2, 64), bar, ok})
	}
	p.printf("Medians of %d rounds; ratio = %s / %s\n", c.Rounds, c.Targets[1], c.Targets[0])
	p.table(tty, head, rows)
	return p.err
}

// WriteComparisonMarkdown prints the table as Markdown (docs/PERFORMANCE.md).
func WriteComparisonMarkdown(w io.Writer, c *Comparison) error {
	p := &printer{w: w}
	p.printf("| scenario | figure | %s | %s | ratio | bar | ok |\n|---|---|---:|---:|---:|---|---|\n", c.Targets[0], c.Targets[1])
	for _, r := range c.Rows {
		bar, ok := "≥ 1.0", "yes"
		if !r.Higher {
			bar = "≤ 1.0"
		}
		if !r.Pass {
			ok = "**no**"
		}
		p.printf("| %s | %s | %s | %s | %.2f | %s | %s |\n", r.Scenario, r.Figure, fmtFigUnit(r.Figure, r.Median[0]), fmtFigUnit(r.Figure, r.Median[1]), r.Ratio, bar, ok)
	}
	return p.err
}
