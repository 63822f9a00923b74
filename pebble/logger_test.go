package pebble

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

func TestLogger(t *testing.T) {
	key := pebble.InternalKey{UserKey: []byte("ws/secret-entity")}
	pathErr := errors.New("open /data/000123.sst: no such file or directory")
	cases := []struct {
		name   string
		level  slog.Level
		log    func(l logger)
		want   []string // lines, in order, without the time
		hidden []string // must not appear anywhere
	}{
		{"InfoIsDebug", slog.LevelInfo, func(l logger) { l.Infof("flushed %d tables", 3) }, nil, nil},
		{"InfoAtDebug", slog.LevelDebug, func(l logger) { l.Infof("flushed %d tables", 3) },
			[]string{`level=DEBUG msg="flushed × tables" engine=pebble`}, nil},
		{"ErrorRedactsKey", slog.LevelInfo, func(l logger) { l.Errorf("compacting %s: %s", key, "boom") },
			[]string{`level=ERROR msg="compacting ×: ×" engine=pebble`}, []string{"secret", "boom"}},
		{"ErrorRedactsError", slog.LevelInfo, func(l logger) { l.Errorf("background error: %s", pathErr) },
			[]string{`level=ERROR msg="background error: ×" engine=pebble`}, []string{"/data", "000123"}},
		{"ErrorInFullAtDebug", slog.LevelDebug, func(l logger) { l.Errorf("background error: %s", pathErr) },
			[]string{
				`level=ERROR msg="background error: ×" engine=pebble`,
				`level=DEBUG msg="background error: open /data/000123.sst: no such file or directory" engine=pebble unredacted=true`,
			}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			c.log(logger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
				Level: c.level,
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			}))})
			got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if buf.Len() == 0 {
				got = nil
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("logged\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			for _, h := range c.hidden {
				if strings.Contains(buf.String(), h) {
					t.Errorf("logged %q, which reveals %q", buf.String(), h)
				}
			}
		})
	}
}
