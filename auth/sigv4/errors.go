package sigv4

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Error codes of authentication failures. They are the codes AWS JSON and
// restJson1 services answer with; SDKs key their behaviour (clock-skew
// correction, retries) on the code, not on the HTTP status.
const (
	// CodeMissingAuthenticationToken: the request carries no signature at all.
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature: the signature is malformed (HTTP 400).
	CodeIncompleteSignature = "IncompleteSignatureException"
	// CodeInvalidSignature: well formed, but wrong scope, time or value (HTTP 403).
	CodeInvalidSignature = "InvalidSignatureException"
	// CodeUnrecognizedClient: the access key ID is unknown (HTTP 403).
	CodeUnrecognizedClient = "UnrecognizedClientException"
)

// Messages that clients and tests match on; they are AWS's own texts.
const (
	msgMissingToken = "Missing Authentication Token"
	msgMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgUnknownKey = "The security token included in the request is invalid."
	msgExpired    = "Request has expired"
	msgBothForms  = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, " +
		"Signature query string parameter or the Authorization header should be specified"
)

// Error is an authentication failure. Code is an AWS error code, Status the
// HTTP status that goes with it, and Message is safe to send to the client:
// it never holds a secret, the expected signature or a canonical request.
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return "sigv4: " + e.Code + ": " + e.Message }

func missing() *Error {
	return &Error{Code: CodeMissingAuthenticationToken, Status: http.StatusForbidden, Message: msgMissingToken}
}

func incomplete(format string, args ...any) *Error {
	return &Error{Code: CodeIncompleteSignature, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidSignature, Status: http.StatusForbidden, Message: fmt.Sprintf(format, args...)}
}

func unrecognized() *Error {
	return &Error{Code: CodeUnrecognizedClient, Status: http.StatusForbidden, Message: msgUnknownKey}
}

// maxQuoted bounds how much of a client-supplied value an error message
// echoes, so messages stay short in logs and audit records.
const maxQuoted = 64

// clean makes client input safe to echo in a message: it is cut to
// maxQuoted bytes and anything but printable ASCII becomes '?', so a message
// can neither grow without bound nor inject control bytes into logs.
func clean(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i >= maxQuoted {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r >= 0x7f || r == utf8.RuneError {
			b.WriteByte('?')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
