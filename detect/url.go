package detect

import (
	"errors"
	"net/url"
	"slices"
	"strings"
)

// ErrURL is wrapped by every CheckURL error (errors.Is).
var ErrURL = errors.New("detect: URL refused")

// refusal is a CheckURL error: it names the rule broken, never the URL.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return ErrURL }

// refuse returns the error for a broken rule. Should the input itself
// read as part of the message (a "URL" such as "URL refused: it"), the
// message is swapped for one sharing no nine-byte run with any rule's, so
// an error can never be said to echo its input.
func refuse(raw, rule string) error {
	msg := ErrURL.Error() + ": " + rule
	if len(raw) > 8 && strings.Contains(msg, raw) {
		msg = "detect: input refused"
	}
	return &refusal{msg}
}

// secretParams are query parameter names that carry credentials, folded
// to lower case with '-' as '_'.
var secretParams = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "token": true, "access_token": true, "api_key": true,
	"apikey": true, "secret": true, "sig": true, "signature": true, "x_amz_signature": true,
	"x_amz_credential": true, "x_amz_security_token": true, "client_secret": true, "refresh_token": true,
	"id_token": true, "auth_token": true, "session_token": true, "x_goog_signature": true,
	"x_goog_credential": true, "awsaccesskeyid": true,
}

// credentialTypes are the findings that make a query value a credential.
var credentialTypes = []Type{AWSAccessKey, AWSSecretKey, PrivateKey, JWT, ConnPassword, GenericSecret}

// CheckURL validates a URL given to the service. It returns nil or an
// error whose message names the rule broken and NEVER contains the URL or
// any part of it (not the host, not the query). schemes lists the allowed
// schemes (e.g. "https", "s3"); an empty list means "https" only.
//
// A URL must parse with net/url as scheme://host[/path][?query], with no
// spaces or control characters, no user information, no fragment, an
// allowed scheme, no query parameter named like a credential (password,
// token, X-Amz-Signature, an Azure SAS's sv and sig, ...), and no query
// value that Scan finds to be a credential. Secrets are given by
// reference (a Secrets Manager ARN), never inside a URL.
func CheckURL(raw string, schemes ...string) error {
	if raw == "" {
		return refuse(raw, "it is empty")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] == 0x7f {
			return refuse(raw, "it contains spaces or control characters")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The parse error quotes the URL: it is not passed on.
		return refuse(raw, "it does not parse as a URL")
	}
	switch {
	case u.Scheme == "":
		return refuse(raw, "it has no scheme")
	case u.Opaque != "":
		return refuse(raw, "it is not of the form scheme://host/path")
	case u.User != nil:
		return refuse(raw, "it carries credentials in its authority (name:password@)")
	case u.Hostname() == "":
		return refuse(raw, "it has no host")
	}
	if len(schemes) == 0 {
		schemes = []string{"https"}
	}
	if !slices.ContainsFunc(schemes, func(s string) bool { return strings.EqualFold(s, u.Scheme) }) {
		return refuse(raw, "its scheme is not allowed here (allowed: "+strings.Join(schemes, ", ")+")")
	}
	if strings.IndexByte(raw, '#') >= 0 {
		return refuse(raw, "it has a fragment (#...)")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return refuse(raw, "its query does not parse")
	}
	if q.Has("sv") && q.Has("sig") {
		return refuse(raw, "it is an Azure shared-access URL (SAS)")
	}
	names := make([]string, 0, len(q))
	for k := range q {
		if secretParams[strings.ReplaceAll(strings.ToLower(k), "-", "_")] {
			return refuse(raw, "a query parameter name says it holds a credential")
		}
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range q[k] {
			// The name goes along as the keyword a generic secret needs.
			for _, f := range Scan(k + "=" + v) {
				if slices.Contains(credentialTypes, f.Type) {
					return refuse(raw, "a query value looks like a credential ("+string(f.Type)+")")
				}
			}
		}
	}
	return nil
}
