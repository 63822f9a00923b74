package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// scanData runs ScanData and returns the progress seen and the report.
func scanData(t *testing.T, srv *twinvaulttest.Server, body string) ([]node.ScanProgress, *node.ScanReport) {
	t.Helper()
	resp := keyRequest(t, srv, "ScanData", []byte(body))
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ScanData: %d", resp.StatusCode)
	}
	var progress []node.ScanProgress
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			Progress *node.ScanProgress
			Report   *node.ScanReport
			Error    string
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("a ScanData line: %v: %s", err, sc.Bytes())
		}
		switch {
		case line.Error != "":
			t.Fatalf("ScanData: %s", line.Error)
		case line.Progress != nil:
			progress = append(progress, *line.Progress)
		case line.Report != nil:
			return progress, line.Report
		}
	}
	t.Fatalf("ScanData ended without a report: %v (after %d progress lines)", sc.Err(), len(progress))
	return nil, nil
}

// TestScanCookieFactory: the Cookie Factory sample with findings planted
// in two property histories and in a scene's document: the scan finds
// exactly those, masked, and records a summary in the audit trail.
func TestScanCookieFactory(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	loadCookieFactory(t, srv, tm, "cookiefactory")
	plant := func(entity, component, prop, text string) {
		out, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("cookiefactory"),
			Entries: []types.PropertyValueEntry{{
				EntityPropertyReference: &types.EntityPropertyReference{EntityId: aws.String(entity), ComponentName: aws.String(component), PropertyName: aws.String(prop)},
				PropertyValues: []types.PropertyValue{
					{Time: at(100), Value: &types.DataValue{StringValue: aws.String("NORMAL")}},
					{Time: at(200), Value: &types.DataValue{StringValue: aws.String(text)}},
				}}}})
		if err != nil || len(out.ErrorEntries) > 0 {
			t.Fatalf("planting in %s: %v %+v", entity, err, out)
		}
	}
	const straight, conveyor = "CONVEYOR_STRIGHT_9c62c546-f8ef-489d-9938-d46a12c97f32", "CONVEYOR_RIGHT_TURN_c4f2df3d-26a2-45c5-a6c9-02ca00eb4af6"
	plant(straight, "CookieLineComponent", "AlarmMessage", "belt stopped: escalate to maintenance.lead@cookiefactory.example")
	plant(conveyor, "CookieLineComponent", "AlarmMessage", "PLC login failed; deploy key AKIAQ3EGRZBQ5PLANTED")
	// The Mixer scene's document, with a note added to it.
	doc, err := os.ReadFile(filepath.Join(sampleDir(t), "Mixer.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc = bytes.Replace(doc, []byte("{"), []byte(`{"note":"supplier paid by credit card number 4539 1488 0343 6467",`), 1)
	if _, err := srv.S3(srv.AWSConfig()).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cookiefactory-bucket"), Key: aws.String("Mixer.json"),
		Body: bytes.NewReader(doc)}); err != nil {
		t.Fatal(err)
	}

	progress, r := scanData(t, srv, `{"workspaceId":"cookiefactory"}`)
	if len(progress) == 0 || progress[len(progress)-1].Stage != "objects" {
		t.Fatalf("progress: %v", progress)
	}
	if r.Findings != 3 || r.ByType["EMAIL_ADDRESS"] != 1 || r.ByType["AWS_ACCESS_KEY_ID"] != 1 || r.ByType["CREDIT_CARD_NUMBER"] != 1 {
		t.Fatalf("findings %d by type %v; samples %+v; texts %d objects %d skipped %d", r.Findings, r.ByType, r.Samples, r.Texts, r.Objects, r.Skipped)
	}
	var locs []string
	for _, l := range r.Locations {
		locs = append(locs, l.Location)
	}
	sort.Strings(locs)
	want := []string{
		"entity/" + conveyor + "/CookieLineComponent/AlarmMessage/history",
		"entity/" + straight + "/CookieLineComponent/AlarmMessage/history",
		"s3://cookiefactory-bucket/Mixer.json",
	}
	if strings.Join(locs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("locations:\n%s\nwant:\n%s", strings.Join(locs, "\n"), strings.Join(want, "\n"))
	}
	if r.Texts < 132 || r.Objects != 2 || len(r.Workspaces) != 1 {
		t.Fatalf("scanned %d texts, %d objects, workspaces %v", r.Texts, r.Objects, r.Workspaces)
	}
	raw, _ := json.Marshal(r)
	for _, secret := range []string{"maintenance.lead", "AKIAQ3EGRZBQ5PLANTED", "4539 1488 0343 6467", "4539148803436467"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the report holds %q", secret)
		}
	}
	events := lookupAll(t, srv.CloudTrail(srv.AWSConfig()), cttypes.LookupAttributeKeyEventName, "DataScanCompleted")
	if len(events) != 1 {
		t.Fatalf("%d DataScanCompleted events", len(events))
	}
	if d, _ := events[0]["serviceEventDetails"].(map[string]any); d["findings"] != float64(3) {
		t.Fatalf("the summary event: %v", events[0])
	}
	// Every workspace, and a missing one.
	if _, r := scanData(t, srv, `{}`); r.Findings != 3 || len(r.Workspaces) != 1 {
		t.Fatalf("a scan of every workspace: %+v", r)
	}
	if code := keyCallWith(t, srv, "ScanData", []byte(`{"workspaceId":"nowhere"}`), nil); code != http.StatusNotFound {
		t.Fatalf("a missing workspace: %d", code)
	}
}

// TestScheduledScan: with --scan-interval, scans run on their own and
// each leaves a DataScanCompleted event.
func TestScheduledScan(t *testing.T) {
	srv := twinvaulttest.Start(t, func(c *node.Config) { c.ScanInterval = 50 * time.Millisecond })
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	if _, err := tm.CreateWorkspace(context.Background(), &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("plant"),
		Description: aws.String("ask jane.doe@example.com")}); err != nil {
		t.Fatal(err)
	}
	ct := srv.CloudTrail(srv.AWSConfig())
	for range 200 {
		for _, e := range lookupAll(t, ct, cttypes.LookupAttributeKeyEventName, "DataScanCompleted") {
			if d, _ := e["serviceEventDetails"].(map[string]any); d["findings"] == float64(1) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no scheduled scan found the finding")
}
