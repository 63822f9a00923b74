package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/audit"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/detect"
	"github.com/twinvault/twinvault/objects"
)

// The discovery scan reads what workspaces hold — names, descriptions,
// tags, property values and histories (catalog.WorkspaceText), and the
// objects of their buckets, scene documents among them — and reports the
// personal data and credentials it finds: counts by type and location and
// masked excerpts, never a value. `twinvault scan` runs it online
// (ScanData, an IAM action audited like every call), and --scan-interval
// runs it in the background; each scan ends with a DataScanCompleted event
// in the audit trail.

// maxScanObject is how much of an object a scan reads.
const maxScanObject = 16 << 20

// maxSamples caps the findings a report lists one by one.
const maxSamples = 200

// ScanReport is what a scan found.
type ScanReport struct {
	Workspaces []string       `json:"workspaces"`
	Texts      int            `json:"texts"`   // pieces of text read from the catalog
	Objects    int            `json:"objects"` // bucket objects read
	Skipped    int            `json:"skipped"` // objects not read: binary, or sealed with a customer key
	Bytes      int64          `json:"bytes"`
	Findings   int            `json:"findings"`
	ByType     map[string]int `json:"byType"`
	Locations  []ScanLocation `json:"locations"`
	Samples    []ScanSample   `json:"samples"`
	Started    time.Time      `json:"started"`
	Finished   time.Time      `json:"finished"`
}

// ScanLocation counts the findings of one location by type.
type ScanLocation struct {
	Location string         `json:"location"`
	ByType   map[string]int `json:"byType"`
}

// ScanSample is one finding, masked.
type ScanSample struct {
	Location   string `json:"location"`
	Type       string `json:"type"`
	Confidence string `json:"confidence"`
	Excerpt    string `json:"excerpt"`
}

// ScanProgress is how far a scan has gone.
type ScanProgress struct {
	Workspace string `json:"workspace"`
	Stage     string `json:"stage"` // "entities" or "objects"
	Done      int    `json:"done"`
	Total     int    `json:"total"`
}

// scanner runs discovery scans.
type scanner struct {
	c      *catalog.Service
	objs   *objects.Service
	audit  *audit.Log
	now    func() time.Time
	region string
}

// tally gathers a report's findings.
type tally struct {
	r     *ScanReport
	byLoc map[string]map[string]int
}

func (t *tally) add(loc, text string) {
	t.r.Bytes += int64(len(text))
	fs := detect.Scan(text)
	for _, f := range fs {
		// A location is made of IDs and keys, which may hold the very
		// thing found: masked there too.
		if m := text[f.Offset : f.Offset+f.Length]; len(m) >= 3 {
			loc = strings.ReplaceAll(loc, m, f.Excerpt)
		}
	}
	for _, f := range fs {
		t.r.Findings++
		t.r.ByType[string(f.Type)]++
		if t.byLoc[loc] == nil {
			t.byLoc[loc] = map[string]int{}
		}
		t.byLoc[loc][string(f.Type)]++
		if len(t.r.Samples) < maxSamples {
			t.r.Samples = append(t.r.Samples, ScanSample{loc, string(f.Type), f.Confidence.String(), f.Excerpt})
		}
	}
}

// scan scans workspace ws, or every workspace when ws is "", telling
// progress (if not nil) as it goes.
func (sc *scanner) scan(ctx context.Context, ws string, progress func(ScanProgress)) (*ScanReport, error) {
	r := &ScanReport{ByType: map[string]int{}, Started: sc.now().UTC()}
	t := &tally{r: r, byLoc: map[string]map[string]int{}}
	var ids []string
	if ws != "" {
		ids = []string{ws}
	} else {
		var err error
		if ids, err = sc.c.WorkspaceIDs(ctx); err != nil {
			return nil, err
		}
	}
	if progress == nil {
		progress = func(ScanProgress) {}
	}
	for _, id := range ids {
		counts, err := sc.c.WorkspaceTextCounts(ctx, id)
		if err != nil {
			return nil, err
		}
		bucket, err := sc.c.WorkspaceText(ctx, id, func(x catalog.Text) error {
			r.Texts++
			t.add(x.Location, x.Text)
			return ctx.Err()
		}, func(n int) {
			if n%25 == 0 || n == counts.Entities {
				progress(ScanProgress{id, "entities", n, counts.Entities})
			}
		})
		if err != nil {
			return nil, err
		}
		progress(ScanProgress{id, "entities", counts.Entities, counts.Entities})
		if bucket != "" {
			if err := sc.scanBucket(ctx, id, bucket, t, progress); err != nil {
				return nil, err
			}
		}
		r.Workspaces = append(r.Workspaces, id)
	}
	for loc, types := range t.byLoc {
		r.Locations = append(r.Locations, ScanLocation{loc, types})
	}
	sort.Slice(r.Locations, func(i, j int) bool { return r.Locations[i].Location < r.Locations[j].Location })
	r.Finished = sc.now().UTC()
	return r, nil
}

// scanBucket reads the objects of a workspace's bucket as text.
func (sc *scanner) scanBucket(ctx context.Context, ws, bucket string, t *tally, progress func(ScanProgress)) error {
	// One listing: each reads the whole bucket's records.
	l, err := sc.objs.ListObjects(ctx, bucket, "", "", "", math.MaxInt32)
	if twinvault.IsCode(err, twinvault.NoSuchBucket) {
		return nil
	}
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(l.Objects))
	for _, o := range l.Objects {
		keys = append(keys, o.Key)
	}
	for i, key := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		text, ok, err := sc.readObject(ctx, bucket, key)
		if err != nil {
			return err
		}
		if ok {
			t.r.Objects++
			t.add("s3://"+bucket+"/"+key, text)
		} else {
			t.r.Skipped++
		}
		if (i+1)%25 == 0 || i+1 == len(keys) {
			progress(ScanProgress{ws, "objects", i + 1, len(keys)})
		}
	}
	return nil
}

