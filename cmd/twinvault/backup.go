package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/twinvault/twinvault/backup"
	"github.com/twinvault/twinvault/node"
)

// backupCmd fetches a consistent backup from a running server into a file,
// checking it whole before keeping it.
func backupCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := onlineFlags(fs)
	out := fs.String("out", "", "file to write the backup to (created 0600; it holds ciphertext only, useless without the master key)")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "twinvault backup: --out is required")
		return 2
	}
	st, err := fetchBackup(context.Background(), o, *out)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault backup: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup written to %s: %d records, %d objects (%d bytes of object data)\n", *out, st.Pairs, st.Objects, st.Bytes)
	return 0
}

func fetchBackup(ctx context.Context, o *online, out string) (backup.Stats, error) {
	resp, err := o.call(ctx, node.KeyService, "TwinVault_20261101.GetBackup", struct{}{})
	if err != nil {
		return backup.Stats{}, err
	}
	defer resp.Body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), ".backup-")
	if err != nil {
		return backup.Stats{}, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	// Written and verified in one pass: the trailer proves it whole.
	pr, pw := io.Pipe()
	verified := make(chan error, 1)
	var st backup.Stats
	go func() {
		var err error
		st, err = backup.Verify(pr)
		pr.CloseWithError(err)
		verified <- err
	}()
	_, err = io.Copy(io.MultiWriter(tmp, pw), resp.Body)
	pw.CloseWithError(err)
	if verr := <-verified; err == nil {
		err = verr
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, err
	}
	return st, os.Rename(tmp.Name(), out)
}

// restoreCmd brings a backup back into a new data directory, offline.
func restoreCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg node.Config
	from := fs.String("from", "", "the backup file")
	fs.StringVar(&cfg.DataDir, "data-dir", envOr("TWINVAULT_DATA_DIR", node.DefaultDataDir), "a new data directory to restore into (env TWINVAULT_DATA_DIR)")
	keyFlags(fs, &cfg, "the backed-up server's master key")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if *from == "" {
		fmt.Fprintln(stderr, "twinvault restore: --from is required")
		return 2
	}
	f, err := os.Open(*from)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault restore: %v\n", err)
		return 1
	}
	defer f.Close()
	st, err := node.Restore(context.Background(), cfg, f)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault restore: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "restored into %s: %d records, %d objects\n", cfg.DataDir, st.Pairs, st.Objects)
	return 0
}

// migrateCmd runs `twinvault migrate`: a stopped server's embedded store
// copied into PostgreSQL, and checked.
func migrateCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg node.Config
	fs.StringVar(&cfg.DataDir, "data-dir", envOr("TWINVAULT_DATA_DIR", node.DefaultDataDir), "the stopped server's data directory, whose kv store is copied (env TWINVAULT_DATA_DIR)")
	var from, to string
	fs.StringVar(&from, "from", "", "pebble:DIR, the same as --data-dir DIR")
	fs.StringVar(&to, "to", "", "postgres or postgres:SCHEMA, the same as --storage postgres [--postgres-schema SCHEMA]")
	keyFlags(fs, &cfg, "unused: the copy is of ciphertext")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if from != "" {
		dir, ok := strings.CutPrefix(from, "pebble:")
		if !ok || dir == "" {
			fmt.Fprintln(stderr, "twinvault migrate: --from takes pebble:DIR, a stopped server's data directory")
			return 2
		}
		cfg.DataDir = dir
	}
	if to != "" {
		engine, schema, _ := strings.Cut(to, ":")
		if engine != node.StoragePostgres {
			fmt.Fprintln(stderr, "twinvault migrate: --to takes postgres or postgres:SCHEMA (the connection string comes from --postgres-dsn-file or $TWINVAULT_POSTGRES_DSN, never the command line)")
			return 2
		}
		cfg.Storage = engine
		if schema != "" {
			cfg.PostgresSchema = schema
		}
	}
	st, err := node.Migrate(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "migrated %d records (%d bytes) from %s to %s, verified\n", st.Pairs, st.Bytes, cfg.DataDir, cfg.Storage)
	if cfg.Objects == node.ObjectsS3 {
		fmt.Fprintf(stdout, "copied %d object bodies (%d bytes) to the object store, verified\n", st.Objects, st.ObjectBytes)
	}
	fmt.Fprintln(stdout, "start the servers with the same --storage and --objects flags")
	return 0
}
