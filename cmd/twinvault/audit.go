package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/twinvault/twinvault/node"
)

// auditCmd runs the audit log's offline tools.
func auditCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: twinvault audit verify [--data-dir DIR] [--key-file FILE]")
		return 2
	}
	return auditVerify(args[1:], stdout, stderr)
}

// auditVerify checks a stopped server's audit log, in the manner of
// aws cloudtrail validate-logs: every problem on its own line, a summary,
// and exit code 1 when anything is wrong.
func auditVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg node.Config
	fs.StringVar(&cfg.DataDir, "data-dir", envOr("TWINVAULT_DATA_DIR", node.DefaultDataDir), "the stopped server's data directory (env TWINVAULT_DATA_DIR)")
	fs.StringVar(&cfg.KeyFile, "key-file", envOr("TWINVAULT_KEY_FILE", node.DefaultKeyFile), "its master key (env TWINVAULT_KEY_FILE)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	r, err := node.VerifyAudit(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault audit verify: %v\n", err)
		return 2
	}
	sort.SliceStable(r.Problems, func(i, j int) bool { return r.Problems[i].Seq < r.Problems[j].Seq })
	for _, p := range r.Problems {
		fmt.Fprintf(stdout, "Entry %d\tINVALID: %s\n", p.Seq, p.Reason)
	}
	fmt.Fprintf(stdout, "Results: %d entries checked, %d problems\n", r.Entries, len(r.Problems))
	if len(r.Problems) > 0 {
		return 1
	}
	// A checkpoint of the verified log, to keep apart from the server.
	fmt.Fprintf(stdout, "\nCheckpoint (verifier key %s):\n%s", r.PublicKey, r.Checkpoint)
	return 0
}
