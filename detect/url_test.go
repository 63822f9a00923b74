package detect

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

var urlCases = []struct {
	raw     string
	schemes []string
	rule    string // a part of the error message; "" for a good URL
}{
	// Good URLs.
	{"https://example.com/path", nil, ""},
	{"https://example.com", nil, ""},
	{"https://example.com:8443/a/b?versionId=3&prefix=models%2F", nil, ""},
	{"s3://bucket/key", []string{"s3"}, ""},
	{"s3://cookie-factory-models/mixer/Mixer_v2.glb", []string{"s3", "https"}, ""},
	{"HTTPS://Example.COM/x", []string{"https"}, ""},
	{"https://[2001:db8::1]/x", nil, ""},

	// Security notes 9(c) and 12 item 43. Which addresses a connector may
	// reach is the dialer's to decide; CheckURL refuses what carries
	// credentials or breaks its form.
	{"http://user:pass@host/", nil, "credentials in its authority"},
	{"http://user:pass@host/", []string{"http"}, "credentials in its authority"},
	{"https://user@example.com/", nil, "credentials in its authority"},
	{"https://h/?token=x", nil, "query parameter name"},
	{"https://example.com/a?Token=x", nil, "query parameter name"},
	{"https://example.com/a?access-token=x", nil, "query parameter name"},
	{"https://example.com/a?api_key=x", nil, "query parameter name"},
	{"https://example.com/a?password=x", nil, "query parameter name"},
	{"https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAZ7XQ4M3LKVN2PJ5T%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef", nil, "query parameter name"},
	{"https://b.s3.amazonaws.com/k?x-amz-security-token=abc", nil, "query parameter name"},
	{"https://acct.blob.core.windows.net/c/b?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01&sig=abc%3D", nil, "Azure"},
	{"http://example.com/", nil, "scheme is not allowed"},
	{"ftp://example.com/", []string{"https", "s3"}, "scheme is not allowed"},
	{"s3://bucket/key", nil, "scheme is not allowed"},
	{"http://127.1/", nil, "scheme is not allowed"},
	{"http://2130706433/", nil, "scheme is not allowed"},
	{"http://0x7f000001/", nil, "scheme is not allowed"},
	{"http://0177.0.0.1/", nil, "scheme is not allowed"},
	{"http://[::ffff:127.0.0.1]/", nil, "scheme is not allowed"},
	{"http://[::]/", nil, "scheme is not allowed"},
	{"http://0.0.0.0/", nil, "scheme is not allowed"},
	{"http://169.254.169.254/latest/meta-data/", nil, "scheme is not allowed"},
	{"http://[fd00:ec2::254]/", nil, "scheme is not allowed"},
	{"http://localhost./", nil, "scheme is not allowed"},
	{"http://evil.example#@good.example/", nil, "scheme is not allowed"},
	{"http://evil.example#@good.example/", []string{"http"}, "fragment"},
	{"https://example.com/page#section", nil, "fragment"},
	{"https://example.com/page#", nil, "fragment"},
	{"http://::1/", []string{"http"}, "does not parse"},
	{"https://exa mple.com/", nil, "spaces or control characters"},
	{" https://example.com/", nil, "spaces or control characters"},
	{"https://example.com/\x00", nil, "spaces or control characters"},
	{"", nil, "empty"},
	{"example.com/path", nil, "no scheme"},
	{"//example.com/path", nil, "no scheme"},
	{"https:example.com", nil, "not of the form"},
	{"https:///path", nil, "no host"},
	{"https://:443/path", nil, "no host"},
	{"https://example.com/%zz", nil, "does not parse"},
	{"https://example.com/a?x=1;y=2", nil, "query does not parse"},

	// Credentials in query values.
	{"https://example.com/a?id=AKIAZ7XQ4M3LKVN2PJ5T", nil, "AWS_ACCESS_KEY_ID"},
	{"https://example.com/a?jwt=" + testJWT, nil, "JSON_WEB_TOKEN"},
	{"https://example.com/a?auth=8f7aK2mQ9xLp3Ws5Rt6Yb1Nc4Dv", nil, "GENERIC_SECRET"},
	{"https://example.com/a?db=postgres%3A%2F%2Fu%3As3cr3tP4ss%40db%2Fapp", nil, "CONNECTION_STRING_PASSWORD"},
	// Personal data in a query is not a credential: Scan reports it elsewhere.
	{"https://example.com/a?owner=john%40example.com", nil, ""},
}

func TestCheckURL(t *testing.T) {
	for _, tc := range urlCases {
		err := CheckURL(tc.raw, tc.schemes...)
		if tc.rule == "" {
			if err != nil {
				t.Errorf("CheckURL(%q, %q) = %v, want nil", tc.raw, tc.schemes, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckURL(%q, %q) = nil, want an error about %q", tc.raw, tc.schemes, tc.rule)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, ErrURL) {
			t.Errorf("CheckURL(%q): %v does not wrap ErrURL", tc.raw, err)
		}
		if !strings.HasPrefix(msg, "detect: URL refused: ") || !strings.Contains(msg, tc.rule) {
			t.Errorf("CheckURL(%q, %q) = %q, want the rule %q", tc.raw, tc.schemes, msg, tc.rule)
		}
		// The message names the rule, never the URL or a part of it.
		if tc.raw != "" && strings.Contains(msg, tc.raw) {
			t.Errorf("CheckURL(%q): %q holds the URL", tc.raw, msg)
		}
		if u, err := url.Parse(tc.raw); err == nil {
			parts := []string{u.Host, u.RawQuery, u.Path, u.Fragment}
			if u.User != nil {
				parts = append(parts, u.User.String())
			}
			for _, vs := range u.Query() {
				parts = append(parts, vs...)
			}
			for _, p := range parts {
				// A one- or two-letter host such as "h" is in any English sentence.
				if len(p) > 2 && strings.Contains(msg, p) {
					t.Errorf("CheckURL(%q): %q holds %q", tc.raw, msg, p)
				}
			}
		}
	}
}

// TestCheckURLEcho checks the one way a message could hold its input: an
// input that is itself a part of a message.
func TestCheckURLEcho(t *testing.T) {
	for _, raw := range []string{"URL refused", "detect: URL refused: it has no scheme", "it has no scheme", "t: URL ref"} {
		err := CheckURL(raw)
		if err == nil || !errors.Is(err, ErrURL) || strings.Contains(err.Error(), raw) {
			t.Errorf("CheckURL(%q) = %v", raw, err)
		}
	}
}
