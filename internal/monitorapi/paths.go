package monitorapi

// Endpoint paths, as nats-server serves them. nats-top requests /varz and
// /connz by these absolute paths.
const (
	VarzPath     = "/varz"
	ConnzPath    = "/connz"
	RoutezPath   = "/routez"
	SubszPath    = "/subsz"
	AccountzPath = "/accountz"
	JszPath      = "/jsz"
	HealthzPath  = "/healthz"

	// SubjzPath is a natsctl extension: per-subject message and byte counts
	// (see Subjz). nats-server answers it with 404.
	SubjzPath = "/subjz"
)

// DefaultConnListSize is the /connz limit used when the query gives none or
// a value <= 0, as in nats-server.
const DefaultConnListSize = 1024
