// Package node assembles a TwinVault server: configuration → master key →
// storage engine → keyring → barrier → services → HTTPS API. It is the only
// package that knows every part.
package node

import (
	"context"
	"crypto/fips140"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/audit"
	"github.com/twinvault/twinvault/auth/sigv4"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/certs"
	"github.com/twinvault/twinvault/connector"
	"github.com/twinvault/twinvault/egress"
	"github.com/twinvault/twinvault/iam"
	"github.com/twinvault/twinvault/iam/iamapi"
	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/objects"
	"github.com/twinvault/twinvault/objstore"
	"github.com/twinvault/twinvault/pebble"
	"github.com/twinvault/twinvault/postgres"
	"github.com/twinvault/twinvault/query"
	"github.com/twinvault/twinvault/s3"
	"github.com/twinvault/twinvault/tsdb"
)

// Config is what `twinvault serve` takes (DESIGN §3).
type Config struct {
	DataDir string
	KeyFile string
	// KeySource is where the master key comes from: keyring.SourceFile
	// (KeyFile; the default), keyring.SourceEnv (KeyEnv) or
	// keyring.SourcePassphrase (PassphraseFile, or KeyEnv when it is "").
	KeySource       string
	KeyEnv          string
	PassphraseFile  string
	CredentialsFile string
	Listen          string
	Region          string
	TLSHostnames    []string
	TLSCert, TLSKey string
	PKCS11          PKCS11        // with KeySource SourcePKCS11
	TLSProfile      certs.Profile // "": certs.Intermediate
	// ClientCAFile, if set, is a PEM bundle of CAs whose client
	// certificates the listener takes: an unsigned TwinMaker request over
	// such a connection acts as the IAM user the certificate's common
	// name names, under that user's policies.
	ClientCAFile string
	// ClientCRLFile, if set, holds the client CAs' revocation lists
	// (PEM or DER), read again when it changes: a revoked certificate
	// fails the handshake.
	ClientCRLFile string
	// ClientCertRequired refuses connections without a client
	// certificate (with ClientCAFile): a device-only listener.
	ClientCertRequired bool
	// RedirectListen, if set, is a plaintext listener that processes no
	// API request: GET and HEAD are redirected to HTTPS, the rest refused.
	RedirectListen string
	// FIPS requires Go's FIPS 140-3 mode (GODEBUG=fips140=on or a FIPS
	// build): Open fails without it.
	FIPS   bool
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
	// AuditRetention is how long exported audit entries are kept; 0 keeps
	// every entry. Events never exported are never removed.
	AuditRetention time.Duration
	// Storage is the kv engine: StoragePebble ("" too), embedded in the
	// data directory, or StoragePostgres, at PostgresDSN in
	// PostgresSchema ("" for "twinvault"). Either sees only ciphertext.
	// PostgresDSNFile holds the connection string when PostgresDSN is
	// empty (0600, outside the data dir; else $TWINVAULT_POSTGRES_DSN),
	// since it may hold a password.
	Storage         string
	PostgresDSN     string
	PostgresDSNFile string
	PostgresSchema  string
	// CacheSize is the embedded store's block cache in bytes (see
	// ParseCacheSize); 0: a quarter of memory (an eighth without cgo),
	// at least 64 MiB.
	CacheSize int64
	// Objects is where object bodies go: ObjectsDir ("" too), the data
	// directory, or ObjectsS3, the bucket S3 describes. Either holds only
	// ciphertext.
	Objects string
	S3      s3.Config
	// Egress is where the server's own outbound calls (data connectors)
	// may go; the zero Policy refuses every special-range address.
	Egress egress.Policy
	// MetricsTokenFile holds the bearer token a Prometheus scrape of GET
	// /metrics presents (0600, outside the data dir; else
	// $TWINVAULT_METRICS_TOKEN). With neither, /metrics is not served.
	MetricsTokenFile string
	// DrainDelay is how long a stopping node keeps serving while it
	// reports itself not ready, before it stops taking connections.
	DrainDelay time.Duration
	// LeaseTTL is how long a node's hold on a piece of background work
	// (re-sealing, the scheduled scan) lasts unrenewed over a shared
	// store; a node that stops loses it after that. 0: 2 minutes.
	LeaseTTL time.Duration
	// ScanInterval, if set, runs a discovery scan of every workspace that
	// often, each recorded in the audit trail.
	ScanInterval time.Duration
	// Timeouts bound slow or idle clients (zero fields: the defaults, see
	// api.Timeouts).
	Timeouts api.Timeouts
	// WithoutAudit leaves the audit stage out of the pipeline. Only the
	// benchmark that measures what the stage costs sets it; serve never
	// does.
	WithoutAudit bool
	// IAMNow is the clock of sessions and one-time codes (nil: time.Now);
	// tests move it to see sessions end.
	IAMNow func() time.Time
}

