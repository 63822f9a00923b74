package api

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRedirect(t *testing.T) {
	h := Redirect("8443")
	for _, c := range []struct {
		method, target, host, auth string
		code                       int
		location                   string
	}{
		{"GET", "/workspaces/plant?x=1", "localhost:8080", "", 308, "https://localhost:8443/workspaces/plant?x=1"},
		{"HEAD", "/", "api.localhost", "", 308, "https://api.localhost:8443/"},
		{"GET", "/", "[::1]:8080", "", 308, "https://[::1]:8443/"},
		{"POST", "/workspaces", "localhost:8080", "", 400, ""},
		{"PUT", "/b/k", "localhost:8080", "", 400, ""},
		{"GET", "/workspaces", "localhost:8080", "AWS4-HMAC-SHA256 Credential=AKIAQZX/...", 400, ""},
		{"GET", "/b/k?X-Amz-Credential=AKIAQZX%2F&X-Amz-Signature=QZXsig", "localhost:8080", "", 400, ""},
		{"GET", "/", "evil@host", "", 400, ""},
	} {
		req := httptest.NewRequest(c.method, c.target, nil)
		req.Host = c.host
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code || rec.Header().Get("Location") != c.location {
			t.Errorf("%s %s (host %s): %d %q, want %d %q", c.method, c.target, c.host, rec.Code, rec.Header().Get("Location"), c.code, c.location)
		}
		if strings.Contains(rec.Body.String(), "QZX") || strings.Contains(rec.Header().Get("Location"), "QZX") {
			t.Errorf("%s %s: the response echoes credentials", c.method, c.target)
		}
	}
}
