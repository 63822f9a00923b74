package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/twinvault/twinvault/node"
)

// keysCmd runs `twinvault keys rotate|status` against a running server.
func keysCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "status") {
		fmt.Fprintf(stderr, "usage: twinvault keys rotate [--wait | --master] [flags] | twinvault keys status [flags]\n")
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := onlineFlags(fs)
	wait := fs.Bool("wait", false, "with rotate: wait until every value is re-sealed and the old keys are retired")
	master := fs.Bool("master", false, "with rotate: re-seal the keyring under a new master key, which replaces the server's key file (keep a copy of the new one)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx := context.Background()
	if sub == "rotate" {
		var out struct {
			Term  uint32 `json:"term"`
			Views int    `json:"views"`
		}
		if *master {
			if err := o.callJSON(ctx, node.KeyService, "TwinVault_20261101.RotateKeys", map[string]bool{"master": true}, &struct{}{}); err != nil {
				fmt.Fprintf(stderr, "twinvault keys rotate --master: %v\n", err)
				return 1
			}
			fmt.Fprintln(stdout, "rotated: the keyring is sealed under a new master key, now in the server's key file; back it up, and let the old one go")
			return 0
		}
		if err := o.callJSON(ctx, node.KeyService, "TwinVault_20261101.RotateKeys", struct{}{}, &out); err != nil {
			fmt.Fprintf(stderr, "twinvault keys rotate: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "rotated: keyring term %d active, a new data key for each of %d views; re-sealing runs in the background\n", out.Term, out.Views)
		if !*wait {
			return 0
		}
	}
	for {
		var st node.KeyStatus
		if err := o.callJSON(ctx, node.KeyService, "TwinVault_20261101.GetKeyStatus", struct{}{}, &st); err != nil {
			fmt.Fprintf(stderr, "twinvault keys %s: %v\n", sub, err)
			return 1
		}
		if sub == "status" || !st.Rewrap.Running && st.Views.Pending == 0 && len(st.Terms) == 1 {
			printKeyStatus(stdout, &st)
			if st.Rewrap.Error != "" {
				return 1
			}
			return 0
		}
		fmt.Fprintf(stdout, "re-sealing: %d of %d views, %d values\n", st.Rewrap.ViewsDone, st.Rewrap.Views, st.Rewrap.Values)
		time.Sleep(500 * time.Millisecond)
	}
}

func printKeyStatus(w io.Writer, st *node.KeyStatus) {
	for _, t := range st.Terms {
		state := "retained"
		if t.Active {
			state = "active"
		}
		fmt.Fprintf(w, "keyring term %d: %s, created %s, sealing %d key records\n", t.Term, state, t.Created.Format(time.RFC3339), t.Records)
	}
	fmt.Fprintf(w, "views: %d, %d with older data keys still in use\n", st.Views.Count, st.Views.Pending)
	if st.Views.SealBudget > 0 {
		fmt.Fprintf(w, "data key use: at most %d seals of the %d after which a data key rotates on its own\n", st.Views.MostSeals, st.Views.SealBudget)
	}
	r := st.Rewrap
	switch {
	case r.Running:
		fmt.Fprintf(w, "re-sealing: running, %d of %d views, %d values\n", r.ViewsDone, r.Views, r.Values)
	case r.Error != "":
		fmt.Fprintf(w, "re-sealing: failed: %s\n", r.Error)
	case !r.Finished.IsZero():
		fmt.Fprintf(w, "re-sealing: done %s, %d values and %d key records re-sealed, %d old keys retired\n", r.Finished.Format(time.RFC3339), r.Values, r.Records, r.Retired)
	}
}
