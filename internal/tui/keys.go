package tui

import "charm.land/bubbles/v2/key"

// keyMap is every binding of the top view; help.Model renders it for `?`.
type keyMap struct {
	Quit, Help, Pause                key.Binding
	NextTab, PrevTab, Conns, Subject key.Binding
	Streams                          key.Binding
	SortLeft, SortRight, Reverse     key.Binding
	Faster, Slower                   key.Binding
	Up, Down, PageUp, PageDown       key.Binding
	Top, Bottom, Detail, Filter      key.Binding
	Back                             key.Binding
}

func defaultKeys() keyMap {
	b := func(keys []string, h, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(h, desc))
	}
	return keyMap{
		Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),
		Help:      b([]string{"?"}, "?", "help"),
		Pause:     b([]string{"p", "space"}, "p/space", "pause"),
		NextTab:   b([]string{"tab"}, "tab", "next tab"),
		PrevTab:   b([]string{"shift+tab"}, "shift+tab", "previous tab"),
		Conns:     b([]string{"1"}, "1", "connections"),
		Subject:   b([]string{"2"}, "2", "subjects"),
		Streams:   b([]string{"3"}, "3", "streams"),
		SortLeft:  b([]string{"<", "left", "h"}, "</>", "sort by column"),
		SortRight: b([]string{">", "right", "l"}, ">", "sort next column"),
		Reverse:   b([]string{"r"}, "r", "reverse sort"),
		Faster:    b([]string{"-", "_"}, "-/+", "poll interval"),
		Slower:    b([]string{"+", "="}, "+", "slower"),
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:    b([]string{"pgup"}, "pgup", "page up"),
		PageDown:  b([]string{"pgdown"}, "pgdn", "page down"),
		Top:       b([]string{"home", "g"}, "g", "first"),
		Bottom:    b([]string{"end", "G"}, "G", "last"),
		Detail:    b([]string{"enter"}, "enter", "details"),
		Filter:    b([]string{"/"}, "/", "filter"),
		Back:      b([]string{"esc"}, "esc", "close/clear"),
	}
}

// ShortHelp is the one-line footer.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Quit, k.Help, k.Pause, k.NextTab, k.SortLeft, k.Reverse, k.Faster, k.Filter, k.Detail}
}

// FullHelp is the `?` screen, in columns.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Quit, k.Help, k.Pause, k.Faster},
		{k.NextTab, k.PrevTab, k.Conns, k.Subject, k.Streams},
		{k.SortLeft, k.Reverse, k.Filter, k.Back},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Detail},
	}
}
