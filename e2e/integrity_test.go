package e2e

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/pebble"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// TestCopiedCiphertext: one entity's stored record copied over another's,
// on disk while the server is stopped, is refused when read — a 500
// InternalServerException and an IntegrityCheckFailed audit event, never
// the other entity's data.
func TestCopiedCiphertext(t *testing.T) {
	srv := twinvaulttest.Start(t)
	if srv.Config().Storage == node.StoragePostgres {
		t.Skip("tampers with the Pebble store")
	}
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ws := aws.String("tamper")
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: ws}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"victim", "source"} {
		_, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String(id), EntityName: aws.String(id),
			Description: aws.String("QZX secret of " + id)})
		if err != nil {
			t.Fatal(err)
		}
	}
	srv.Stop(t)

	// The storage keys of both records, found through the barrier with the
	// master key; the copy itself is of raw ciphertext.
	cfg := srv.Config()
	store, err := pebble.Open(filepath.Join(cfg.DataDir, "kv"), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	master, err := keyring.LoadMasterKey(cfg.KeyFile, cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Open(ctx, store, master)
	if err != nil {
		t.Fatal(err)
	}
	b, err := barrier.New(ctx, store, kr)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := b.ViewIDs(ctx)
	records := map[string][]byte{} // entity → its record's key in its view
	for _, id := range ids {
		v, err := b.View(ctx, id)
		if err != nil {
			continue
		}
		v.Scan(ctx, kv.Range{}, func(k, val []byte) error {
			for _, e := range []string{"victim", "source"} {
				if bytes.Contains(val, []byte("QZX secret of "+e)) && !bytes.Contains(val, []byte("eventVersion")) {
					records[e] = bytes.Clone(k)
				}
			}
			return nil
		})
	}
	if len(records) != 2 {
		t.Fatalf("found the records of %d entities", len(records))
	}
	raw := map[string][]byte{}
	var keys = map[string][]byte{}
	store.Scan(ctx, kv.Range{}, func(k, val []byte) error {
		for e, rk := range records {
			if bytes.HasSuffix(k, rk) {
				keys[e], raw[e] = bytes.Clone(k), bytes.Clone(val)
			}
		}
		return nil
	})
	if len(keys) != 2 {
		t.Fatal("the storage keys were not found")
	}
	if err := store.Batch(ctx, []kv.Write{{Key: keys["victim"], Value: raw["source"]}}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	srv.Restart(t)
	tm = srv.TwinMaker(twinvaulttest.NoHostPrefix)
	out, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: ws, EntityId: aws.String("victim")})
	if apiCode(err) != "InternalServerException" || out != nil || strings.Contains(err.Error(), "QZX") {
		t.Fatalf("the copied record: %v %v", out, err)
	}
	if _, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: ws, EntityId: aws.String("source")}); err != nil {
		t.Fatalf("the untouched record: %v", err)
	}
	events := lookupAll(t, srv.CloudTrail(srv.AWSConfig()), cttypes.LookupAttributeKeyEventName, "IntegrityCheckFailed")
	if len(events) != 1 {
		t.Fatalf("%d IntegrityCheckFailed events", len(events))
	}
	if d, _ := events[0]["serviceEventDetails"].(map[string]any); d["operation"] != "GetEntity" {
		t.Fatalf("the event: %v", events[0])
	}
}
