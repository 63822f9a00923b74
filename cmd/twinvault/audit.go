package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twinvault/twinvault/audit"
	"github.com/twinvault/twinvault/node"
)

// auditCmd runs the audit log's offline tools.
func auditCmd(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 0 && args[0] == "verify":
		return auditVerify(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "export":
		return auditExport(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "prove":
		return auditProve(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "check-proof":
		return auditCheckProof(args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, "usage: twinvault audit verify|export [--data-dir DIR] [--key-file FILE] ...\n"+
		"       twinvault audit prove --event-id ID [--out FILE] [--endpoint-url URL] [--ca-bundle FILE] [--profile P]\n"+
		"       twinvault audit check-proof --proof FILE --public-key KEY")
	return 2
}

// auditProve asks a running server for the inclusion proof of one event
// (twinvault:GetAuditProof) and writes it as JSON.
func auditProve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit prove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := onlineFlags(fs)
	var id, out string
	fs.StringVar(&id, "event-id", "", "the eventId of the event (as LookupEvents shows it)")
	fs.StringVar(&out, "out", "-", "file to write, or - for standard output")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if id == "" {
		fmt.Fprintln(stderr, "twinvault audit prove: give --event-id")
		return 2
	}
	var proof json.RawMessage
	if err := o.callJSON(context.Background(), node.KeyService, "TwinVault_20261101.GetAuditProof", map[string]string{"eventId": id}, &proof); err != nil {
		fmt.Fprintf(stderr, "twinvault audit prove: %v\n", err)
		return 1
	}
	if out == "-" {
		fmt.Fprintf(stdout, "%s\n", proof)
		return 0
	}
	if err := os.WriteFile(out, append(proof, '\n'), 0o600); err != nil {
		fmt.Fprintf(stderr, "twinvault audit prove: %v\n", err)
		return 1
	}
	return 0
}

// auditCheckProof checks a proof with the checkpoints' public key (which
// `twinvault audit verify` prints; keep it apart from the server), needing
// neither the server nor its store.
func auditCheckProof(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit check-proof", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var file, key string
	fs.StringVar(&file, "proof", "", "the proof, as `twinvault audit prove` wrote it")
	fs.StringVar(&key, "public-key", "", "the checkpoints' verifier key (name+hash+key)")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if file == "" || key == "" {
		fmt.Fprintln(stderr, "twinvault audit check-proof: give --proof and --public-key")
		return 2
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault audit check-proof: %v\n", err)
		return 2
	}
	var p audit.Proof
	if err := json.Unmarshal(raw, &p); err != nil {
		fmt.Fprintf(stderr, "twinvault audit check-proof: %s is not a proof: %v\n", file, err)
		return 2
	}
	if err := audit.VerifyProof(&p, key); err != nil {
		fmt.Fprintf(stdout, "INVALID: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "event %s is entry %d of the log, leaf %d of the %d the checkpoint commits to: valid\n", p.EventID, p.Entry.Seq, p.LeafIndex, p.TreeSize)
	return 0
}

// auditExport writes a stopped server's events, one CloudTrail record per
// line, for a SIEM.
func auditExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg node.Config
	var start, end, out string
	fs.StringVar(&cfg.DataDir, "data-dir", envOr("TWINVAULT_DATA_DIR", node.DefaultDataDir), "the stopped server's data directory (env TWINVAULT_DATA_DIR)")
	keyFlags(fs, &cfg, "its master key")
	fs.StringVar(&start, "start", "", "first event time, RFC 3339 (default: the beginning)")
	fs.StringVar(&end, "end", "", "end of the range, RFC 3339, exclusive (default: now)")
	fs.StringVar(&out, "out", "-", "file to write (created 0600), or - for standard output")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	from, to, err := timeRange(start, end, time.Unix(0, 0), time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "twinvault audit export: %v\n", err)
		return 2
	}
	w := stdout
	if out != "-" {
		f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "twinvault audit export: %v\n", err)
			return 2
		}
		defer f.Close()
		w = f
	}
	n, err := node.ExportAudit(context.Background(), cfg, from, to, w)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault audit export: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "%d events exported\n", n)
	return 0
}

// timeRange parses the RFC 3339 bounds of --start and --end; an empty one
// is its default.
func timeRange(start, end string, from, to time.Time) (time.Time, time.Time, error) {
	for _, b := range []struct {
		s string
		t *time.Time
	}{{start, &from}, {end, &to}} {
		if b.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, b.s)
		if err != nil {
			return from, to, fmt.Errorf("%q is not an RFC 3339 time", b.s)
		}
		*b.t = t
	}
	return from, to, nil
}

// auditVerify checks a stopped server's audit log, in the manner of
// aws cloudtrail validate-logs: every problem on its own line, a summary,
// and exit code 1 when anything is wrong.
func auditVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg node.Config
	fs.StringVar(&cfg.DataDir, "data-dir", envOr("TWINVAULT_DATA_DIR", node.DefaultDataDir), "the stopped server's data directory (env TWINVAULT_DATA_DIR)")
	keyFlags(fs, &cfg, "its master key")
	var start, end string
	fs.StringVar(&start, "start", "", "report only problems of entries and digests from this time on, RFC 3339 (default: the beginning)")
	fs.StringVar(&end, "end", "", "and before this time, RFC 3339 (default: no end)")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	from, to, err := timeRange(start, end, time.Time{}, time.Time{})
	if err != nil {
		fmt.Fprintf(stderr, "twinvault audit verify: %v\n", err)
		return 2
	}
	r, err := node.VerifyAuditRange(context.Background(), cfg, from, to)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault audit verify: %v\n", err)
		return 2
	}
	for _, p := range r.Problems {
		if strings.HasPrefix(p.Reason, "digest ") {
			fmt.Fprintf(stdout, "Digest file\tINVALID: %s\n", strings.TrimPrefix(p.Reason, "digest "))
		} else {
			fmt.Fprintf(stdout, "Entry %d\tINVALID: %s\n", p.Seq, p.Reason)
		}
	}
	fmt.Fprintf(stdout, "Results: %d entries and %d digest files checked, %d problems\n", r.Entries, r.Digests, len(r.Problems))
	if r.Outside > 0 {
		fmt.Fprintf(stdout, "(%d more problems lie outside the range asked for)\n", r.Outside)
	}
	if len(r.Problems) > 0 {
		return 1
	}
	if r.Outside > 0 {
		return 0 // the range is sound; no checkpoint of a log that is not
	}
	// What to keep apart from the server: a checkpoint of the verified log
	// and the public keys that check checkpoints and digests.
	fmt.Fprintf(stdout, "\nDigest public key (fingerprint %s):\n%s\n", r.DigestKeyFingerprint, r.DigestKey)
	fmt.Fprintf(stdout, "\nCheckpoint (verifier key %s):\n%s", r.PublicKey, r.Checkpoint)
	return 0
}
