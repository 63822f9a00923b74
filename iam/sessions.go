package iam

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/auth/sigv4"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/iam/policy"
)

// Session is a set of temporary credentials from STS. Its secret is
// stored through the barrier (SigV4 needs it); its token only as a
// SHA-256 hash, since the server needs only to recognise it.
type Session struct {
	ID          string    `json:"id"` // ASIA…
	Secret      string    `json:"secret"`
	TokenHash   []byte    `json:"tokenHash"`
	User        string    `json:"user,omitempty"` // GetSessionToken: the user
	Role        string    `json:"role,omitempty"` // AssumeRole: the role and session name
	RoleSession string    `json:"roleSession,omitempty"`
	Policy      string    `json:"policy,omitempty"` // AssumeRole's session policy
	MFA         bool      `json:"mfa"`
	MFATime     time.Time `json:"mfaTime,omitzero"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires"`
}

// Credentials are temporary credentials as STS hands them out: the only
// time the token is in the clear.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// Durations of GetSessionToken, in seconds.
const (
	MinSessionToken     = 900
	DefaultSessionToken = 43200
	MaxSessionToken     = 129600
	maxChainedRole      = 3600 // a role assumed with a role's credentials
)

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newSession(now time.Time, d time.Duration) (*Session, *Credentials, error) {
	var raw [30 + 96]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, nil, err
	}
	token := base64.StdEncoding.EncodeToString(raw[30:])
	s := &Session{ID: "ASIA" + randomID(16), Secret: base64.RawStdEncoding.EncodeToString(raw[:30])[:40],
		TokenHash: hashToken(token), Created: now, Expires: now.Add(d)}
	return s, &Credentials{AccessKeyID: s.ID, SecretAccessKey: s.Secret, SessionToken: token, Expiration: s.Expires}, nil
}

// IsSession reports whether an access key ID is of temporary credentials.
func IsSession(id string) bool { return strings.HasPrefix(id, "ASIA") }

// GetSessionToken makes temporary credentials for the user of a long-term
// key; with an MFA device's serial and code they carry MFA.
func (s *Store) GetSessionToken(ctx context.Context, caller *Principal, seconds int, serial, code string) (*Credentials, error) {
	if caller.Type != "User" || IsSession(caller.AccessKeyID) {
		return nil, twinvault.Errorf(twinvault.AccessDenied, "Cannot call GetSessionToken with session credentials")
	}
	if seconds == 0 {
		seconds = DefaultSessionToken
	}
	if seconds < MinSessionToken || seconds > MaxSessionToken {
		return nil, invalid("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and %d", seconds, MinSessionToken, MaxSessionToken)
	}
	if (serial == "") != (code == "") {
		return nil, invalid("SerialNumber and TokenCode go together")
	}
	now := s.now().UTC()
	sess, creds, err := newSession(now, time.Duration(seconds)*time.Second)
	if err != nil {
		return nil, err
	}
	sess.User = caller.UserName
	codeOK := true
	err = s.b.Update(ctx, func(tx *barrier.Tx) error {
		codeOK = true // the transaction may run again
		if serial != "" {
			ok, err := s.checkMFA(tx, caller.UserName, serial, code)
			if err != nil || !ok {
				codeOK = ok
				return err // a wrong code: its count commits, no session
			}
			sess.MFA, sess.MFATime = true, now
		}
		return put(s, tx, "s", sess.ID, sess)
	})
	if err != nil {
		return nil, err
	}
	if !codeOK {
		return nil, errMFAFailed
	}
	return creds, nil
}

