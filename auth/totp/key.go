package totp

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"

	"github.com/skip2/go-qrcode"
)

// qrModule is the size in pixels of one QR code module: large enough to
// scan off a screen, and a whole number so every module has the same size.
const qrModule = 8

// NewSecret returns a new random secret of SecretSize bytes from
// crypto/rand.
func NewSecret() ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("totp: generating secret: %w", err)
	}
	return b, nil
}

// Base32 returns secret in RFC 4648 Base32 without padding, the form of
// IAM's Base32StringSeed and of the secret parameter of key URIs.
func Base32(secret []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
}

// URI returns the otpauth:// key URI of an IAM-style device, in the format
// authenticator apps read from QR codes:
//
//	otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
//
// Issuer and account are percent-encoded as RFC 3986 asks, with spaces as
// %20, which apps decode more reliably than +. Colons inside them are
// encoded too, so the one separating them stays unambiguous; '@', common
// in account names and allowed there, is kept. With an empty issuer the
// label is the account alone and there is no issuer parameter.
func URI(secret []byte, account, issuer string) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if issuer != "" {
		b.WriteString(escape(issuer))
		b.WriteByte(':')
	}
	b.WriteString(escape(account))
	b.WriteString("?secret=")
	b.WriteString(Base32(secret))
	if issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(escape(issuer))
	}
	b.WriteString("&algorithm=")
	b.WriteString(SHA1.String())
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.Itoa(int(Period.Seconds())))
	return b.String()
}

// escape percent-encodes every byte of s but RFC 3986 unreserved
// characters and '@'.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0x0f])
		}
	}
	return b.String()
}

// QRCodePNG returns a PNG image of a QR code holding uri, with medium (15%)
// error correction and the standard four-module quiet zone, as IAM's
// QRCodePNG is used: shown to a person who scans it with an authenticator
// app.
func QRCodePNG(uri string) ([]byte, error) {
	// A negative size asks for qrModule pixels per module.
	png, err := qrcode.Encode(uri, qrcode.Medium, -qrModule)
	if err != nil {
		return nil, fmt.Errorf("totp: encoding key URI as a QR code: %w", err)
	}
	return png, nil
}
