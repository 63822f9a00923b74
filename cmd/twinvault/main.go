// Command twinvault is the TwinVault server and its tools.
//
//	twinvault serve [flags]   start the server on the embedded store
//	twinvault load [flags]    measure a running server's ingest and history reads
//	twinvault version         print the version
package main

import (
	"context"
	"crypto/fips140"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/twinvault/twinvault/certs"
	"github.com/twinvault/twinvault/egress"
	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/node"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		reexecHugeTLB()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `TwinVault: a self-hosted, AWS IoT TwinMaker-compatible digital-twin server.

Usage:
  twinvault serve [flags]   start the server (run "twinvault serve --help" for its flags)
  twinvault load [flags]    measure a running server: ingest and history reads against a baseline
  twinvault security-check [flags]
                            report, CIS-style, administrators and users without MFA, stale access keys
                            and policies that allow everything
  twinvault audit verify [--data-dir DIR] [--key-file FILE] [--start T] [--end T]
                            check a stopped server's audit log for changed, missing or moved records
  twinvault audit export [--start T] [--end T] [--out FILE]
                            write a stopped server's audit events as JSON lines, for a SIEM
  twinvault audit prove --event-id ID [--out FILE] [flags]
                            get from a running server the inclusion proof of one event under a checkpoint
  twinvault audit check-proof --proof FILE --public-key KEY
                            check such a proof with the checkpoints' public key alone
  twinvault keys rotate [--wait] [flags]
                            rotate a running server's keys: a new keyring term and data keys,
                            older data re-sealed in the background, old keys retired after
  twinvault keys status [flags]
                            show keyring terms, data keys still in use and re-sealing progress
  twinvault backup --out FILE [flags]
                            write a consistent backup of a running server (ciphertext only)
  twinvault restore --from FILE [--data-dir DIR] [--key-file FILE]
                            restore a backup into a new data directory; needs the server's master key
  twinvault scan [--workspace ID] [--json] [flags]
                            find personal data and credentials in what workspaces hold (values,
                            histories, names, scene documents and objects); masked excerpts only
  twinvault usage --workspace ID [--json] [flags]
                            show what a workspace's time series take in a running server's store
  twinvault migrate --from pebble:DIR --to postgres[:SCHEMA] [--postgres-dsn-file F] [--objects s3 --s3-…]
                            copy a stopped server's embedded store into PostgreSQL, and verify it
  twinvault version         print the version
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "load":
		// The tool shares the machine with the server it measures, and the
		// SDK allocates for every call: the server's collector setting keeps
		// the tool's own collections from taking the server's share.
		node.TuneGC(0)
		return load(args[1:], stdout, stderr)
	case "security-check":
		return securityCheck(args[1:], stdout, stderr)
	case "keys":
		return keysCmd(args[1:], stdout, stderr)
	case "backup":
		return backupCmd(args[1:], stdout, stderr)
	case "restore":
		return restoreCmd(args[1:], stdout, stderr)
	case "audit":
		return auditCmd(args[1:], stdout, stderr)
	case "scan":
		return scanCmd(args[1:], stdout, stderr)
	case "usage":
		return storageUsageCmd(args[1:], stdout, stderr)
	case "migrate":
		return migrateCmd(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "twinvault", version)
		fmt.Fprintln(stdout, "go:", runtime.Version())
		fmt.Fprintf(stdout, "FIPS 140-3: module %s, mode %s\n", fips140.Version(), fipsMode())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "twinvault: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envDurationOr is the duration in the environment variable, or def when
// it is unset or malformed.
func envDurationOr(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg node.Config
	var hosts stringList
	var logLevel string
	fs.StringVar(&cfg.DataDir, "data-dir", envOr("TWINVAULT_DATA_DIR", node.DefaultDataDir), "encrypted store and the public TLS CA certificate (env TWINVAULT_DATA_DIR)")
	keyFlags(fs, &cfg, "master key, created 0600 on first start; must lie outside the data dir")
	fs.StringVar(&cfg.CredentialsFile, "credentials-file", envOr("TWINVAULT_CREDENTIALS_FILE", node.DefaultCredentialsFile), "where the administrator's access key is written on first start, profile [twinvault] (env TWINVAULT_CREDENTIALS_FILE)")
	fs.StringVar(&cfg.Listen, "listen", envOr("TWINVAULT_LISTEN", node.DefaultListen), "HTTPS listen address; there is no plaintext listener (env TWINVAULT_LISTEN)")
	fs.StringVar(&cfg.Region, "region", envOr("TWINVAULT_REGION", node.DefaultRegion), "region in ARNs and in the SigV4 scope (env TWINVAULT_REGION)")
	fs.Var(&hosts, "tls-hostname", "extra certificate name, with api. and data. variants (repeatable)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "operator-provided certificate chain (PEM) instead of the generated one")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "private key (PEM) for --tls-cert")
	var profile string
	fs.StringVar(&profile, "tls-profile", envOr("TWINVAULT_TLS_PROFILE", string(certs.Intermediate)), "intermediate (TLS 1.2 with ECDHE AEAD suites, and 1.3) or modern (TLS 1.3 only) (env TWINVAULT_TLS_PROFILE)")
	fs.StringVar(&cfg.ClientCAFile, "client-ca", os.Getenv("TWINVAULT_CLIENT_CA"), "PEM CA bundle for device client certificates: an unsigned TwinMaker request with a certificate it verifies acts as the IAM user named by the certificate's common name (env TWINVAULT_CLIENT_CA)")
	fs.StringVar(&cfg.RedirectListen, "redirect-listen", os.Getenv("TWINVAULT_REDIRECT_LISTEN"), "an optional plaintext address that serves nothing: GET and HEAD are redirected (308) to the HTTPS endpoint, other requests and any carrying credentials refused (400) (env TWINVAULT_REDIRECT_LISTEN)")
	var egressAllow, egressCA string
	fs.StringVar(&egressAllow, "egress-allow", os.Getenv("TWINVAULT_EGRESS_ALLOW"), "special-range prefixes data connectors may reach, comma-separated (e.g. 10.1.2.0/24 for an on-premises gateway); loopback, link-local, metadata and private addresses are refused otherwise (env TWINVAULT_EGRESS_ALLOW)")
	fs.StringVar(&egressCA, "egress-ca", os.Getenv("TWINVAULT_EGRESS_CA"), "PEM CA bundle to trust, besides the system's, for data connectors' certificates (env TWINVAULT_EGRESS_CA)")
	fs.StringVar(&cfg.ClientCRLFile, "client-crl", os.Getenv("TWINVAULT_CLIENT_CRL"), "revocation lists (PEM or DER) of the client CAs, read again when the file changes: a revoked device certificate fails the handshake (env TWINVAULT_CLIENT_CRL)")
	var clientAuth string
	fs.StringVar(&clientAuth, "client-auth", envOr("TWINVAULT_CLIENT_AUTH", "optional"), "with --client-ca: optional (SigV4 clients need no certificate) or require (every connection must present one the CA verifies) (env TWINVAULT_CLIENT_AUTH)")
	fs.BoolVar(&cfg.FIPS, "fips", os.Getenv("TWINVAULT_FIPS") == "true", "refuse to start unless Go's FIPS 140-3 mode is on (GODEBUG=fips140=on); fips. host names are served only then (env TWINVAULT_FIPS=true)")
	fs.StringVar(&cfg.MetricsTokenFile, "metrics-token-file", os.Getenv("TWINVAULT_METRICS_TOKEN_FILE"), "serve Prometheus metrics at GET /metrics (HTTPS) to scrapes bearing this token: a 0600 file outside the data dir; else $TWINVAULT_METRICS_TOKEN; neither: no metrics (env TWINVAULT_METRICS_TOKEN_FILE)")
	fs.DurationVar(&cfg.DrainDelay, "drain-delay", envDurationOr("TWINVAULT_DRAIN_DELAY", 0), "on SIGTERM, report not ready (GET /readyz) and keep serving this long before closing, so a load balancer moves traffic away first (env TWINVAULT_DRAIN_DELAY)")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", envDurationOr("TWINVAULT_LEASE_TTL", 2*time.Minute), "with several nodes over one store: how long a node's hold on background work (re-sealing, scheduled scans) lasts unrenewed; a stopped node's work passes to another after this (env TWINVAULT_LEASE_TTL)")
	fs.DurationVar(&cfg.ScanInterval, "scan-interval", envDurationOr("TWINVAULT_SCAN_INTERVAL", 0), "run a discovery scan of every workspace this often (e.g. 24h), each recorded in the audit trail; 0 for none (env TWINVAULT_SCAN_INTERVAL)")
	fs.DurationVar(&cfg.AuditRetention, "audit-retention", 0, "keep exported audit entries this long, e.g. 2160h; 0 keeps all (never-exported events always stay)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	var cacheSize string
	fs.StringVar(&cacheSize, "cache-size", os.Getenv("TWINVAULT_CACHE_SIZE"), "with --storage pebble: the embedded store's block cache (of ciphertext, as on disk), as a share of memory (25%) or a size (2GiB); it fills only as blocks are read; default a quarter of memory (the control group's limit if lower; an eighth in a build without cgo, where it shares the Go heap), at least 64MiB (env TWINVAULT_CACHE_SIZE)")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twinvault serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if cacheSize != "" {
		n, err := node.ParseCacheSize(cacheSize)
		if err != nil {
			fmt.Fprintf(stderr, "twinvault serve: --cache-size: %v\n", err)
			return 2
		}
		cfg.CacheSize = n
	}
	cfg.TLSHostnames = hosts
	p, err := certs.ParseProfile(profile)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault serve: %v\n", err)
		return 2
	}
	cfg.TLSProfile = p
	if egressAllow != "" {
		if cfg.Egress.Allow, err = egress.ParseAllow(egressAllow); err != nil {
			fmt.Fprintf(stderr, "twinvault serve: --egress-allow: %v\n", err)
			return 2
		}
	}
	if egressCA != "" {
		pem, err := os.ReadFile(egressCA)
		if err != nil {
			fmt.Fprintf(stderr, "twinvault serve: --egress-ca: %v\n", err)
			return 2
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			fmt.Fprintf(stderr, "twinvault serve: --egress-ca: %s holds no PEM certificate\n", egressCA)
			return 2
		}
		cfg.Egress.RootCAs = pool
	}
	switch clientAuth {
	case "optional":
	case "require":
		cfg.ClientCertRequired = true
	default:
		fmt.Fprintf(stderr, "twinvault serve: --client-auth is optional or require, not %q\n", clientAuth)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		fmt.Fprintf(stderr, "twinvault serve: bad --log-level %q\n", logLevel)
		return 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	gogc, memLimit := node.TuneGC(cfg.CacheSize)
	cfg.Logger.Debug("garbage collector", "gogc", gogc, "memlimit", memLimit)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.Open(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault serve: %v\n", err)
		return 1
	}
	defer n.Close()
	c := n.Config()
	fmt.Fprintf(stdout, "TwinVault is serving the AWS IoT TwinMaker API\n")
	fmt.Fprintf(stdout, "  endpoint:    %s\n", n.Endpoint())
	if c.TLSCert == "" {
		fmt.Fprintf(stdout, "  CA bundle:   %s\n", c.CAPath())
	}
	fmt.Fprintf(stdout, "  credentials: %s (profile %s)\n", c.CredentialsFile, node.CredentialsProfile)
	fmt.Fprintf(stdout, "  region:      %s\n", c.Region)
	fmt.Fprintf(stdout, "  TLS profile: %s\n", c.TLSProfile)
	if a := n.RedirectAddr(); a != nil {
		fmt.Fprintf(stdout, "  redirect:    http://%s (GET and HEAD to HTTPS; nothing served)\n", a)
	}
	fmt.Fprintf(stdout, "  FIPS 140-3:  %s (module %s)\n", fipsMode(), fips140.Version())
	if err := n.Serve(ctx); err != nil {
		fmt.Fprintf(stderr, "twinvault serve: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "TwinVault stopped")
	return 0
}

// fipsMode says whether Go's FIPS 140-3 mode is on and enforced.
func fipsMode() string {
	switch {
	case fips140.Enforced():
		return "on, enforced (fips140=only)"
	case fips140.Enabled():
		return "on"
	}
	return "off"
}

// objectFlags are the flags that say where object bodies are kept.
func objectFlags(fs *flag.FlagSet, cfg *node.Config) {
	fs.StringVar(&cfg.Objects, "objects", envOr("TWINVAULT_OBJECTS", node.ObjectsDir), "the object store of scene and S3 object bodies: dir (DATA/objects) or s3 (an S3-compatible bucket, --s3-*); either holds only ciphertext (env TWINVAULT_OBJECTS)")
	fs.StringVar(&cfg.S3.Endpoint, "s3-endpoint", os.Getenv("TWINVAULT_S3_ENDPOINT"), "with --objects s3: the store's https URL; empty for AWS S3 (env TWINVAULT_S3_ENDPOINT)")
	fs.StringVar(&cfg.S3.Bucket, "s3-bucket", os.Getenv("TWINVAULT_S3_BUCKET"), "with --objects s3: the bucket, which must exist (env TWINVAULT_S3_BUCKET)")
	fs.StringVar(&cfg.S3.Prefix, "s3-prefix", envOr("TWINVAULT_S3_PREFIX", "twinvault/"), "with --objects s3: the start of every key this deployment writes (env TWINVAULT_S3_PREFIX)")
	fs.StringVar(&cfg.S3.Region, "s3-region", envOr("TWINVAULT_S3_REGION", "us-east-1"), "with --objects s3: the bucket's region (env TWINVAULT_S3_REGION)")
	fs.BoolVar(&cfg.S3.PathStyle, "s3-path-style", envOr("TWINVAULT_S3_PATH_STYLE", "true") == "true", "with --objects s3: name the bucket in the path, not the host, as most self-hosted stores want (env TWINVAULT_S3_PATH_STYLE)")
	fs.StringVar(&cfg.S3.CABundle, "s3-ca-bundle", os.Getenv("TWINVAULT_S3_CA_BUNDLE"), "with --objects s3: a PEM file of CAs to trust for the store, besides the system's (env TWINVAULT_S3_CA_BUNDLE)")
	fs.StringVar(&cfg.S3.CredentialsFile, "s3-credentials-file", os.Getenv("TWINVAULT_S3_CREDENTIALS_FILE"), "with --objects s3: a 0600 AWS shared-credentials file outside the data dir; else the standard AWS chain (AWS_ACCESS_KEY_ID…, a role) (env TWINVAULT_S3_CREDENTIALS_FILE)")
	fs.StringVar(&cfg.S3.Profile, "s3-profile", os.Getenv("TWINVAULT_S3_PROFILE"), "with --objects s3: the profile in the credentials file (env TWINVAULT_S3_PROFILE)")
	fs.StringVar(&cfg.S3.SSE, "s3-sse", envOr("TWINVAULT_S3_SSE", "AES256"), "with --objects s3: the server-side encryption asked of the store as well: AES256, aws:kms or none (env TWINVAULT_S3_SSE)")
	fs.StringVar(&cfg.S3.KMSKeyID, "s3-sse-kms-key-id", os.Getenv("TWINVAULT_S3_SSE_KMS_KEY_ID"), "with --s3-sse aws:kms: the store's KMS key; empty for its default (env TWINVAULT_S3_SSE_KMS_KEY_ID)")
}

// keyFlags are the flags that say where the master key comes from.
func keyFlags(fs *flag.FlagSet, cfg *node.Config, keyFile string) {
	fs.StringVar(&cfg.KeySource, "key-source", envOr("TWINVAULT_KEY_SOURCE", keyring.SourceFile), "where the master key comes from: file (--key-file), env (base64 in $TWINVAULT_MASTER_KEY), passphrase (--passphrase-file or $TWINVAULT_PASSPHRASE, stretched with PBKDF2) or pkcs11 (a key inside a PKCS#11 token, --pkcs11-*) (env TWINVAULT_KEY_SOURCE)")
	fs.StringVar(&cfg.PKCS11.Module, "pkcs11-module", os.Getenv("TWINVAULT_PKCS11_MODULE"), "with --key-source pkcs11: the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so (env TWINVAULT_PKCS11_MODULE)")
	fs.StringVar(&cfg.PKCS11.Token, "pkcs11-token", os.Getenv("TWINVAULT_PKCS11_TOKEN"), "with --key-source pkcs11: the token's label (env TWINVAULT_PKCS11_TOKEN)")
	fs.StringVar(&cfg.PKCS11.KeyLabel, "pkcs11-key-label", envOr("TWINVAULT_PKCS11_KEY_LABEL", "twinvault-master"), "with --key-source pkcs11: the label of the AES key in the token, generated there on first start (env TWINVAULT_PKCS11_KEY_LABEL)")
	fs.StringVar(&cfg.PKCS11.PINFile, "pkcs11-pin-file", os.Getenv("TWINVAULT_PKCS11_PIN_FILE"), "with --key-source pkcs11: a 0600 file holding the user PIN, outside the data dir; else $TWINVAULT_PKCS11_PIN (env TWINVAULT_PKCS11_PIN_FILE)")
	fs.StringVar(&cfg.KeyFile, "key-file", envOr("TWINVAULT_KEY_FILE", node.DefaultKeyFile), keyFile+" (env TWINVAULT_KEY_FILE)")
	fs.StringVar(&cfg.Storage, "storage", envOr("TWINVAULT_STORAGE", node.StoragePebble), "the kv engine: pebble (embedded in the data dir) or postgres (--postgres-dsn-file); either holds only ciphertext (env TWINVAULT_STORAGE)")
	fs.StringVar(&cfg.PostgresDSNFile, "postgres-dsn-file", os.Getenv("TWINVAULT_POSTGRES_DSN_FILE"), "with --storage postgres: a 0600 file holding the connection string (e.g. host=db user=twinvault dbname=twinvault sslmode=verify-full password=…), outside the data dir; else $TWINVAULT_POSTGRES_DSN (env TWINVAULT_POSTGRES_DSN_FILE)")
	fs.StringVar(&cfg.PostgresSchema, "postgres-schema", envOr("TWINVAULT_POSTGRES_SCHEMA", "twinvault"), "with --storage postgres: the schema of the store's tables (env TWINVAULT_POSTGRES_SCHEMA)")
	objectFlags(fs, cfg)
	fs.StringVar(&cfg.PassphraseFile, "passphrase-file", os.Getenv("TWINVAULT_PASSPHRASE_FILE"), "with --key-source passphrase: a 0600 file holding the passphrase, outside the data dir (env TWINVAULT_PASSPHRASE_FILE)")
}

// parseArgs parses args with fs; ok is false when the command should end
// at once with code: 0 after --help, 2 after a flag error (which fs has
// printed).
func parseArgs(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	}
	return 2, false
}