// AssumeRole makes temporary credentials of a role, when the role's trust
// policy lets the caller in. sessionPolicy, if any, narrows what they may
// do.
func (s *Store) AssumeRole(ctx context.Context, caller *Principal, roleARN, sessionName string, seconds int, sessionPolicy, serial, code string) (*Credentials, *Session, error) {
	name, ok := strings.CutPrefix(roleARN, "arn:aws:iam::"+Account+":role/")
	if !ok {
		return nil, nil, invalid("roleArn %s is not a role of this account", roleARN)
	}
	name = name[strings.LastIndexByte(name, '/')+1:]
	if !sessionNamePattern.MatchString(sessionName) {
		return nil, nil, invalid("roleSessionName must be 2 to 64 letters, digits or =,.@-")
	}
	if sessionPolicy != "" {
		if err := checkDocument(sessionPolicy, policy.Identity, InlineUserChars); err != nil {
			return nil, nil, err
		}
	}
	now := s.now().UTC()
	var creds *Credentials
	var sess *Session
	codeOK := true
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		codeOK = true // the transaction may run again
		r, err := s.role(tx, name)
		if err != nil || r.ARN() != roleARN {
			return twinvault.Errorf(twinvault.AccessDenied, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, roleARN)
		}
		max := r.MaxSession
		if caller.Type == "AssumedRole" {
			max = maxChainedRole
		}
		if seconds == 0 {
			seconds = min(DefaultSession, max)
		}
		if seconds < MinSession || seconds > max {
			return invalid("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		mfa, mfaTime := caller.MFA, caller.MFATime
		if serial != "" {
			ok, err := s.checkMFA(tx, caller.UserName, serial, code)
			if err != nil || !ok {
				codeOK = ok
				return err
			}
			mfa, mfaTime = true, now
		}
		trust, err := s.parsed.parse(r.Trust, policy.Trust)
		if err != nil {
			return err
		}
		who := *caller
		who.MFA, who.MFATime = mfa, mfaTime
		pctx := who.Context(&Call{Secure: true}, now)
		res := policy.Evaluate(&policy.Request{Action: "sts:AssumeRole", Resource: roleARN, Principal: caller.ARN, Account: Account, Context: pctx},
			[]policy.Policy{{Name: "trust", Doc: trust}})
		if res.Decision != policy.Allowed {
			return twinvault.Errorf(twinvault.AccessDenied, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, roleARN)
		}
		sess, creds, err = newSession(now, time.Duration(seconds)*time.Second)
		if err != nil {
			return err
		}
		sess.Role, sess.RoleSession, sess.Policy, sess.MFA, sess.MFATime = name, sessionName, sessionPolicy, mfa, mfaTime
		return put(s, tx, "s", sess.ID, sess)
	})
	if err == nil && !codeOK {
		err = errMFAFailed
	}
	if err != nil {
		return nil, nil, err
	}
	return creds, sess, nil
}

// AssumedRoleARN is the ARN of a role session.
func AssumedRoleARN(role, session string) string {
	return "arn:aws:sts::" + Account + ":assumed-role/" + role + "/" + session
}

// session reads a live session and checks its token.
func (s *Store) session(tx *barrier.Tx, id, token string) (*Session, error) {
	sess, found, err := get[Session](s, tx, "s", id)
	if err != nil {
		return nil, err
	}
	if !found || sess.ID != id || subtle.ConstantTimeCompare(sess.TokenHash, hashToken(token)) != 1 {
		return nil, twinvault.Errorf(twinvault.InvalidClientTokenID, "The security token included in the request is invalid.")
	}
	if !s.now().Before(sess.Expires) {
		return nil, twinvault.Errorf(twinvault.ExpiredTokenException, "The security token included in the request is expired")
	}
	return sess, nil
}

// lookupSession is Lookup for temporary credentials: an ended session is
// ExpiredTokenException, before its signature is even checked.
func (s *Store) lookupSession(tx *barrier.Tx, id string) (sigv4.Key, error) {
	sess, found, err := get[Session](s, tx, "s", id)
	if err != nil {
		return sigv4.Key{}, err
	}
	if !found || sess.ID != id {
		return sigv4.Key{}, sigv4.ErrUnknownKey
	}
	if !s.now().Before(sess.Expires) {
		return sigv4.Key{}, &sigv4.Error{Code: twinvault.ExpiredTokenException, Message: "The security token included in the request is expired"}
	}
	return sigv4.Key{Secret: []byte(sess.Secret)}, nil
}

// principalOfSession builds the principal of temporary credentials.
func (s *Store) principalOfSession(tx *barrier.Tx, sess *Session) (*Principal, error) {
	p := &Principal{AccessKeyID: sess.ID, MFA: sess.MFA, MFATime: sess.MFATime, Created: sess.Created, Session: true}
	if sess.User != "" {
		u, err := s.user(tx, sess.User)
		if err != nil {
			return nil, err
		}
		p.ARN, p.UserID, p.UserName, p.Type, p.Tags = u.ARN(), u.ID, u.Name, "User", u.Tags
		p.Policies, err = s.policiesOf(tx, u)
		return p, err
	}
	r, err := s.role(tx, sess.Role)
	if err != nil {
		return nil, err
	}
	p.ARN, p.UserID, p.Type, p.Tags = AssumedRoleARN(r.Name, sess.RoleSession), r.ID+":"+sess.RoleSession, "AssumedRole", r.Tags
	p.RoleName = r.Name
	if p.Policies, err = s.ownPolicies(tx, r.ARN(), r.Inline, r.Attached); err != nil {
		return nil, err
	}
	if sess.Policy != "" {
		d, err := s.parsed.parse(sess.Policy, policy.Identity)
		if err != nil {
			return nil, err
		}
		p.Limits = [][]policy.Policy{{{Name: "session policy", Doc: d}}}
	}
	return p, nil
}
