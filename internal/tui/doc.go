// Package tui is the `natsctl top` terminal UI: a bubbletea program that
// polls a monitoring endpoint (natsctl's or nats-server's) and shows the
// server's load, message rates, busiest subjects and connections.
//
// Structure (STYLE.md §6): the Model holds the last snapshots, the rates
// derived from them, and the view state (tab, sort, filter, selection, size,
// error). Update does no I/O: polling is a chain of tea.Cmds (fetch, then
// tick, then fetch ...) that run off the UI goroutine and report back as
// messages; a generation number retires an old chain when the user changes
// the interval or sort or resumes from pause. Rates are pure functions of two
// snapshots (rates.go) and View is a pure function of the Model.
//
// Tabs are views over the one polling engine: each tab renders from the same
// Snapshot, and the Request the engine sends asks for what the tabs need.
// The streams tab asks for /jsz only while it is shown (streams.go).
// Adding a tab (routes) means a tabID, a render function and, if
// it needs another endpoint, a field in Request and Snapshot.
//
// The data comes from an injected Source: HTTPSource for a live server, a
// fake in tests. WriteTable and the JSON form of Snapshot serve `top --once`.
package tui
