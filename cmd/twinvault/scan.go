package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/twinvault/twinvault/node"
)

// scanCmd runs `twinvault scan`: a discovery scan on a running server,
// with a progress bar on a terminal and the report as text or JSON.
func scanCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := onlineFlags(fs)
	ws := fs.String("workspace", "", "scan one workspace (default: every workspace)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	ctx := context.Background()
	resp, err := o.call(ctx, node.KeyService, "TwinVault_20261101.ScanData", map[string]string{"workspaceId": *ws})
	if err != nil {
		fmt.Fprintf(stderr, "twinvault scan: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	bar := isTerminal(stderr)
	dec := json.NewDecoder(resp.Body)
	for {
		var line struct {
			Progress *node.ScanProgress `json:"progress"`
			Report   *node.ScanReport   `json:"report"`
			Error    string             `json:"error"`
		}
		if err := dec.Decode(&line); err != nil {
			if bar {
				fmt.Fprintln(stderr)
			}
			fmt.Fprintf(stderr, "twinvault scan: the report was cut short: %v\n", err)
			return 1
		}
		switch {
		case line.Progress != nil && bar:
			drawBar(stderr, line.Progress)
		case line.Error != "":
			if bar {
				fmt.Fprintln(stderr)
			}
			fmt.Fprintf(stderr, "twinvault scan: %s\n", line.Error)
			return 1
		case line.Report != nil:
			if bar {
				fmt.Fprint(stderr, "\r\033[K")
			}
			if *asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				enc.Encode(line.Report)
			} else {
				printReport(stdout, line.Report)
			}
			return 0
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func drawBar(w io.Writer, p *node.ScanProgress) {
	const width = 30
	filled := width
	if p.Total > 0 {
		filled = width * p.Done / p.Total
	}
	fmt.Fprintf(w, "\r\033[K%s [%s%s] %s %d/%d", p.Workspace, strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.Stage, p.Done, p.Total)
}

func printReport(w io.Writer, r *node.ScanReport) {
	fmt.Fprintf(w, "scanned %d workspace(s): %d texts, %d objects (%d skipped), %d bytes, in %s\n",
		len(r.Workspaces), r.Texts, r.Objects, r.Skipped, r.Bytes, r.Finished.Sub(r.Started).Round(1e6))
	fmt.Fprintf(w, "findings: %d\n", r.Findings)
	types := make([]string, 0, len(r.ByType))
	for t := range r.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Fprintf(w, "  %-28s %d\n", t, r.ByType[t])
	}
	if len(r.Locations) > 0 {
		fmt.Fprintln(w, "where:")
		for _, l := range r.Locations {
			var parts []string
			for t, n := range l.ByType {
				parts = append(parts, fmt.Sprintf("%s×%d", t, n))
			}
			sort.Strings(parts)
			fmt.Fprintf(w, "  %s  %s\n", l.Location, strings.Join(parts, ", "))
		}
	}
	if len(r.Samples) > 0 {
		fmt.Fprintln(w, "samples (masked):")
		for _, s := range r.Samples {
			fmt.Fprintf(w, "  %s  %s (%s)  %s\n", s.Location, s.Type, s.Confidence, s.Excerpt)
		}
	}
}
