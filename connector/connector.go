// Package connector keeps external data connectors and the secrets they
// authenticate with, and calls them.
//
// TwinMaker reads the history of a component's properties through the
// Lambda function its component type names as dataReader. Here an
// administrator registers, under that function's name, an HTTPS endpoint
// that answers TwinMaker's data connector request with its response (the
// GetPropertyValueHistory shapes); properties whose reader names no
// registered connector live in the built-in store.
//
// Credentials never travel in a URL: an endpoint with user information or
// credential-like query parameters is refused, and a connector names a
// secret (secret://name, or its Secrets Manager-style ARN) whose value is
// sent as a bearer token. Secrets are sealed by the barrier like all data
// and no operation returns their values. Every call goes through egress, so
// a connector cannot reach loopback, link-local, metadata or private
// addresses unless an administrator allow-lists them.
package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/detect"
	"github.com/twinvault/twinvault/egress"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/model"
)

// Service keeps connectors and secrets in the barrier's system view.
type Service struct {
	b      *barrier.Barrier
	client *http.Client
	region string
	now    func() time.Time
	mu     sync.Mutex   // orders changes with the count
	count  atomic.Int64 // connectors registered, so reads skip the lookup when there are none
}

// New returns a Service whose calls follow policy.
func New(b *barrier.Barrier, policy *egress.Policy, region string, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{b: b, client: policy.Client(), region: region, now: now}
	s.count.Store(1) // until counted: look connectors up
	s.recount(context.Background())
	return s
}

// Registered reports whether any connector may be registered. Over a
// shared store another node may have registered one this node has not
// counted, so the answer is always yes there.
func (s *Service) Registered() bool { return s.b.Shared() || s.count.Load() > 0 }

func (s *Service) recount(ctx context.Context) {
	n := 0
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		return tx.Scan(s.b.System(), kv.Prefix([]byte("connector/conn/")), func(_, _ []byte) error {
			n++
			return nil
		})
	})
	if err == nil {
		s.count.Store(int64(n))
	}
}

