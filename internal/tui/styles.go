package tui

import "charm.land/lipgloss/v2"

// styles are the few looks of the view. Colour only adds emphasis: every
// state (selection, error, pause, active tab) is also visible as text, so
// the view reads the same with colour stripped (golden tests, NO_COLOR).
type styles struct {
	title, label, value, faint lipgloss.Style
	err, warn                  lipgloss.Style
	tabActive, tabIdle         lipgloss.Style
	header, selected           lipgloss.Style
	sparkIn, sparkOut          lipgloss.Style
}

func defaultStyles() styles {
	return styles{
		title:     lipgloss.NewStyle().Bold(true),
		label:     lipgloss.NewStyle().Faint(true),
		value:     lipgloss.NewStyle().Bold(true),
		faint:     lipgloss.NewStyle().Faint(true),
		err:       lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("9")),
		warn:      lipgloss.NewStyle().Foreground(lipgloss.Color("11")),
		tabActive: lipgloss.NewStyle().Bold(true).Underline(true),
		tabIdle:   lipgloss.NewStyle().Faint(true),
		header:    lipgloss.NewStyle().Bold(true).Reverse(true),
		selected:  lipgloss.NewStyle().Reverse(true),
		sparkIn:   lipgloss.NewStyle().Foreground(lipgloss.Color("10")),
		sparkOut:  lipgloss.NewStyle().Foreground(lipgloss.Color("12")),
	}
}
