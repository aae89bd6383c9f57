package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteJSON writes r as one indented JSON object.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for people: tables on a terminal (tty), tab-separated
// columns otherwise.
func WriteText(w io.Writer, r *Result, tty bool) error {
	p := &printer{w: w}
	c := r.Config
	what := fmt.Sprintf("%d msgs", c.Msgs)
	if c.Duration > 0 {
		what = "for " + c.Duration.String()
	}
	p.printf("%s: %d pub, %d sub, %s of %d B (+%d B headers) on %q", r.Mode, c.Pubs, c.Subs, what, c.Size, c.HeaderBytes, c.Subject)
	if c.JS != nil {
		p.printf(", %s", c.JS.describe(r.Mode))
	}
	if c.Rate > 0 {
		p.printf(", at %s msgs/s", human(c.Rate))
	}
	if c.Warmup > 0 {
		p.printf(", after a %s warm-up", c.Warmup)
	}
	p.printf("\n\n")
	for _, g := range r.Groups {
		p.group(g, tty)
	}
	if d := r.Delivery; d != nil {
		p.printf("Delivery: %d received", d.Received)
		if d.Expected > 0 {
			p.printf(" of %d expected", d.Expected)
		}
		p.printf(", %d lost", d.Lost)
		if d.Tracked {
			p.printf(", %d duplicated, %d out of order", d.Duplicates, d.OutOfOrder)
		} else {
			p.printf(" (payloads under %d B carry no sequence: duplicates and order not checked)", stampLen)
		}
		p.printf("\n\n")
	}
	if l := r.Latency; l != nil && l.Count > 0 {
		p.printf("Latency over %d messages (min %s, mean %s, stddev %s):\n", l.Count, fmtDur(l.Min), fmtDur(l.Mean), fmtDur(l.Stddev))
		head := []string{}
		row := []string{}
		for _, v := range l.Percentiles {
			head = append(head, "p"+strconv.FormatFloat(v.Percentile, 'f', -1, 64))
			row = append(row, fmtDur(v.Value))
		}
		head, row = append(head, "max"), append(row, fmtDur(l.Max))
		p.table(tty, head, [][]string{row})
		if l.Clamped > 0 {
			p.printf("(%d latencies above %s were recorded as %s)\n", l.Clamped, time.Duration(maxLatency), time.Duration(maxLatency))
		}
		p.printf("\n")
		if p.err == nil {
			p.err = l.WriteBars(w, 40)
		}
		p.printf("\n")
	}
	if s := r.Server; s != nil {
		p.printf("Server (%s, %d samples): CPU max %.0f%% avg %.0f%%, memory max %s, slow consumers %d\n\n",
			s.URL, s.Samples, s.CPUMax, s.CPUAvg, humanBytes(float64(s.MemMax)), s.SlowConsumers)
	}
	for _, warn := range r.Warnings {
		p.printf("warning: %s\n", warn)
	}
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

var roleNames = map[string]string{"pub": "Publishers", "sub": "Subscribers", "req": "Requesters", "rep": "Responders", "get": "Getters", "put": "Writers"}

func (p *printer) group(g *Group, tty bool) {
	name := roleNames[g.Role]
	if name == "" {
		name = g.Role
	}
	p.printf("%s: %s msgs/s, %s MB/s (%d msgs, %s in %s)\n", name, human(g.MsgsPerSec), fmt2(g.MBPerSec), g.Msgs, humanBytes(float64(g.Bytes)), g.Elapsed.Round(time.Microsecond))
	if len(g.Clients) > 1 {
		rows := make([][]string, 0, len(g.Clients)+4)
		for _, c := range g.Clients {
			rows = append(rows, []string{c.Name, strconv.FormatInt(c.Msgs, 10), human(c.MsgsPerSec()), fmt2(c.MBPerSec()), c.Elapsed().Round(time.Microsecond).String()})
		}
		for _, s := range []struct {
			name string
			m, b float64
		}{{"min", g.ClientMsgs.Min, g.ClientMB.Min}, {"avg", g.ClientMsgs.Avg, g.ClientMB.Avg}, {"max", g.ClientMsgs.Max, g.ClientMB.Max}, {"stddev", g.ClientMsgs.Stddev, g.ClientMB.Stddev}} {
			rows = append(rows, []string{s.name, "", human(s.m), fmt2(s.b), ""})
		}
		p.table(tty, []string{"client", "msgs", "msgs/s", "MB/s", "elapsed"}, rows)
	}
	p.printf("\n")
}

func (p *printer) table(tty bool, head []string, rows [][]string) {
	if p.err != nil {
		return
	}
	if !tty {
		p.printf("%s\n", strings.Join(head, "\t"))
		for _, r := range rows {
			p.printf("%s\n", strings.Join(r, "\t"))
		}
		return
	}
	t := tablewriter.NewTable(p.w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignRight),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(head)
	if err := t.Bulk(rows); err != nil {
		p.err = err
		return
	}
	p.err = t.Render()
}

// csvHeader is the column list of WriteCSV.
var csvHeader = []string{"mode", "role", "client", "msgs", "bytes", "elapsed_s", "msgs_per_sec", "mb_per_sec",
	"lost", "duplicates", "out_of_order", "p50_us", "p90_us", "p99_us", "p99_9_us", "p99_99_us", "max_us"}

// WriteCSV writes one row per client and one "all" row per group; delivery
// and latency figures fill the all row of the receiving group.
func WriteCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	recv := ""
	if len(r.Groups) > 0 {
		recv = r.Groups[len(r.Groups)-1].Role
		if r.Mode == "reqrep" {
			recv = "req"
		}
	}
	for _, g := range r.Groups {
		for _, c := range g.Clients {
			row := []string{r.Mode, g.Role, c.Name, itoa(c.Msgs), itoa(c.Bytes), secs(c.Elapsed()), ftoa(c.MsgsPerSec()), ftoa(c.MBPerSec())}
			if err := cw.Write(append(row, make([]string, len(csvHeader)-len(row))...)); err != nil {
				return err
			}
		}
		row := []string{r.Mode, g.Role, "all", itoa(g.Msgs), itoa(g.Bytes), secs(g.Elapsed), ftoa(g.MsgsPerSec), ftoa(g.MBPerSec)}
		extra := make([]string, len(csvHeader)-len(row))
		if g.Role == recv {
			if d := r.Delivery; d != nil {
				extra[0], extra[1], extra[2] = itoa(d.Lost), itoa(d.Duplicates), itoa(d.OutOfOrder)
			}
			if l := r.Latency; l != nil && l.Count > 0 {
				for i, v := range l.Percentiles {
					extra[3+i] = us(v.Value)
				}
				extra[3+len(l.Percentiles)] = us(l.Max)
			}
		}
		if err := cw.Write(append(row, extra...)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func itoa(n int64) string         { return strconv.FormatInt(n, 10) }
func ftoa(f float64) string       { return strconv.FormatFloat(f, 'f', 2, 64) }
func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }
func us(d time.Duration) string   { return strconv.FormatFloat(float64(d)/1e3, 'f', 3, 64) }
func fmt2(f float64) string       { return strconv.FormatFloat(f, 'f', 2, 64) }
func humanBytes(b float64) string { return humanUnit(b, "B") }
func human(f float64) string      { return strings.TrimSuffix(humanUnit(f, ""), " ") }
func humanUnit(f float64, u string) string {
	switch {
	case f >= 1e9:
		return fmt.Sprintf("%.2f G%s", f/1e9, u)
	case f >= 1e6:
		return fmt.Sprintf("%.2f M%s", f/1e6, u)
	case f >= 1e3:
		return fmt.Sprintf("%.2f K%s", f/1e3, u)
	}
	return fmt.Sprintf("%.0f %s", f, u)
}
