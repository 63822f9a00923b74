package api

import (
	"testing"
	"time"

	"github.com/twinvault/twinvault"
)

// The server bounds what a slow or idle client can hold.
func TestHTTPServerLimits(t *testing.T) {
	hs := New(Config{}).HTTPServer(nil)
	if hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 30*time.Second {
		t.Errorf("ReadHeaderTimeout %v", hs.ReadHeaderTimeout)
	}
	if hs.IdleTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 {
		t.Errorf("timeouts: idle %v read %v write %v", hs.IdleTimeout, hs.ReadTimeout, hs.WriteTimeout)
	}
	if hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes %d", hs.MaxHeaderBytes)
	}
}

func TestRequestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := twinvault.NewUUID()
		if len(id) != 36 || id[14] != '4' || seen[id] {
			t.Fatalf("request ID %q", id)
		}
		seen[id] = true
	}
}