// Defaults as documented for `twinvault serve`.
const (
	DefaultDataDir         = "./twinvault-data"
	DefaultKeyFile         = "./twinvault-master.key"
	DefaultCredentialsFile = "./twinvault-credentials"
	DefaultListen          = "127.0.0.1:8443"
	DefaultRegion          = "us-east-1"
	CredentialsProfile     = "twinvault"
)

// Node is a running server's parts.
type Node struct {
	cfg      Config
	log      *slog.Logger
	store    kv.Store
	barrier  *barrier.Barrier
	keys     *keys
	master   *masterKey
	scanner  *scanner
	leases   *leases
	metrics  *metrics
	pages    *queryPages // results being paged, over a shared store
	objs     *objects.Service
	draining atomic.Bool  // stopping: not ready for new traffic
	aliveAt  atomic.Int64 // when the liveness lease was last renewed (ns)
	iam      *iam.Store
	audit    *audit.Log
	catalog  *catalog.Service
	ts       *tsdb.DB
	api      *api.Server
	certs    *certs.Manager
	fileCert *certs.FileCertificate
	ln       net.Listener
	http     *http.Server
	redirLn  net.Listener // the plaintext redirect listener, if any
	redir    *http.Server

	// BootstrapKey is set on first start only: the administrator's key,
	// also written to the credentials file.
	BootstrapKey *iam.AccessKey
}

// CAPath is where the generated CA certificate is written.
func (c Config) CAPath() string { return filepath.Join(c.DataDir, "tls", "ca.pem") }

// Storage engines.
const (
	StoragePebble   = "pebble"
	StoragePostgres = "postgres"
)

// embedded reports whether the store is the embedded engine, which one
// process owns.
func (c *Config) embedded() bool { return c.Storage == "" || c.Storage == StoragePebble }

// openStore opens the configured kv engine.
func (c *Config) openStore(ctx context.Context) (kv.Store, error) {
	switch c.Storage {
	case "", StoragePebble:
		size := c.CacheSize
		if size <= 0 {
			size = defaultCacheSize()
		}
		return pebble.Open(filepath.Join(c.DataDir, "kv"), pebble.Options{CacheSize: size})
	case StoragePostgres:
		dsn := c.PostgresDSN
		if dsn == "" {
			var err error
			if dsn, err = keyring.ReadSecret(c.PostgresDSNFile, "TWINVAULT_POSTGRES_DSN", c.DataDir, "PostgreSQL connection string"); err != nil {
				return nil, fmt.Errorf("--storage postgres: %w", err)
			}
		}
		return postgres.Open(ctx, postgres.Config{DSN: dsn, Schema: c.PostgresSchema})
	}
	return nil, fmt.Errorf("unknown storage %q (pebble or postgres)", c.Storage)
}

// Object stores.
const (
	ObjectsDir = "dir"
	ObjectsS3  = "s3"
)

// openObjects opens the configured object store.
func (c *Config) openObjects(ctx context.Context) (objstore.Store, error) {
	switch c.Objects {
	case "", ObjectsDir:
		return objstore.OpenDir(filepath.Join(c.DataDir, "objects"))
	case ObjectsS3:
		if f := c.S3.CredentialsFile; f != "" {
			if err := keyring.CheckSecretFile(f, c.DataDir, "S3 credentials"); err != nil {
				return nil, fmt.Errorf("--objects s3: %w", err)
			}
		}
		return s3.Open(ctx, c.S3)
	}
	return nil, fmt.Errorf("unknown object store %q (dir or s3)", c.Objects)
}

func (c *Config) leaseTTL() time.Duration {
	if c.LeaseTTL <= 0 {
		return 2 * time.Minute
	}
	return c.LeaseTTL
}

// fileSource reports whether the master key is kept in a key file.
func fileSource(kind string) bool { return kind == "" || kind == keyring.SourceFile }

// keySource is where the master key comes from.
func (c *Config) keySource() keyring.Source {
	s := keyring.Source{Kind: c.KeySource, File: c.KeyFile, Env: c.KeyEnv, DataDir: c.DataDir}
	if c.KeySource == keyring.SourcePassphrase {
		s.File = c.PassphraseFile
	}
	return s
}

