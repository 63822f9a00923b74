package pebble

import (
	"context"
	"log/slog"
	"os"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/redact"
)

// logger routes Pebble's messages to slog instead of the standard log
// package, which Pebble writes to by default.
//
// Messages are redacted: Pebble marks which parts of a message are safe to
// show (levels, file numbers, error kinds), and every other part, keys and
// paths included, is replaced by "×". Keys are opaque, but a store that
// promises to reveal nothing has no business writing them to a log. An
// operator who needs the whole text of an error turns on debug level, which
// also gets the unredacted message.
type logger struct{ l *slog.Logger }

// Infof takes Pebble's routine messages (WAL recovery, flushes) at debug
// level: a server's operator has no use for them day to day.
func (l logger) Infof(format string, args ...any) { l.log(slog.LevelDebug, format, args) }

// Errorf takes background errors such as a failed compaction.
func (l logger) Errorf(format string, args ...any) { l.log(slog.LevelError, format, args) }

// Fatalf is called when Pebble cannot go on safely: a failed WAL or
// manifest sync, or corruption. Pebble expects it not to return, and its
// default logger exits the process; so does this one, after logging. A panic
// would not do: net/http recovers panics in handlers, and the server would
// go on over a store in an unknown state.
func (l logger) Fatalf(format string, args ...any) {
	l.log(slog.LevelError, "fatal: "+format, args)
	os.Exit(1)
}

func (l logger) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !l.l.Enabled(ctx, level) {
		return
	}
	msg := redact.Sprintf(format, args...)
	l.l.Log(ctx, level, msg.Redact().StripMarkers(), slog.String("engine", "pebble"))
	if level > slog.LevelDebug && l.l.Enabled(ctx, slog.LevelDebug) {
		l.l.Log(ctx, slog.LevelDebug, msg.StripMarkers(), slog.String("engine", "pebble"), slog.Bool("unredacted", true))
	}
}

// events reports what an operator should act on and Pebble's defaults
// drop: a slow or nearly full disk, and writes stalled behind compactions.
func (l logger) events() *pebble.EventListener {
	warn := func(v any) { l.log(slog.LevelWarn, "%s", []any{v}) }
	return &pebble.EventListener{
		DiskSlow:        func(i pebble.DiskSlowInfo) { warn(i) },
		LowDiskSpace:    func(i pebble.LowDiskSpaceInfo) { warn(i) },
		WriteStallBegin: func(i pebble.WriteStallBeginInfo) { warn(i) },
		WriteStallEnd:   func() { l.log(slog.LevelInfo, "write stall ending", nil) },
	}
}