// readObject reads up to maxScanObject of an object; ok is false for one
// that is gone, binary, or sealed with a customer key.
func (sc *scanner) readObject(ctx context.Context, bucket, key string) (string, bool, error) {
	_, rd, err := sc.objs.GetObject(ctx, bucket, key, nil)
	switch {
	case twinvault.IsCode(err, twinvault.NoSuchKey), twinvault.IsCode(err, twinvault.InvalidRequest):
		return "", false, nil // deleted meanwhile, or sealed with a customer key
	case err != nil:
		return "", false, err
	}
	defer rd.Close()
	n := min(rd.Size(), maxScanObject)
	buf := make([]byte, n)
	if _, err := rd.ReadAt(buf, 0); errors.Is(err, barrier.ErrIntegrity) {
		return "", false, nil // counted as skipped; reading it fails the same way
	} else if err != nil && !errors.Is(err, io.EOF) {
		return "", false, err
	}
	if bytes.IndexByte(buf[:min(len(buf), 8<<10)], 0) >= 0 {
		return "", false, nil // binary: a model, an image
	}
	return string(buf), true, nil
}

// record appends the scan's summary to the audit trail.
func (sc *scanner) record(ctx context.Context, r *ScanReport, requestID string) error {
	if sc.audit == nil {
		return nil
	}
	details, _ := json.Marshal(map[string]any{"workspaces": r.Workspaces, "texts": r.Texts, "objects": r.Objects,
		"skipped": r.Skipped, "bytes": r.Bytes, "findings": r.Findings, "byType": r.ByType, "locations": len(r.Locations)})
	e := serviceEvent("DataScanCompleted", requestID, sc.region, r.Finished, nil, details)
	return sc.audit.Append(ctx, e)
}

// bindScan serves ScanData: the report streamed as JSON lines, progress
// first ({"progress": ...}), then {"report": ...} or {"error": ...}.
func bindScan(s *api.Server, sc *scanner) {
	api.HandleJSON(s, KeyService, keyTargets, "ScanData", func([]byte, *api.Request) []string { return []string{"*"} },
		func(ctx context.Context, body []byte) (any, error) {
			var in struct {
				WorkspaceID string `json:"workspaceId"`
			}
			if len(body) > 0 {
				if err := json.Unmarshal(body, &in); err != nil {
					return nil, twinvault.Errorf(twinvault.SerializationException, "the request body is not a ScanData request")
				}
			}
			if in.WorkspaceID != "" {
				if _, err := sc.c.DataPolicy(ctx, in.WorkspaceID); err != nil {
					return nil, err // no such workspace: answered before the stream starts
				}
			}
			requestID := ""
			if req := api.FromContext(ctx); req != nil {
				requestID = req.ID
			}
			return &api.Stream{ContentType: "application/x-ndjson", Write: func(w io.Writer) error {
				var mu sync.Mutex
				var werr error
				enc := json.NewEncoder(w)
				rw, _ := w.(http.ResponseWriter)
				line := func(v any) {
					mu.Lock()
					defer mu.Unlock()
					if werr != nil {
						return
					}
					if rw != nil {
						// A long scan outlives the server's write timeout:
						// each line gets its own.
						http.NewResponseController(rw).SetWriteDeadline(time.Now().Add(time.Minute))
					}
					if werr = enc.Encode(v); werr == nil {
						if f, ok := w.(http.Flusher); ok {
							f.Flush()
						}
					}
				}
				sctx, cancel := context.WithCancel(ctx)
				defer cancel()
				r, err := sc.scan(sctx, in.WorkspaceID, func(p ScanProgress) {
					line(map[string]any{"progress": p})
					if werr != nil {
						cancel() // the client is gone
					}
				})
				if err != nil {
					msg := "the scan failed (request " + requestID + ")"
					var te *twinvault.Error
					if errors.As(err, &te) {
						msg = te.Message
					}
					line(map[string]any{"error": msg})
					return err
				}
				if err := sc.record(ctx, r, requestID); err != nil {
					line(map[string]any{"error": "the scan could not be recorded in the audit trail"})
					return err
				}
				line(map[string]any{"report": r})
				return nil
			}}, nil
		})
}

// scanLease is the lease of the scheduled scans.
const scanLease = "scan/scheduled"

// scanEvery runs a scan of every workspace each interval until ctx ends.
// Over a shared store one node scans: the one whose tick found the lease
// free keeps it while it runs, so each interval is scanned once, and a
// survivor takes over if that node stops.
func (sc *scanner) scanEvery(ctx context.Context, every time.Duration, l *leases, log func(msg string, args ...any)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Longer than the interval: the holder's next tick renews it, and
		// it runs out half an interval after the holder stops.
		held, err := l.acquire(ctx, scanLease, every+every/2)
		if err != nil || !held {
			if err != nil && ctx.Err() == nil {
				log("scheduled data scan", "err", err)
			}
			continue
		}
		r, err := sc.scan(ctx, "", nil)
		if err == nil {
			err = sc.record(ctx, r, twinvault.NewUUID())
		}
		if err != nil {
			if ctx.Err() == nil {
				log("scheduled data scan", "err", err)
			}
			continue
		}
		log("scheduled data scan", "workspaces", len(r.Workspaces), "findings", r.Findings)
	}
}
