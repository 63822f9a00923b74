package node

import (
	"net"
	"syscall"
)

// notSentLowat bounds the bytes a connection's socket holds that it has not
// yet sent, where the operating system supports it (Linux, macOS).
//
// Without a bound the kernel takes several MiB of an answer at once and
// wakes a blocked writer only once a large part of it is gone, so a client
// that reads steadily looks stalled to the server for as long as it takes
// to drain that part, and a slow download is cut off by the stall timeout
// (api.Timeouts.Stall) while it is still moving. Bounded, the writer moves
// on each time the client takes about this much, the least progress the
// stall timeout asks for (api's minProgress). Bytes in flight, which keep
// a fast link busy, are not bounded.
const notSentLowat = 256 << 10

// listen listens for the API's connections on addr.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return lowatListener{ln}, nil
}

// lowatListener sets notSentLowat on the connections it accepts.
type lowatListener struct{ net.Listener }

func (l lowatListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			// Best effort: a socket that refuses keeps the default.
			raw.Control(func(fd uintptr) { setNotSentLowat(fd, notSentLowat) })
		}
	}
	return c, nil
}
