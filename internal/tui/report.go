package tui

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteReport writes one snapshot as plain text for `natsctl top --once`:
// a few summary lines like nats-top's header, then the connections as a
// borderless table in the order the server returned them, with exact
// counts (scripts that want structure use the JSON form of Snapshot).
func WriteReport(w io.Writer, snap *Snapshot) error {
	v, cz := snap.Varz, snap.Connz
	name := v.Name
	if name == "" {
		name = v.ID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Server: %s  version %s  uptime %s", name, v.Version, v.Uptime)
	if name != v.ID {
		fmt.Fprintf(&b, "  id %s", v.ID)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Load:   CPU %.1f%%  Memory %s  Connections %d  Subscriptions %d  Slow consumers %d\n",
		v.CPU, formatBytes(float64(v.Mem)), v.Connections, v.Subscriptions, v.SlowConsumers)
	fmt.Fprintf(&b, "In:     msgs %d  bytes %d\n", v.InMsgs, v.InBytes)
	fmt.Fprintf(&b, "Out:    msgs %d  bytes %d\n", v.OutMsgs, v.OutBytes)
	fmt.Fprintf(&b, "Connections polled: %d of %d\n\n", cz.NumConns, cz.Total)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}

	header := []string{"CID", "NAME", "HOST", "SUBS", "PENDING", "MSGS_TO", "MSGS_FROM",
		"BYTES_TO", "BYTES_FROM", "LANG", "VERSION", "UPTIME", "IDLE", "SUBSCRIPTIONS"}
	right := map[int]bool{0: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 11: true, 12: true}
	align := make([]tw.Align, len(header))
	for i := range align {
		align[i] = tw.AlignLeft
		if right[i] {
			align[i] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header)
	for _, c := range cz.Conns {
		subs := strings.Join(c.Subs, ", ")
		if len(c.SubsDetail) > 0 {
			subs = strings.Join(subsOf(c), ", ")
		}
		row := []string{
			strconv.FormatUint(c.Cid, 10), c.Name, hostPort(c),
			strconv.FormatUint(uint64(c.NumSubs), 10), strconv.Itoa(c.Pending),
			strconv.FormatInt(c.OutMsgs, 10), strconv.FormatInt(c.InMsgs, 10),
			strconv.FormatInt(c.OutBytes, 10), strconv.FormatInt(c.InBytes, 10),
			c.Lang, c.Version, c.Uptime, c.Idle, subs,
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}
