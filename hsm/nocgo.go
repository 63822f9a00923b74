//go:build !cgo

package hsm

// Module is unavailable without cgo.
type Module struct{}

// Open fails: PKCS#11 modules are C libraries.
func Open(Config, bool) (*Module, error) { return nil, ErrUnavailable }

func (*Module) Created() bool                    { return false }
func (*Module) Close() error                     { return nil }
func (*Module) Seal(_, _ []byte) ([]byte, error) { return nil, ErrUnavailable }
func (*Module) Open(_, _ []byte) ([]byte, error) { return nil, ErrUnavailable }
func (*Module) Check() ([]byte, error)           { return nil, ErrUnavailable }
func (*Module) Choose([]byte) (int, error)       { return 0, ErrUnavailable }
func (*Module) Rotate(func(Sealer) error) error  { return ErrUnavailable }
