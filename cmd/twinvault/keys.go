package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twinvault/twinvault/keyring"
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
	master := fs.Bool("master", false, "with rotate: re-seal the keyring under a new master key: a new key file, a new key generated in the PKCS#11 token, or the new key or passphrase given below")
	newKeyFile := fs.String("new-key-file", "", "with rotate --master, for a server whose master key comes from the environment: a 0600 file holding the new key, base64 of 32 bytes (openssl rand -base64 32); or set $TWINVAULT_NEW_MASTER_KEY")
	newPassFile := fs.String("new-passphrase-file", "", "with rotate --master, for a server whose master key comes from a passphrase: a 0600 file holding the new passphrase; or set $TWINVAULT_NEW_PASSPHRASE")
	if code, ok := parseArgs(fs, args[1:]); !ok {
		return code
	}
	ctx := context.Background()
	if sub == "rotate" {
		var out struct {
			Term  uint32 `json:"term"`
			Views int    `json:"views"`
		}
		if *master {
			in, err := newMaster(*newKeyFile, *newPassFile)
			if err != nil {
				fmt.Fprintf(stderr, "twinvault keys rotate --master: %v\n", err)
				return 2
			}
			defer clear(in.NewMasterKey)
			var res struct {
				Source string `json:"source"`
			}
			if err := o.callJSON(ctx, node.KeyService, "TwinVault_20261101.RotateKeys", in, &res); err != nil {
				fmt.Fprintf(stderr, "twinvault keys rotate --master: %v\n", err)
				return 1
			}
			switch res.Source {
			case keyring.SourceEnv:
				fmt.Fprintln(stdout, "rotated: the keyring is sealed under the new master key; put it in the server's environment before its next start, and let the old one go")
			case keyring.SourcePassphrase:
				fmt.Fprintln(stdout, "rotated: the keyring is sealed under the new passphrase, which the server needs from its next start on")
			case node.SourcePKCS11:
				fmt.Fprintln(stdout, "rotated: the keyring is sealed under a new key generated in the PKCS#11 token; the old key is destroyed")
			default:
				fmt.Fprintln(stdout, "rotated: the keyring is sealed under a new master key, now in the server's key file; back it up, and let the old one go")
			}
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

// masterRequest is a RotateKeys request for the master key.
type masterRequest struct {
	Master        bool   `json:"master"`
	NewMasterKey  []byte `json:"newMasterKey,omitempty"`
	NewPassphrase string `json:"newPassphrase,omitempty"`
}

// newMaster reads the new key or passphrase, if any, from its file or
// variable (removed from the process once read).
func newMaster(keyFile, passFile string) (*masterRequest, error) {
	in := &masterRequest{Master: true}
	_, keyEnv := os.LookupEnv("TWINVAULT_NEW_MASTER_KEY")
	_, passEnv := os.LookupEnv("TWINVAULT_NEW_PASSPHRASE")
	wantKey, wantPass := keyFile != "" || keyEnv, passFile != "" || passEnv
	if wantKey && wantPass {
		return nil, errors.New("give a new master key or a new passphrase, not both")
	}
	if wantKey {
		v, err := keyring.ReadSecret(keyFile, "TWINVAULT_NEW_MASTER_KEY", "", "new master key")
		if err != nil {
			return nil, err
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(key) != keyring.MasterKeySize {
			return nil, fmt.Errorf("the new master key must be base64 of %d bytes (openssl rand -base64 32)", keyring.MasterKeySize)
		}
		in.NewMasterKey = key
	}
	if wantPass {
		v, err := keyring.ReadSecret(passFile, "TWINVAULT_NEW_PASSPHRASE", "", "new passphrase")
		if err != nil {
			return nil, err
		}
		if len(v) < keyring.MinPassphrase {
			return nil, fmt.Errorf("the new passphrase is shorter than %d bytes", keyring.MinPassphrase)
		}
		in.NewPassphrase = v
	}
	return in, nil
}