// Secret is a stored secret's description; its value is never returned.
type Secret struct {
	Name    string    `json:"name"`
	ARN     string    `json:"arn"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

type secretRecord struct {
	Secret
	Value string `json:"value"`
}

// Connector is a registered data connector of one workspace: only that
// workspace's component types reach it.
type Connector struct {
	WorkspaceID string    `json:"workspaceId"`
	Name        string    `json:"name"`     // the dataReader Lambda function name it stands for
	Endpoint    string    `json:"endpoint"` // https URL
	Secret      string    `json:"secret,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

var (
	secretName    = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
	connectorName = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,140}$`)
)

func invalid(format string, args ...any) error {
	return twinvault.Errorf(twinvault.ValidationException, format, args...)
}

func (s *Service) secretKey(name string) []byte {
	return append([]byte("connector/secret/"), s.b.System().Index(name)...)
}

func (s *Service) connectorKey(ws, name string) []byte {
	return append([]byte("connector/conn/"), s.b.System().Index(ws+"\x00"+name)...)
}

func (s *Service) secretARN(name string) string {
	return twinvault.ARN{Partition: "aws", Service: "secretsmanager", Region: s.region, Account: twinvault.Account, Resource: "secret:" + name}.String()
}

// SecretName reads the name of a secret from a reference to it:
// secret://name or the secret's ARN.
func SecretName(ref string) (string, bool) {
	if name, ok := strings.CutPrefix(ref, "secret://"); ok && secretName.MatchString(name) {
		return name, true
	}
	if a, err := twinvault.ParseARN(ref); err == nil && a.Service == "secretsmanager" {
		if name, ok := strings.CutPrefix(a.Resource, "secret:"); ok && secretName.MatchString(name) {
			return name, true
		}
	}
	return "", false
}

// secretRef is SecretName, with the error a request gets.
func (s *Service) secretRef(ref string) (string, error) {
	if name, ok := SecretName(ref); ok {
		return name, nil
	}
	return "", invalid("a secret is named secret://<name> or by its ARN (arn:aws:secretsmanager:%s:%s:secret:<name>)", s.region, twinvault.Account)
}

// PutSecret stores value under name, replacing the value there.
func (s *Service) PutSecret(ctx context.Context, name, value string) (*Secret, error) {
	if !secretName.MatchString(name) {
		return nil, invalid("a secret's name has 1 to 512 of A-Z a-z 0-9 / _ + = . @ -")
	}
	if value == "" || len(value) > 64<<10 {
		return nil, invalid("a secret's value has 1 byte to 64 KiB")
	}
	now := s.now().UTC()
	rec := secretRecord{Secret: Secret{Name: name, ARN: s.secretARN(name), Created: now, Updated: now}, Value: value}
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		rec.Created = now // the transaction may run again
		if raw, err := tx.Get(s.b.System(), s.secretKey(name)); err == nil {
			var old secretRecord
			if json.Unmarshal(raw, &old) == nil {
				rec.Created = old.Created
			}
		}
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return tx.Set(s.b.System(), s.secretKey(name), data)
	})
	if err != nil {
		return nil, err
	}
	return &rec.Secret, nil
}

// Secrets lists the secrets by name, without their values.
func (s *Service) Secrets(ctx context.Context) ([]Secret, error) {
	var out []Secret
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		return tx.Scan(s.b.System(), kv.Prefix([]byte("connector/secret/")), func(_, raw []byte) error {
			var rec secretRecord
			if err := json.Unmarshal(raw, &rec); err != nil {
				return err
			}
			out = append(out, rec.Secret)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// DeleteSecret removes a secret no connector names.
func (s *Service) DeleteSecret(ctx context.Context, name string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, err := tx.Get(s.b.System(), s.secretKey(name)); errors.Is(err, kv.ErrNotFound) {
			return twinvault.Errorf(twinvault.ResourceNotFoundException, "no secret of that name")
		} else if err != nil {
			return err
		}
		var user string
		err := tx.Scan(s.b.System(), kv.Prefix([]byte("connector/conn/")), func(_, raw []byte) error {
			var c Connector
			if json.Unmarshal(raw, &c) == nil && c.Secret != "" {
				if n, err := s.secretRef(c.Secret); err == nil && n == name {
					user = c.Name
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if user != "" {
			return twinvault.Errorf(twinvault.ConflictException, "connector %s uses the secret; delete or change it first", user)
		}
		return tx.Delete(s.b.System(), s.secretKey(name))
	})
}

// PutConnector registers or replaces a connector.
func (s *Service) PutConnector(ctx context.Context, c Connector) (*Connector, error) {
	if !connectorName.MatchString(c.Name) {
		return nil, invalid("a connector is named like the Lambda function it stands for: 1 to 140 of A-Z a-z 0-9 _ . : -")
	}
	if err := detect.CheckURL(c.Endpoint, "https"); err != nil {
		return nil, invalid("endpoint: %s", strings.TrimPrefix(err.Error(), "detect: "))
	}
	now := s.now().UTC()
	c.Created, c.Updated = now, now
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		if c.Secret != "" {
			name, err := s.secretRef(c.Secret)
			if err != nil {
				return err
			}
			if _, err := tx.Get(s.b.System(), s.secretKey(name)); errors.Is(err, kv.ErrNotFound) {
				return invalid("secret: no secret of that name")
			} else if err != nil {
				return err
			}
		}
		c.Created = now // the transaction may run again
		if raw, err := tx.Get(s.b.System(), s.connectorKey(c.WorkspaceID, c.Name)); err == nil {
			var old Connector
			if json.Unmarshal(raw, &old) == nil {
				c.Created = old.Created
			}
		}
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return tx.Set(s.b.System(), s.connectorKey(c.WorkspaceID, c.Name), data)
	})
	if err != nil {
		return nil, err
	}
	s.recount(ctx)
	return &c, nil
}

// Connectors lists the connectors of workspace ws by name.
func (s *Service) Connectors(ctx context.Context, ws string) ([]Connector, error) {
	var out []Connector
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		return tx.Scan(s.b.System(), kv.Prefix([]byte("connector/conn/")), func(_, raw []byte) error {
			var c Connector
			if err := json.Unmarshal(raw, &c); err != nil {
				return err
			}
			if c.WorkspaceID == ws {
				out = append(out, c)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// DeleteConnector removes a connector; its properties read from the
// built-in store again.
func (s *Service) DeleteConnector(ctx context.Context, ws, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, err := tx.Get(s.b.System(), s.connectorKey(ws, name)); errors.Is(err, kv.ErrNotFound) {
			return twinvault.Errorf(twinvault.ResourceNotFoundException, "no connector of that name in the workspace")
		} else if err != nil {
			return err
		}
		return tx.Delete(s.b.System(), s.connectorKey(ws, name))
	})
	s.recount(ctx)
	return err
}

// lookup returns the connector registered under name and its secret's
// value, ok false if there is none.
func (s *Service) lookup(ctx context.Context, ws, name string) (c Connector, secret string, ok bool, err error) {
	err = s.b.Read(ctx, func(tx *barrier.Tx) error {
		raw, err := tx.Get(s.b.System(), s.connectorKey(ws, name))
		if errors.Is(err, kv.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		ok = true
		if c.Secret == "" {
			return nil
		}
		sname, err := s.secretRef(c.Secret)
		if err != nil {
			return err
		}
		raw, err = tx.Get(s.b.System(), s.secretKey(sname))
		if err != nil {
			return fmt.Errorf("connector %s: its secret: %w", name, err)
		}
		var rec secretRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		secret = rec.Value
		return nil
	})
	return c, secret, ok, err
}

// History asks the connector of workspace ws registered under name for a
// page of history;
// ok is false when no connector has that name. Failures are TwinMaker's
// ConnectorFailureException and ConnectorTimeoutException, naming the
// connector but never its endpoint's query or the secret.
func (s *Service) History(ctx context.Context, ws, name string, in *model.GetPropertyValueHistoryInput) (*model.GetPropertyValueHistoryOutput, bool, error) {
	c, secret, ok, err := s.lookup(ctx, ws, name)
	if err != nil || !ok {
		return nil, ok, err
	}
	// The request's members, as TwinMaker hands them to a connector; the
	// workspace travels in the path of the API call, so it is added.
	var req0 map[string]any
	raw0, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(raw0, &req0)
	}
	if err != nil {
		return nil, true, err
	}
	req0["workspaceId"] = in.WorkspaceId
	body, err := json.Marshal(req0)
	if err != nil {
		return nil, true, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, true, twinvault.Errorf(twinvault.ConnectorFailureException, "connector %s: its endpoint is not a URL", name)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the URL
		}
		switch {
		case errors.Is(err, egress.ErrRefused):
			return nil, true, twinvault.Errorf(twinvault.ConnectorFailureException, "connector %s: %v", name, err)
		case errors.Is(err, context.DeadlineExceeded) || (ue != nil && ue.Timeout()):
			return nil, true, twinvault.Errorf(twinvault.ConnectorTimeoutException, "connector %s did not answer in time", name)
		}
		return nil, true, twinvault.Errorf(twinvault.ConnectorFailureException, "connector %s could not be reached", name)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, true, twinvault.Errorf(twinvault.ConnectorFailureException, "connector %s: its answer could not be read (%v)", name, errors.Unwrap(err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, true, twinvault.Errorf(twinvault.ConnectorFailureException, "connector %s answered %d", name, resp.StatusCode)
	}
	var out model.GetPropertyValueHistoryOutput
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, true, twinvault.Errorf(twinvault.ConnectorFailureException, "connector %s answered with something that is not a history", name)
	}
	if out.PropertyValues == nil {
		out.PropertyValues = []model.PropertyValueHistory{}
	}
	return &out, true, nil
}
