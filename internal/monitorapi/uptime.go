package monitorapi

import (
	"strconv"
	"time"
)

// FormatUptime writes d the way nats-server writes /varz uptime and /connz
// uptime and idle: whole seconds split into years (365 days), days, hours,
// minutes and seconds, leading zero units dropped and every unit after the
// first non-zero one kept: "0s", "59s", "1m0s", "1h0m5s", "2d3h0m0s",
// "1y0d0h0m1s". Negative durations (clock skew) print as "0s".
//
// It is not time.Duration.String: "1h2m3s" matches, but nats-server never
// prints fractions and counts days and years.
func FormatUptime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	secs := int64(d / time.Second)
	mins, hrs := secs/60, secs/3600
	days := hrs / 24
	yrs := days / 365
	b := make([]byte, 0, 20)
	unit := func(v int64, u byte) {
		b = strconv.AppendInt(b, v, 10)
		b = append(b, u)
	}
	switch {
	case yrs > 0:
		unit(yrs, 'y')
		unit(days%365, 'd')
		unit(hrs%24, 'h')
		unit(mins%60, 'm')
	case days > 0:
		unit(days, 'd')
		unit(hrs%24, 'h')
		unit(mins%60, 'm')
	case hrs > 0:
		unit(hrs, 'h')
		unit(mins%60, 'm')
	case mins > 0:
		unit(mins, 'm')
	}
	unit(secs%60, 's')
	return string(b)
}
