package catalog

import (
	"context"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/tsdb"
)

// StorageUsage reports what the time series of workspace ws take in the
// store, in one snapshot. Its cost grows with the workspace's history, as
// a backup's does: it is for operators and tools, not for every request.
func (s *Service) StorageUsage(ctx context.Context, ws string) (tsdb.Usage, error) {
	var u tsdb.Usage
	err := s.view(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.loadWorkspace(ctx, tx, ws)
		if err != nil || s.ts == nil {
			return err
		}
		u, err = s.ts.Usage(tx, v)
		return err
	})
	return u, err
}
