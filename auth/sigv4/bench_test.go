package sigv4

import (
	"strings"
	"testing"
)

// benchBody is a TwinMaker-like JSON request of about 1 KiB.
var benchBody = []byte(`{"entityName":"mixer-0","description":"` + strings.Repeat("d", 900) +
	`","components":{"telemetry":{"componentTypeId":"com.example.cookiefactory.mixer"}}}`)

// BenchmarkVerify measures header-form verification of a signed JSON POST,
// with a warm signing-key cache as in steady state.
func BenchmarkVerify(b *testing.B) {
	r, body := signedRequest(b, testSigner(), "POST", "/workspaces/CookieFactory/entities", benchBody)
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0 os/linux lang/go#1.27.3 api/iottwinmaker#1.32.0")
	v := testVerifier()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPresigned measures a presigned GET.
func BenchmarkVerifyPresigned(b *testing.B) {
	r, body := presignedRequest(b, testSigner(), "GET", "/workspaces/CookieFactory/entities?maxResults=50", nil)
	v := testVerifier()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSigningKey is the derivation the cache saves per request.
func BenchmarkSigningKey(b *testing.B) {
	secret := []byte(testKeys["AKIDTEST"])
	b.ReportAllocs()
	for b.Loop() {
		SigningKey(secret, "20261126", "us-east-1", "iottwinmaker")
	}
}

// BenchmarkPayloadHash is the baseline: hashing the same body alone.
func BenchmarkPayloadHash(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		PayloadHash(benchBody)
	}
}
