package totp

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

func TestURI(t *testing.T) {
	tests := []struct {
		name            string
		account, issuer string
		want            string
	}{
		{
			"IAM-like", "alice@123456789012", "TwinVault",
			"otpauth://totp/TwinVault:alice@123456789012?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=TwinVault&algorithm=SHA1&digits=6&period=30",
		},
		{
			"escaped", "bob:ops/x?y&z=1+2", "Example Co.",
			"otpauth://totp/Example%20Co.:bob%3Aops%2Fx%3Fy%26z%3D1%2B2?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example%20Co.&algorithm=SHA1&digits=6&period=30",
		},
		{
			"UTF-8", "zoë", "Café #1",
			"otpauth://totp/Caf%C3%A9%20%231:zo%C3%AB?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Caf%C3%A9%20%231&algorithm=SHA1&digits=6&period=30",
		},
		{
			"no issuer", "carol", "",
			"otpauth://totp/carol?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := URI(seed1, tt.account, tt.issuer)
			if got != tt.want {
				t.Fatalf("URI =\n %s\nwant\n %s", got, tt.want)
			}
			// What a URI parser makes of it.
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if u.Scheme != "otpauth" || u.Host != "totp" {
				t.Errorf("scheme %q host %q, want otpauth totp", u.Scheme, u.Host)
			}
			label := strings.TrimPrefix(u.EscapedPath(), "/")
			if tt.issuer != "" {
				iss, acct, ok := strings.Cut(label, ":")
				if !ok {
					t.Fatalf("label %q has no issuer prefix", label)
				}
				if d, _ := url.PathUnescape(iss); d != tt.issuer {
					t.Errorf("label issuer %q, want %q", d, tt.issuer)
				}
				label = acct
			}
			if d, _ := url.PathUnescape(label); d != tt.account {
				t.Errorf("label account %q, want %q", d, tt.account)
			}
			q := u.Query()
			want := url.Values{"secret": {Base32(seed1)}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
			if tt.issuer != "" {
				want["issuer"] = []string{tt.issuer}
			}
			if q.Encode() != want.Encode() {
				t.Errorf("query %v, want %v", q, want)
			}
		})
	}
}

func TestQRCodePNG(t *testing.T) {
	uris := []string{
		URI(seed1, "alice@123456789012", "TwinVault"),
		URI(bytes.Repeat([]byte{0xa5}, 64), strings.Repeat("long-account-name.", 10), "Example Co."),
	}
	for _, uri := range uris {
		p, err := QRCodePNG(uri)
		if err != nil {
			t.Fatalf("QRCodePNG: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(p))
		if err != nil {
			t.Fatalf("not a PNG: %v", err)
		}
		b := img.Bounds()
		if b.Dx() != b.Dy() {
			t.Fatalf("image is %dx%d, not square", b.Dx(), b.Dy())
		}
		checkFinders(t, img)

		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err != nil {
			t.Fatalf("decoding the QR code: %v", err)
		}
		if got := res.GetText(); got != uri {
			t.Errorf("QR code holds\n %s\nwant\n %s", got, uri)
		}
	}

	if _, err := QRCodePNG(strings.Repeat("x", 5000)); err == nil {
		t.Error("QRCodePNG of 5000 bytes succeeded; no QR code holds that much")
	}
}

// checkFinders checks that the three corners other than the bottom right
// hold a finder pattern after the four-module quiet zone: rings of 7, 5
// and 3 modules, dark, light and dark, sampled at module centres.
func checkFinders(t *testing.T, img image.Image) {
	t.Helper()
	size := img.Bounds().Dx()
	if size%qrModule != 0 {
		t.Fatalf("image size %d is not a multiple of the module size %d", size, qrModule)
	}
	modules := size / qrModule
	if (modules-8-17)%4 != 0 || modules < 8+21 {
		t.Fatalf("%d modules with quiet zone is no QR code version", modules)
	}
	dark := func(mx, my int) bool {
		r, g, b, _ := color.GrayModel.Convert(img.At(mx*qrModule+qrModule/2, my*qrModule+qrModule/2)).RGBA()
		return r+g+b < 3*0x8000
	}
	for _, c := range [][2]int{{4, 4}, {modules - 11, 4}, {4, modules - 11}} {
		for y := 0; y < 7; y++ {
			for x := 0; x < 7; x++ {
				ring := min(x, y, 6-x, 6-y) // 0 outer, 1 light, 2 and 3 centre
				if want := ring != 1; dark(c[0]+x, c[1]+y) != want {
					t.Fatalf("finder at module (%d,%d): module (%d,%d) dark = %v", c[0], c[1], x, y, !want)
				}
			}
		}
		// The light separator around it, and the quiet zone.
		if dark(c[0]-1, c[1]+3) || dark(c[0]+7, c[1]+3) || dark(c[0]+3, c[1]-1) || dark(c[0]+3, c[1]+7) {
			t.Errorf("finder at module (%d,%d) is not surrounded by light modules", c[0], c[1])
		}
	}
	if dark(0, 0) || dark(modules-1, modules-1) {
		t.Error("quiet zone is not light")
	}
}
