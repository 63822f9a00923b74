// Command gen writes package model's zz_generated.go from the TwinMaker
// Smithy JSON AST. Run it through go generate in package model.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/twinvault/twinvault/model/internal/smithygen"
)

func main() {
	in := flag.String("in", "", "Smithy JSON AST of the service")
	out := flag.String("out", "zz_generated.go", "Go file to write")
	flag.Parse()
	if *in == "" {
		fmt.Fprintln(os.Stderr, "gen: -in is required")
		os.Exit(2)
	}
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	src, err := smithygen.Generate(data, filepath.Base(in))
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, src) {
		return nil
	}
	return os.WriteFile(out, src, 0o644)
}