func (c *Config) setDefaults() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.KeyFile == "" {
		c.KeyFile = DefaultKeyFile
	}
	if c.CredentialsFile == "" {
		c.CredentialsFile = DefaultCredentialsFile
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.TLSProfile == "" {
		c.TLSProfile = certs.Intermediate
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Open prepares every part and binds the listener, without serving yet.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	cfg.setDefaults()
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if _, err := certs.ParseProfile(string(cfg.TLSProfile)); err != nil {
		return nil, err
	}
	if cfg.FIPS && !fips140.Enabled() {
		return nil, errors.New("--fips: Go's FIPS 140-3 mode is not on; start with GODEBUG=fips140=on (or =only), or use a FIPS build (GOFIPS140)")
	}
	n := &Node{cfg: cfg, log: cfg.Logger}
	if err := n.open(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) open(ctx context.Context) error {
	cfg := n.cfg
	if in, err := inside(cfg.CredentialsFile, cfg.DataDir); err != nil || in {
		if err == nil {
			err = fmt.Errorf("the credentials file %s is inside the data directory %s; it holds a secret in plaintext and must be kept outside", cfg.CredentialsFile, cfg.DataDir)
		}
		return err
	}
	master, err := cfg.openMasterKey(true)
	if err != nil {
		return err
	}
	n.master = master // a module stays open: the keyring seals through it
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if n.store, err = cfg.openStore(ctx); err != nil {
		return err
	}
	kr, err := master.open(ctx, &cfg, n.store)
	clear(master.key)
	clear(master.pending)
	if err != nil {
		return err
	}
	n.barrier, err = barrier.New(ctx, n.store, kr)
	if err != nil {
		return err
	}
	bodies, err := cfg.openObjects(ctx)
	if err != nil {
		return err
	}
	objs := objects.New(n.barrier, bodies, cfg.Now)
	n.objs = objs
	n.leases = newLeases(n.barrier, cfg.Now)
	n.keys = startKeys(n.barrier, kr, objs, master, &n.cfg, n.log, n.leases, n.store)
	n.iam = iam.New(n.barrier, cfg.IAMNow)
	// Nodes starting together on an empty shared store race to bootstrap:
	// a node whose key was not the one committed puts its credentials
	// file back as it was.
	oldCreds, oldErr := os.ReadFile(cfg.CredentialsFile)
	delivered := false
	created, err := n.iam.Bootstrap(ctx, func(key *iam.AccessKey) error {
		delivered = true
		n.BootstrapKey = key
		return writeCredentials(cfg.CredentialsFile, key)
	})
	if delivered && err != nil && n.BootstrapKey != nil {
		// A commit whose answer was lost may have stored the key after all.
		if id, gerr := n.iam.BootstrapKeyID(ctx); gerr == nil && id == n.BootstrapKey.ID {
			created, err = true, nil
		}
	}
	if delivered && (err != nil || !created) {
		n.BootstrapKey = nil
		if oldErr == nil {
			if rerr := replaceCredentials(cfg.CredentialsFile, oldCreds); rerr != nil {
				n.log.Error("restore the credentials file", "err", rerr)
			}
		} else {
			os.Remove(cfg.CredentialsFile)
		}
	}
	clear(oldCreds)
	if err != nil {
		return err
	}
	getCert, err := n.openCerts(ctx)
	if err != nil {
		return err
	}
	n.ts = tsdb.Open(n.barrier, cfg.Logger)
	egressPolicy := cfg.Egress
	egressPolicy.HTTPSOnly = true
	conns := connector.New(n.barrier, &egressPolicy, cfg.Region, cfg.Now)
	n.catalog = catalog.New(n.barrier, catalog.Config{Region: cfg.Region, Now: cfg.Now, TS: n.ts, Buckets: buckets{objs}, Connectors: conns})
	verifier := &sigv4.Verifier{
		Region:   cfg.Region,
		Services: []string{"iottwinmaker", "awsiottwinmaker", "iam", "sts", "cloudtrail", "s3", KeyService},
		// IAM is global: clients sign it for us-east-1 wherever they are.
		GlobalRegions: map[string]string{"iam": "us-east-1"},
		Lookup:        n.iam.Lookup,
		Now:           cfg.Now,
	}
	n.audit = audit.Open(n.barrier, cfg.Now)
	n.audit.SetRetention(cfg.AuditRetention)
	if n.barrier.Shared() {
		// Alive before the first reservation names this node.
		if _, err := n.leases.acquire(ctx, livenessPrefix+n.leases.holder, cfg.leaseTTL()); err != nil {
			return fmt.Errorf("liveness lease: %w", err)
		}
		n.aliveAt.Store(cfg.Now().UnixNano())
	}
	if err := n.closeOrphans(ctx, true); err != nil {
		return fmt.Errorf("audit: closing interrupted requests: %w", err)
	}
	_, pipelines := n.store.(kv.Pipeliner)
	var aud api.Auditor = auditor{log: n.audit, region: cfg.Region, now: cfg.Now, node: n.leases.holder,
		deferSyncs: pipelines && !n.barrier.Shared()}
	if cfg.WithoutAudit {
		aud = nil
	}
	n.metrics = newMetrics(n)
	var metricsToken []byte
	if cfg.MetricsTokenFile != "" || os.Getenv("TWINVAULT_METRICS_TOKEN") != "" {
		tok, err := keyring.ReadSecret(cfg.MetricsTokenFile, "TWINVAULT_METRICS_TOKEN", cfg.DataDir, "metrics token")
		if err != nil {
			return err
		}
		if len(tok) < 16 {
			return errors.New("the metrics token is shorter than 16 characters")
		}
		metricsToken = []byte(tok)
	}
	n.api = api.New(api.Config{Verifier: verifier, Authorizer: authorizer{n.iam, n.catalog}, Auditor: aud, Logger: cfg.Logger,
		Observe: n.metrics.observe, Metrics: n.metrics.handler(), MetricsToken: metricsToken,
		Guard: guard{n.catalog}, Ready: n.ready, Hosts: certs.Names(cfg.TLSHostnames...), Timeouts: cfg.Timeouts})
	var pages query.Pages
	if n.barrier.Shared() {
		n.pages = &queryPages{b: n.barrier, cat: n.catalog, now: cfg.Now}
		pages = n.pages
	}
	bindTwinMaker(n.api, n.catalog, pages)
	iamapi.Bind(n.api, n.iam)
	n.api.SetObjects(objs)
	bindCloudTrail(n.api, n.audit)
	bindKeys(n.api, n.keys, n.store, objs)
	bindDataPolicy(n.api, n.catalog, cfg.Region)
	bindUsage(n.api, n.catalog, cfg.Region)
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	n.scanner = &scanner{c: n.catalog, objs: objs, audit: n.audit, now: now, region: cfg.Region}
	bindScan(n.api, n.scanner)
	bindConnectors(n.api, conns, n.catalog, cfg.Region)

	n.ln, err = listen(cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	tlsCfg := certs.ServerConfig(getCert, cfg.TLSProfile)
	if cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(cfg.ClientCAFile)
		if err != nil {
			return fmt.Errorf("client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("client CA: %s holds no PEM certificate", cfg.ClientCAFile)
		}
		tlsCfg.ClientCAs, tlsCfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
		if cfg.ClientCertRequired {
			tlsCfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
		if cfg.ClientCRLFile != "" {
			crls, err := certs.OpenCRLs(cfg.ClientCRLFile, cfg.Now)
			if err != nil {
				return err
			}
			// VerifyConnection, unlike VerifyPeerCertificate, also runs on
			// resumed sessions: a certificate revoked since cannot resume
			// its way back in.
			tlsCfg.VerifyConnection = func(cs tls.ConnectionState) error { return crls.VerifyPeer(nil, cs.VerifiedChains) }
		}
	} else if cfg.ClientCRLFile != "" || cfg.ClientCertRequired {
		return errors.New("--client-crl and --client-auth require go with --client-ca")
	}
	n.http = n.api.HTTPServer(tlsCfg)
	n.http.Handler = n.metrics.count(n.http.Handler)
	if cfg.RedirectListen != "" {
		if n.redirLn, err = net.Listen("tcp", cfg.RedirectListen); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.RedirectListen, err)
		}
		_, port, _ := net.SplitHostPort(n.ln.Addr().String())
		n.redir = &http.Server{Handler: api.Redirect(port), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	}
	n.log.Info("crypto", "fips140", fips140.Enabled(), "enforced", fips140.Enforced(), "module", fips140.Version(), "tlsProfile", string(cfg.TLSProfile))
	return nil
}

func (n *Node) openCerts(ctx context.Context) (func(*tls.ClientHelloInfo) (*tls.Certificate, error), error) {
	if n.cfg.TLSCert != "" {
		fc, err := certs.LoadFiles(n.cfg.TLSCert, n.cfg.TLSKey)
		if err != nil {
			return nil, err
		}
		n.fileCert = fc
		return fc.GetCertificate, nil
	}
	m, err := certs.Open(ctx, certStore{n.barrier}, n.cfg.CAPath(), n.cfg.TLSHostnames, n.cfg.Now)
	if err != nil {
		return nil, err
	}
	n.certs = m
	return m.GetCertificate, nil
}

// Addr is the address the server listens on.
func (n *Node) Addr() net.Addr { return n.ln.Addr() }

// ready is the readiness probe: not while draining, and only when the
// store answers.
func (n *Node) ready(ctx context.Context) error {
	if n.draining.Load() {
		return errors.New("draining")
	}
	if !n.alive() {
		return errors.New("the liveness lease could not be renewed")
	}
	if _, err := n.store.Get(ctx, []byte(keyring.RecordKey)); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// RedirectAddr is the plaintext redirect listener's address, nil if none.
func (n *Node) RedirectAddr() net.Addr {
	if n.redirLn == nil {
		return nil
	}
	return n.redirLn.Addr()
}

// Endpoint is the HTTPS URL clients use.
func (n *Node) Endpoint() string {
	addr := n.ln.Addr().(*net.TCPAddr)
	host := "localhost"
	if !addr.IP.IsLoopback() && !addr.IP.IsUnspecified() {
		host = addr.IP.String()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return fmt.Sprintf("https://%s:%d", host, addr.Port)
}

// Config returns the node's effective configuration.
func (n *Node) Config() Config { return n.cfg }

// Serve answers requests until ctx is done, then stops accepting, finishes
// in-flight requests (up to 30 s) and returns.
func (n *Node) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- n.http.ServeTLS(n.ln, "", "") }()
	if n.redir != nil {
		go n.redir.Serve(n.redirLn)
		defer n.redir.Close()
	}
	if n.barrier.Shared() {
		// Held until the requests in flight have drained, whatever ctx
		// does: survivors would otherwise close their reservations.
		lctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.liveness(lctx)
		}()
		defer func() { stop(); <-done }() // before the store closes
	}
	if n.cfg.ScanInterval > 0 {
		sctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.scanner.scanEvery(sctx, n.cfg.ScanInterval, n.leases, n.log.Info)
		}()
		defer func() { stop(); <-done }() // before the store closes
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Not ready from now on; a load balancer that polls /readyz stops
	// sending requests within the drain delay, and those it sent meanwhile
	// are still served.
	n.draining.Store(true)
	if d := n.cfg.DrainDelay; d > 0 {
		n.log.Info("draining", "delay", d)
		time.Sleep(d)
	}
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.http.Shutdown(shut); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the storage engine. Call it after Serve returns.
func (n *Node) Close() error {
	var errs []error
	if n.ln != nil {
		n.ln.Close()
	}
	if n.redirLn != nil {
		n.redirLn.Close()
	}
	if n.keys != nil {
		n.keys.close()
	}
	if n.ts != nil {
		n.ts.Close()
	}
	if n.audit != nil {
		n.audit.Close()
		if err := n.keepFloor(); err != nil {
			errs = append(errs, fmt.Errorf("audit: keep where reservations may be open: %w", err))
		}
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	if n.master != nil {
		n.master.close()
	}
	return errors.Join(errs...)
}

// certStore keeps TLS private keys in the barrier's system view.
type certStore struct{ b *barrier.Barrier }

func (s certStore) Load(ctx context.Context, name string) ([]byte, error) {
	v, err := s.b.System().Get(ctx, []byte("tls/"+name))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, certs.ErrNotExist
	}
	return v, err
}

func (s certStore) Save(ctx context.Context, name string, data []byte) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		if name == "ca" {
			if _, err := tx.Get(s.b.System(), []byte("tls/ca")); err == nil {
				return certs.ErrExist
			} else if !errors.Is(err, kv.ErrNotFound) {
				return err
			}
		}
		return tx.Set(s.b.System(), []byte("tls/"+name), data)
	})
}

// AuditLog is the node's audit log.
func (n *Node) AuditLog() *audit.Log { return n.audit }

// WALSyncs reports the syncs of the embedded store's write-ahead log since
// the node started: how many, and the time they took in all. ok is false
// over a store without one of its own (PostgreSQL), or once it is closed.
func (n *Node) WALSyncs() (count uint64, took time.Duration, ok bool) {
	st, is := n.store.(walSyncer)
	if !is {
		return 0, 0, false
	}
	count, took, err := st.Syncs()
	return count, took, err == nil
}

// walSyncer is a store with a write-ahead log of its own (pebble.Store).
type walSyncer interface {
	Syncs() (uint64, time.Duration, error)
}
