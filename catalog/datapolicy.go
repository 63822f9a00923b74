package catalog

import (
	"context"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
)

// Personal data and credentials do not belong in names, descriptions and
// tags: they flow into logs, ARNs, listings and billing. Each workspace
// says what a write that carries some meets, per kind of field.

// Data policy modes.
const (
	Reject = "reject" // the write fails with a ValidationException
	Warn   = "warn"   // the write goes through; the finding is audited
	Off    = "off"    // nothing is checked
)

// DataPolicy is a workspace's policy for the fields written to it.
type DataPolicy struct {
	Names        string `json:"names"`        // IDs and names of everything in the workspace
	Descriptions string `json:"descriptions"` // descriptions and scene metadata
	Tags         string `json:"tags"`         // tag keys and values
}

// DefaultDataPolicy rejects findings in names and tags, and warns of those
// in descriptions.
func DefaultDataPolicy() DataPolicy {
	return DataPolicy{Names: Reject, Descriptions: Warn, Tags: Reject}
}

func validMode(m string) bool { return m == Reject || m == Warn || m == Off }

// DataPolicy returns workspace ws's policy, the default if none was set.
func (s *Service) DataPolicy(ctx context.Context, ws string) (DataPolicy, error) {
	var p DataPolicy
	err := s.view(ctx, func(tx *barrier.Tx) error {
		w, _, err := s.loadWorkspace(ctx, tx, ws)
		if err != nil {
			return err
		}
		p = DefaultDataPolicy()
		if w.DataPolicy != nil {
			p = *w.DataPolicy
		}
		return nil
	})
	return p, err
}

// SetDataPolicy sets workspace ws's policy; an empty mode keeps the one in
// place.
func (s *Service) SetDataPolicy(ctx context.Context, ws string, p DataPolicy) (DataPolicy, error) {
	for _, m := range []string{p.Names, p.Descriptions, p.Tags} {
		if m != "" && !validMode(m) {
			return DataPolicy{}, twinvault.Errorf(twinvault.ValidationException, "a data policy mode is reject, warn or off")
		}
	}
	var out DataPolicy
	err := s.update(ctx, func(tx *barrier.Tx) error {
		w, _, err := s.loadWorkspace(ctx, tx, ws)
		if err != nil {
			return err
		}
		out = DefaultDataPolicy()
		if w.DataPolicy != nil {
			out = *w.DataPolicy
		}
		for _, c := range []struct {
			to   *string
			from string
		}{{&out.Names, p.Names}, {&out.Descriptions, p.Descriptions}, {&out.Tags, p.Tags}} {
			if c.from != "" {
				*c.to = c.from
			}
		}
		w.DataPolicy = &out
		return putJSON(tx, s.b.System(), s.workspaceKey(ws), w)
	})
	return out, err
}
