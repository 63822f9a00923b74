package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/iam/policy"
	"github.com/twinvault/twinvault/kv"
)

// Records live in the barrier's system view under "iam/<kind>/" and a
// blind index of their name, so no name shows in a storage key.

// Account is the one account every principal belongs to.
const Account = twinvault.Account

// Tag is a key and value on a user or role.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// User is an IAM user.
type User struct {
	Name     string            `json:"name"`
	ID       string            `json:"id"` // AIDA…
	Path     string            `json:"path"`
	Created  time.Time         `json:"created"`
	Tags     []Tag             `json:"tags,omitempty"`
	Inline   map[string]string `json:"inline,omitempty"`   // policy name -> document
	Attached []string          `json:"attached,omitempty"` // managed policy ARNs
	Groups   []string          `json:"groups,omitempty"`
	MFA      []string          `json:"mfa,omitempty"` // serials of enabled devices
}

// ARN is the user's ARN.
func (u *User) ARN() string { return "arn:aws:iam::" + Account + ":user" + u.Path + u.Name }

// Group is an IAM group.
type Group struct {
	Name     string            `json:"name"`
	ID       string            `json:"id"` // AGPA…
	Path     string            `json:"path"`
	Created  time.Time         `json:"created"`
	Inline   map[string]string `json:"inline,omitempty"`
	Attached []string          `json:"attached,omitempty"`
	Members  []string          `json:"members,omitempty"`
}

// ARN is the group's ARN.
func (g *Group) ARN() string { return "arn:aws:iam::" + Account + ":group" + g.Path + g.Name }

// Role is an IAM role.
type Role struct {
	Name        string            `json:"name"`
	ID          string            `json:"id"` // AROA…
	Path        string            `json:"path"`
	Description string            `json:"description,omitempty"`
	Created     time.Time         `json:"created"`
	Trust       string            `json:"trust"`      // the trust policy
	MaxSession  int               `json:"maxSession"` // seconds
	Tags        []Tag             `json:"tags,omitempty"`
	Inline      map[string]string `json:"inline,omitempty"`
	Attached    []string          `json:"attached,omitempty"`
}

// ARN is the role's ARN.
func (r *Role) ARN() string { return "arn:aws:iam::" + Account + ":role" + r.Path + r.Name }

