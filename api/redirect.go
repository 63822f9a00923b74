package api

import (
	"net"
	"net/http"
	"strings"
)

// Redirect serves the optional plaintext listener: it processes no API
// request. A GET or HEAD is sent to the same path over HTTPS on port
// (308, method kept); anything else, and any request that carries
// credentials (which crossed the network in the clear already, and must
// not be echoed back), gets 400.
func Redirect(port string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		q := r.URL.Query()
		signed := r.Header.Get("Authorization") != "" || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature") || q.Has("X-Amz-Security-Token")
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || signed {
			http.Error(w, "TwinVault serves its API over HTTPS only; nothing was processed. Use https:// (and treat any credentials sent here as exposed).", http.StatusBadRequest)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" || strings.ContainsAny(host, "/\\@") {
			http.Error(w, "bad Host header", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "https://"+net.JoinHostPort(strings.Trim(host, "[]"), port)+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}
