package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// ServerSample is what the server's /varz said during the run.
type ServerSample struct {
	URL     string  `json:"url"`
	Samples int     `json:"samples"`
	CPUMax  float64 `json:"cpu_max"` // percent of one core
	CPUAvg  float64 `json:"cpu_avg"`
	MemMax  int64   `json:"mem_max"` // resident bytes
	// SlowConsumers is how many the server counted during the run.
	SlowConsumers int64 `json:"slow_consumers"`
}

// monitor samples /varz every monitorEvery until stopped.
type monitor struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	s      ServerSample
	cpuSum float64
	slow0  int64
	hc     *http.Client
	url    string
}

const monitorEvery = 500 * time.Millisecond

func startMonitor(ctx context.Context, base string) *monitor {
	ctx, cancel := context.WithCancel(ctx)
	m := &monitor{cancel: cancel, s: ServerSample{URL: base}, slow0: -1}
	m.url = strings.TrimRight(base, "/") + "/varz"
	m.hc = &http.Client{Timeout: 2 * time.Second}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(monitorEvery)
		defer t.Stop()
		for {
			m.sample(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *monitor) sample(ctx context.Context) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url, nil)
	if err != nil {
		return
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	var v monitorapi.Varz
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.slow0 < 0 {
		m.slow0 = v.SlowConsumers
	}
	m.s.Samples++
	m.cpuSum += v.CPU
	m.s.CPUMax = max(m.s.CPUMax, v.CPU)
	m.s.CPUAvg = m.cpuSum / float64(m.s.Samples)
	m.s.MemMax = max(m.s.MemMax, v.Mem)
	m.s.SlowConsumers = v.SlowConsumers - m.slow0
}

// stop ends sampling (after one last sample for the slow consumer count)
// and returns the figures, or nil when the endpoint never answered.
func (m *monitor) stop() *ServerSample {
	m.cancel()
	m.wg.Wait()
	if m.s.Samples > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		m.sample(ctx)
		cancel()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.s.Samples == 0 {
		return nil
	}
	s := m.s
	return &s
}