// ManagedPolicy is a customer managed policy with its versions.
type ManagedPolicy struct {
	Name        string          `json:"name"`
	ID          string          `json:"id"` // ANPA…
	Path        string          `json:"path"`
	Description string          `json:"description,omitempty"`
	Default     string          `json:"default"` // version ID, e.g. v2
	Versions    []PolicyVersion `json:"versions"`
	NextVersion int             `json:"nextVersion"`
	Attachments int             `json:"attachments"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
	awsManaged  bool
}

// ARN is the policy's ARN.
func (p *ManagedPolicy) ARN() string {
	if p.awsManaged {
		return "arn:aws:iam::aws:policy" + p.Path + p.Name
	}
	return "arn:aws:iam::" + Account + ":policy" + p.Path + p.Name
}

// DefaultDocument is the document of the default version.
func (p *ManagedPolicy) DefaultDocument() string {
	for _, v := range p.Versions {
		if v.ID == p.Default {
			return v.Document
		}
	}
	return ""
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID       string    `json:"id"`
	Document string    `json:"document"`
	Created  time.Time `json:"created"`
}

func (s *Store) path(kind, name string) []byte {
	return append([]byte("iam/"+kind+"/"), s.b.System().Index(name)...)
}

func (s *Store) prefix(kind string) kv.Range { return kv.Prefix([]byte("iam/" + kind + "/")) }

// get reads a record; found is false when there is none.
func get[T any](s *Store, tx *barrier.Tx, kind, name string) (*T, bool, error) {
	data, err := tx.Get(s.b.System(), s.path(kind, name))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var x T
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, false, fmt.Errorf("iam: decode %s record: %w", kind, err)
	}
	return &x, true, nil
}

func put(s *Store, tx *barrier.Tx, kind, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Set(s.b.System(), s.path(kind, name), data)
}

func del(s *Store, tx *barrier.Tx, kind, name string) error {
	return tx.Delete(s.b.System(), s.path(kind, name))
}

// list reads every record of a kind.
func list[T any](s *Store, tx *barrier.Tx, kind string) ([]*T, error) {
	var out []*T
	err := tx.Scan(s.b.System(), s.prefix(kind), func(_, val []byte) error {
		var x T
		if err := json.Unmarshal(val, &x); err != nil {
			return fmt.Errorf("iam: decode %s record: %w", kind, err)
		}
		out = append(out, &x)
		return nil
	})
	return out, err
}

func noSuch(format string, args ...any) error {
	return twinvault.Errorf(twinvault.NoSuchEntity, format, args...)
}

func invalid(format string, args ...any) error {
	return twinvault.Errorf(twinvault.ValidationError, format, args...)
}

var (
	namePattern        = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	policyNamePattern  = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	pathPattern        = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

func checkName(what, name string, re *regexp.Regexp) error {
	if !re.MatchString(name) {
		return invalid("%s must be 1 to %d letters, digits or +=,.@_-", what, map[bool]int{true: 64, false: 128}[re == namePattern])
	}
	return nil
}

func checkPath(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if len(p) > 512 || !pathPattern.MatchString(p) {
		return "", invalid("path must begin and end with / and hold printable ASCII")
	}
	return p, nil
}

// newID makes an IAM unique ID: a four-letter prefix and 17 characters.
func newID(prefix string) string {
	return prefix + randomID(17)
}

func sortedNames[T any](xs []*T, name func(*T) string) []*T {
	sort.Slice(xs, func(i, j int) bool { return name(xs[i]) < name(xs[j]) })
	return xs
}

func hasPathPrefix(path, prefix string) bool { return prefix == "" || strings.HasPrefix(path, prefix) }

func addUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func remove(list []string, v string) ([]string, bool) {
	for i, x := range list {
		if x == v {
			return append(list[:i:i], list[i+1:]...), true
		}
	}
	return list, false
}

// Users, groups and roles share how they are created, read, listed,
// changed and given inline policies; kind is the record's storage code and
// noun what messages call it.

func getNamed[T any](s *Store, tx *barrier.Tx, kind, noun, name string) (*T, error) {
	x, found, err := get[T](s, tx, kind, name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noSuch("The %s with name %s cannot be found.", noun, name)
	}
	return x, nil
}

func readNamed[T any](ctx context.Context, s *Store, kind, noun, name string) (*T, error) {
	var x *T
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		x, err = getNamed[T](s, tx, kind, noun, name)
		return err
	})
	return x, err
}

func createNamed[T any](ctx context.Context, s *Store, kind, noun, name string, x *T) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, found, err := get[T](s, tx, kind, name); err != nil || found {
			if found {
				return twinvault.Errorf(twinvault.EntityAlreadyExists, "%s with name %s already exists.", strings.ToUpper(noun[:1])+noun[1:], name)
			}
			return err
		}
		return put(s, tx, kind, name, x)
	})
}

func updateNamed[T any](ctx context.Context, s *Store, kind, noun, name string, fn func(*T) error) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		x, err := getNamed[T](s, tx, kind, noun, name)
		if err != nil {
			return err
		}
		if err := fn(x); err != nil {
			return err
		}
		return put(s, tx, kind, name, x)
	})
}

// listNamed lists the records of a kind whose path begins with
// pathPrefix, by name.
func listNamed[T any](ctx context.Context, s *Store, kind, pathPrefix string, path, name func(*T) string) ([]*T, error) {
	var out []*T
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		all, err := list[T](s, tx, kind)
		for _, x := range all {
			if hasPathPrefix(path(x), pathPrefix) {
				out = append(out, x)
			}
		}
		return err
	})
	return sortedNames(out, name), err
}

// putInline sets (doc non-empty) or deletes an inline policy of a record.
func putInline[T any](ctx context.Context, s *Store, kind, noun, owner, name, doc string, maxChars int, inline func(*T) *map[string]string) error {
	if doc != "" {
		if err := checkName("policyName", name, policyNamePattern); err != nil {
			return err
		}
		if err := checkDocument(doc, policy.Identity, maxChars); err != nil {
			return err
		}
	}
	return updateNamed(ctx, s, kind, noun, owner, func(x *T) error {
		m := inline(x)
		if doc == "" {
			if _, ok := (*m)[name]; !ok {
				return noSuch("The %s policy with name %s cannot be found.", noun, name)
			}
			delete(*m, name)
			return nil
		}
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[name] = doc
		return nil
	})
}

// attachedList is what attach needs of a record: its list of managed
// policies and how to store it again.
func attachedList[T any](s *Store, kind, noun, name string, attached func(*T) *[]string) func(tx *barrier.Tx) (*[]string, func() error, error) {
	return func(tx *barrier.Tx) (*[]string, func() error, error) {
		x, err := getNamed[T](s, tx, kind, noun, name)
		if err != nil {
			return nil, nil, err
		}
		return attached(x), func() error { return put(s, tx, kind, name, x) }, nil
	}
}
