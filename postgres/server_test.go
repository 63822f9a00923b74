package postgres_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testDSN is the database the tests use: TWINVAULT_TEST_POSTGRES, or a
// throwaway server that TestMain starts. When there is neither, noServer
// says why, and every test skips, or fails under CI=true.
var testDSN, noServer string

func TestMain(m *testing.M) {
	testDSN = os.Getenv("TWINVAULT_TEST_POSTGRES")
	stop := func() {}
	if testDSN == "" {
		var err error
		testDSN, stop, err = startServer()
		if err != nil {
			noServer = err.Error()
			testDSN = ""
		}
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// needDB returns the test database's DSN, or skips the test when there is
// none; under CI a missing database fails instead, since CI promises one.
func needDB(t *testing.T) string {
	t.Helper()
	if testDSN == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no PostgreSQL: set TWINVAULT_TEST_POSTGRES or install PostgreSQL (%s)", noServer)
		}
		t.Skipf("no PostgreSQL: set TWINVAULT_TEST_POSTGRES or install PostgreSQL (%s)", noServer)
	}
	return testDSN
}

// pwRole is a role the throwaway server makes authenticate with a SCRAM
// password, so that a test can see what a failed login reports.
const pwRole = "twinvault_pwtest"

// startServer runs a throwaway PostgreSQL cluster in a temporary directory,
// listening on a free loopback port and a socket in that directory, with
// trust authentication for loopback only. As root it runs the server as
// the postgres user, since PostgreSQL refuses to run as root.
func startServer() (dsn string, stop func(), err error) { return startServerWith(nil) }

// serverTLS is a certificate and key (PEM) the server presents, taking
// connections over TLS only.
type serverTLS struct{ cert, key []byte }

func startServerWith(tls *serverTLS) (dsn string, stop func(), err error) {
	bin, err := findBin()
	if err != nil {
		return "", nil, err
	}
	var asUser []string
	dir, err := os.MkdirTemp("", "twinvault-pg-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			cleanup()
			return "", nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %v", err)
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("running as root without runuser: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			cleanup()
			return "", nil, err
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(name string, args ...string) error {
		argv := append(append(asUser[:len(asUser):len(asUser)], filepath.Join(bin, name)), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", name, err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run("initdb", "-D", data, "-U", "postgres", "-E", "UTF8", "--no-locale", "-A", "trust", "--no-sync"); err != nil {
		cleanup()
		return "", nil, err
	}
	// Loopback only. One role must use a password, for the test of what a
	// failed login reports; everyone else is trusted.
	hba := "local all all trust\n" +
		"host all " + pwRole + " 127.0.0.1/32 scram-sha-256\n" +
		"host all all 127.0.0.1/32 trust\n"
	sslOpts := ""
	if tls != nil {
		hba = "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n"
		for name, pem := range map[string][]byte{"server.crt": tls.cert, "server.key": tls.key} {
			f := filepath.Join(data, name)
			if err := os.WriteFile(f, pem, 0o600); err != nil {
				cleanup()
				return "", nil, err
			}
			if len(asUser) > 0 { // the server, not root, must own its key
				u, _ := user.Lookup("postgres")
				uid, _ := strconv.Atoi(u.Uid)
				gid, _ := strconv.Atoi(u.Gid)
				os.Chown(f, uid, gid)
			}
		}
		sslOpts = " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
	}
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o644); err != nil {
		cleanup()
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		cleanup()
		return "", nil, err
	}
	opts := fmt.Sprintf("-c port=%d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c max_connections=200", port, dir) + sslOpts
	if err := run("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		cleanup()
		return "", nil, fmt.Errorf("%v\n%s", err, log)
	}
	stop = func() {
		if err := run("pg_ctl", "stop", "-m", "fast", "-w", "-D", data); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		cleanup()
	}
	dsn = fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", port)
	if tls != nil {
		dsn = fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=require", port)
	}
	if err := waitReady(dsn); err != nil {
		stop()
		return "", nil, err
	}
	return dsn, stop, nil
}

// findBin finds the directory holding initdb and pg_ctl: PATH first, then
// Debian's versioned directories, newest first.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	best, bestV := "", -1
	for _, f := range found {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(f))))
		if err == nil && v > bestV {
			best, bestV = filepath.Dir(f), v
		}
	}
	if best == "" {
		return "", fmt.Errorf("no initdb on PATH or in /usr/lib/postgresql/*/bin")
	}
	return best, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until the server accepts a query; pg_ctl -w already
// waits, so this only covers a slow start.
func waitReady(dsn string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := pgx.Connect(ctx, dsn)
		if err == nil {
			_, err = c.Exec(ctx, "SELECT 1")
			c.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL did not accept connections: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// admin runs sql on the test database outside any store.
func admin(t *testing.T, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, needDB(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", strings.Fields(sql)[0], err)
	}
}
