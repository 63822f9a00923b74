// Package api is TwinVault's front door: the HTTPS handler that every AWS
// client talks to. A request gets an ID, passes the size limits, SigV4
// verification and authorisation, is decoded and validated against the
// TwinMaker model, and reaches the service bound to its operation; one
// function writes every response and every error in the restJson1 form the
// AWS SDKs parse.
package api

import (
	"bytes"
	"context"
	"crypto/fips140"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/auth/sigv4"
	"github.com/twinvault/twinvault/certs"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/objects"
)

const (
	// DefaultMaxBody caps request bodies. The largest TwinMaker requests
	// (component types with many properties, entities with many
	// components) stay far below it.
	DefaultMaxBody = 4 << 20

	twinmakerService = "iottwinmaker"
)

// Config holds what a Server needs.
type Config struct {
	Verifier   *sigv4.Verifier // checks every request's signature
	Authorizer Authorizer      // decides every call; nil allows every signed one
	Auditor    Auditor         // records every call; nil records nothing
	Guard      Guard           // inspects what a change writes; nil lets all through
	// Ready answers the readiness probe (/readyz): nil when the node can
	// serve. Nil: ready whenever it runs.
	Ready   func(ctx context.Context) error
	Logger  *slog.Logger // nil: slog.Default()
	MaxBody int64        // 0: DefaultMaxBody

	// Hosts are the names the server answers to: an S3 request for
	// bucket.<host> addresses the bucket virtual-hosted style.
	Hosts []string

	// Observe, if set, is told of every API call once it is answered: the
	// service, the operation (empty when the request named none) and the
	// outcome ("OK" or the error code). It sees no user data.
	Observe func(service, operation, outcome string, took time.Duration)
	// Metrics, if set with MetricsToken, answers GET /metrics with the
	// bearer token MetricsToken (how Prometheus authenticates a scrape);
	// such a request is not an API call and is not audited.
	Metrics      http.Handler
	MetricsToken []byte

	Timeouts Timeouts // zero fields: the defaults
}

// Timeouts bound slow or idle clients.
type Timeouts struct {
	Read  time.Duration // reading a request, body included (default 60 s)
	Write time.Duration // writing an answer (default 120 s)
	// Stall bounds a pause in an object's body, sent or received, which
	// may otherwise take as long as it keeps moving: a 5 GiB part over a
	// slow link needs minutes (default 60 s).
	Stall time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Read <= 0 {
		t.Read = 60 * time.Second
	}
	if t.Write <= 0 {
		t.Write = 120 * time.Second
	}
	if t.Stall <= 0 {
		t.Stall = 60 * time.Second
	}
	return t
}

// Server serves the TwinMaker API, and the Query-protocol services bound
// with HandleQuery, over HTTPS.
type Server struct {
	verifier  *sigv4.Verifier
	authz     Authorizer
	audit     Auditor
	guard     Guard
	ready     func(ctx context.Context) error
	log       *slog.Logger
	maxBody   int64
	twinmaker *router
	query     map[string]*queryService
	json      map[string]*jsonService
	s3        *objects.Service
	hosts     []string
	observe   func(service, operation, outcome string, took time.Duration)
	metrics   http.Handler
	token     []byte
	timeouts  Timeouts
}

// New returns a Server with a route for every TwinMaker operation of the
// model; operations are bound to services with Handle.
func New(cfg Config) *Server {
	s := &Server{verifier: cfg.Verifier, authz: cfg.Authorizer, audit: cfg.Auditor, guard: cfg.Guard, ready: cfg.Ready, log: cfg.Logger, maxBody: cfg.MaxBody, hosts: cfg.Hosts, twinmaker: &router{},
		observe: cfg.Observe, metrics: cfg.Metrics, token: cfg.MetricsToken, timeouts: cfg.Timeouts.withDefaults(),
		query: map[string]*queryService{}, json: map[string]*jsonService{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	for _, op := range model.Operations {
		s.twinmaker.add(op, nil)
	}
	return s
}

// HTTPServer returns an http.Server for s with timeouts that bound slow or
// idle clients. There is no plaintext variant: tlsConfig is required.
func (s *Server) HTTPServer(tlsConfig *tls.Config) *http.Server {
	return &http.Server{
		Handler:           s,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.timeouts.Read,
		WriteTimeout:      s.timeouts.Write,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		HTTP2:             HTTP2Config(),
	}
}

// HTTP2Config is the server's HTTP/2 settings. An upload's body is hashed,
// sealed and stored by stages that take it in large pieces; with the
// default 1 MiB flow-control windows the client waits whenever one of
// them pauses. A client may send up to 4 MiB of a body ahead of what the
// handler has read, 8 MiB on one connection.
func HTTP2Config() *http.HTTP2Config {
	return &http.HTTP2Config{MaxReceiveBufferPerStream: 4 << 20, MaxReceiveBufferPerConnection: 8 << 20}
}

// auditWait bounds how long a call waits for its event to be durable
// once its client has gone (or, at worst, for a log that hangs).
const auditWait = 30 * time.Second

// Request describes the call being served; services find it in their
// context with FromContext.
type Request struct {
	ID            string
	Operation     string
	AccessKeyID   string
	SecurityToken string // of a session's temporary credentials
	Region        string // of the signature's scope
	SourceIP      string
	Time          time.Time
	// CertUser is the IAM user a verified client certificate names (its
	// subject's common name), for a request that carries no signature.
	CertUser string

	// Who signed the request, as the Authorizer found.
	PrincipalARN   string
	UserID         string
	UserName       string // empty for roles
	Session        bool   // temporary credentials
	MFA            bool
	SessionCreated time.Time

	auditInfo

	// Findings are what the Guard found in the fields a change writes and
	// let through; the audit record lists them and hides those fields.
	Findings []Finding
	// Sensitive are the values the Guard found, which the audit record
	// masks wherever they appear (ARNs, messages, responses); never
	// written anywhere.
	Sensitive []string
	// Syncs, when the Auditor's Reserve sets it, lets the change leave
	// the syncs of its writes to the sync of its event, which carries
	// them to disk: the change runs in Syncs.Bind's context, and Wait is
	// called once, after the event is recorded or failed to be, and
	// before the answer; after a panic too.
	Syncs Syncs

	query   *queryService // the Query-protocol service, if the request is for one
	s3      bool          // an S3 request
	rc      *http.ResponseController
	stall   time.Duration
	body    *movingBody // an object's body, once it streams
	method  string
	errCode string // the error code the client was told, if any
}

// Syncs is what Request.Syncs holds: the storage's, which this package
// does not see.
type Syncs interface {
	Bind(ctx context.Context) context.Context
	Wait() error
}

type ctxKey struct{}

// FromContext returns the call's Request, or nil outside a call.
func FromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(ctxKey{}).(*Request)
	return r
}

// WithRequest returns ctx carrying req; for tests and internal callers.
func WithRequest(ctx context.Context, req *Request) context.Context {
	return context.WithValue(ctx, ctxKey{}, req)
}

// ServeHTTP serves one request, of any API the server speaks.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	growStack() // before serveHTTP's own frame, which is large
	s.serveHTTP(w, r)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.probe(w, r) {
		return
	}
	req := &Request{ID: twinvault.NewUUID(), Time: time.Now().UTC(), SourceIP: sourceIP(r), method: r.Method,
		rc: http.NewResponseController(w), stall: s.timeouts.Stall}
	h := w.Header()
	h.Set("x-amzn-RequestId", req.ID)
	h.Set("Strict-Transport-Security", "max-age=63072000")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")

	status := http.StatusOK
	defer func() {
		if req.Syncs != nil {
			// A call that panicked before its event leaves its writes'
			// syncs to wait for too.
			req.Syncs.Wait()
		}
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "requestId", req.ID, "operation", req.Operation, "panic", fmt.Sprint(p))
			status = s.writeError(w, req, errors.New("panic"))
		}
		took := time.Since(req.Time)
		s.log.Debug("request", "requestId", req.ID, "operation", req.Operation, "status", status,
			"accessKeyId", req.AccessKeyID, "duration", took)
		if s.observe != nil {
			outcome := "OK"
			if req.errCode != "" {
				outcome = req.errCode
			} else if status >= 400 {
				outcome = strconv.Itoa(status)
			}
			s.observe(req.Service, req.Operation, outcome, took)
		}
	}()
	out, err := s.serve(r, req)
	if s.audit != nil {
		if req.Operation == "" {
			// Refused before routing (unsigned, badly signed): name the
			// operation the path is for, when it is TwinMaker's.
			if rt, _, _, _ := s.twinmaker.match(r.Method, r.URL.EscapedPath()); rt != nil {
				req.Operation, req.Service = rt.op.Name, twinmakerService
				req.ReadOnly, req.Data = readOnly(twinmakerService, rt.op.Name), dataOperations[rt.op.Name]
			}
		}
		rec := &Record{Req: req, Params: req.params, UserAgent: r.UserAgent(), Host: r.Host, TLS: r.TLS}
		if err != nil {
			rec.Err, rec.Cause = s.clientError(req, err), err
			if !req.s3 { // S3 errors keep their own status
				err = rec.Err
			}
		} else if !req.ReadOnly && !req.s3 {
			rec.Response = out // an object's content is never recorded
		}
		// Recorded even when the client has gone: what ran is in the trail.
		actx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditWait)
		aerr := s.audit.Record(actx, rec)
		cancel()
		if req.Syncs != nil {
			// After the event: its sync carried the change's writes, so
			// these waits find them synced (one sync fails them all).
			werr := req.Syncs.Wait()
			req.Syncs = nil // waited: the deferred call below has nothing left
			if werr != nil && aerr == nil {
				s.log.Error("the call's writes were not synced", "requestId", req.ID, "err", werr)
				out, err = nil, unavailable()
			}
		}
		if aerr != nil {
			s.log.Error("audit record failed", "requestId", req.ID, "err", aerr)
			out, err = nil, unavailable()
		}
	}
	// Server-Timing (a W3C header) lets a load tool tell the server's share
	// of a call's latency from the client's and the network's.
	h.Set("Server-Timing", fmt.Sprintf("app;dur=%.3f", float64(time.Since(req.Time).Microseconds())/1000))
	switch {
	case req.s3 && err != nil:
		status = s.writeS3Error(w, req, err)
	case req.s3:
		status = out.(*s3Response).write(w)
	case req.query != nil && err != nil:
		status = s.writeQueryError(w, req, req.query, err)
	case req.query != nil:
		status = s.writeQuery(w, req, req.query, out)
	case err != nil:
		status = s.writeError(w, req, err)
	default:
		if st, ok := out.(*Stream); ok {
			h.Set("Content-Type", st.ContentType)
			w.WriteHeader(http.StatusOK)
			if err := st.Write(req.streamOut(w)); err != nil { // as long as it keeps moving
				// The status is sent; the stream's own framing tells the
				// client it is incomplete.
				s.log.Error("stream failed", "requestId", req.ID, "operation", req.Operation, "err", err)
			}
			return
		}
		s.writeJSON(w, http.StatusOK, out)
	}
}

// Stream is an output sent as bytes rather than JSON, written as it is
// produced: a backup.
type Stream struct {
	ContentType string
	Write       func(w io.Writer) error
}

// fipsRefusal is the answer of a FIPS endpoint served by a process not in
// FIPS 140-3 mode: refused, rather than served by unvalidated crypto.
const fipsRefusal = "This is a FIPS endpoint, and this server is not running in FIPS 140-3 mode (start it with --fips and GODEBUG=fips140=on); use the endpoint without fips."

func (s *Server) serve(r *http.Request, req *Request) (any, error) {
	fipsRefused := certs.IsFIPSName(r.Host) && !fips140.Enabled()
	if s.s3 != nil && scopeService(r) == "s3" {
		if fipsRefused {
			req.s3 = true
			return nil, s3Err(twinvault.MisdirectedRequest, http.StatusMisdirectedRequest, fipsRefusal)
		}
		return s.serveS3(r, req)
	}
	if fipsRefused {
		return nil, twinvault.Errorf(twinvault.MisdirectedRequest, "%s", fipsRefusal)
	}
	body, err := s.readBody(r)
	if err != nil {
		return nil, err
	}
	res, err := s.verifier.Verify(r, body)
	if user := certUser(r); err != nil && user != "" && twinvault.ErrorCode(authError(err)) == sigv4.CodeMissingAuthenticationToken {
		// An unsigned request over a connection whose client certificate
		// the client CA verified: a device, acting as the IAM user its
		// certificate names, on the TwinMaker API.
		req.CertUser = user
		res, err = &sigv4.Result{Service: twinmakerService, Region: s.verifier.Region}, nil
	}
	if err != nil {
		req.AccessKeyID = claimedKey(r)
		return nil, authError(err)
	}
	req.AccessKeyID, req.SecurityToken, req.Region, req.Service = res.AccessKeyID, res.SecurityToken, res.Region, res.Service
	if qs := s.query[res.Service]; qs != nil && req.CertUser == "" {
		req.query = qs
		return s.serveQuery(r, req, qs, body, res.Region)
	}
	if js := s.json[res.Service]; js != nil && req.CertUser == "" {
		return s.serveJSON(r, req, js, body, res.Region)
	}
	if res.Service != twinmakerService && res.Service != "awsiottwinmaker" {
		return nil, twinvault.Errorf(twinvault.UnknownOperationException, "service %q is not served here", res.Service)
	}
	rt, labels, pathFound, err := s.twinmaker.match(r.Method, r.URL.EscapedPath())
	if err != nil {
		return nil, err
	}
	if rt == nil {
		if pathFound {
			return nil, twinvault.Errorf(twinvault.UnknownOperationException, "method %s is not allowed on this resource", r.Method)
		}
		return nil, twinvault.Errorf(twinvault.UnknownOperationException, "no operation matches %s %s", r.Method, r.URL.EscapedPath())
	}
	req.Operation, req.Service = rt.op.Name, twinmakerService
	req.ReadOnly, req.Data = readOnly(twinmakerService, rt.op.Name), dataOperations[rt.op.Name]
	in := rt.op.Input()
	usual, err := decodeBody(body, in)
	if err != nil {
		return nil, err
	}
	params := auditParams(body, labels, r.URL.Query())
	if usual {
		params.Usual = in
	}
	req.params = params
	for name, v := range labels {
		if err := in.SetLabel(name, v); err != nil {
			return nil, err
		}
	}
	if err := in.BindQuery(r.URL.Query()); err != nil {
		return nil, err
	}
	call := twinmakerCall(rt.op.Name, in, res.Region)
	call.UserAgent, call.Secure = r.UserAgent(), r.TLS != nil
	req.Resources = call.Resources
	if err := s.authorize(r.Context(), req, call, twinvault.AccessDeniedException); err != nil {
		return nil, err
	}
	// The guard goes first, so that a refused field is hidden from the
	// audit record even when the input is invalid as well.
	if s.guard != nil && !req.ReadOnly && !req.Data {
		if err := s.guard.Check(r.Context(), req, params.Map(), labels); err != nil {
			return nil, err
		}
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := s.reserve(r.Context(), req); err != nil {
		return nil, err
	}
	ctx := WithRequest(r.Context(), req)
	if req.Syncs != nil {
		ctx = req.Syncs.Bind(ctx)
	}
	return rt.serve(ctx, in)
}

func (s *Server) readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > s.maxBody {
		return nil, tooLarge(s.maxBody)
	}
	// One buffer of the announced size when there is one, rather than
	// ReadAll's doubling, with room for the last read, which finds the end:
	// ReadFrom grows a buffer with less than bytes.MinRead free before it
	// reads.
	buf := bytes.NewBuffer(make([]byte, 0, max(r.ContentLength, 0)+bytes.MinRead))
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, s.maxBody))
	body := buf.Bytes()
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge(s.maxBody)
	}
	if err != nil {
		return nil, twinvault.Errorf(twinvault.ValidationException, "could not read the request body")
	}
	return body, nil
}

func tooLarge(max int64) error {
	return twinvault.Errorf(twinvault.RequestEntityTooLarge, "request body exceeds %d bytes", max)
}

// decodeBody fills in from a JSON object. An empty body is an empty object
// (GET and DELETE requests carry none). Member names match exactly, as
// TwinMaker's do, and a name given twice is refused. It reports whether
// the input's DecodeUsual read the body.
func decodeBody(body []byte, in any) (usual bool, err error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return false, nil
	}
	// An input that reads its usual form itself declines anything else,
	// which encoding/json/v2 then decodes, or refuses with its error.
	if u, ok := in.(interface{ DecodeUsual([]byte) bool }); ok && u.DecodeUsual(body) {
		return true, nil
	}
	if err := jsonv2.Unmarshal(body, in); err != nil {
		return false, twinvault.Errorf(twinvault.ValidationException, "malformed request body: %s", jsonProblem(err))
	}
	return false, nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of JSON"
	case errors.As(err, &syn):
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return fmt.Sprintf("member '%s' appears twice", syn.JSONPointer)
		}
		return fmt.Sprintf("invalid JSON at offset %d", syn.ByteOffset)
	case errors.As(err, &sem):
		field := strings.TrimPrefix(string(sem.JSONPointer), "/")
		if field == "" {
			return "the body must be a JSON object"
		}
		return fmt.Sprintf("field '%s' does not hold the type the operation expects", field)
	default:
		return "the body is not a valid JSON object for this operation"
	}
}

// claimedKey is the access key ID a request whose signature failed says
// it was signed with, for the audit record; never a secret.
func claimedKey(r *http.Request) string {
	for _, src := range []string{r.Header.Get("Authorization"), r.URL.Query().Get("X-Amz-Credential")} {
		if i := strings.Index(src, "Credential="); i >= 0 {
			src = src[i+len("Credential="):]
		}
		if id, _, ok := strings.Cut(src, "/"); ok && len(id) <= 128 {
			return id
		}
	}
	return ""
}

// certUser is the user a request's verified client certificate names, or
// "" when it has none (the server takes client certificates only when it
// has a client CA, and the handshake verified any it got).
func certUser(r *http.Request) string {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return ""
	}
	return r.TLS.VerifiedChains[0][0].Subject.CommonName
}

func authError(err error) error {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &twinvault.Error{Code: se.Code, Message: se.Message}
	}
	return err
}

// writeError answers with the restJson1 error envelope: the code in
// X-Amzn-ErrorType and {"message": ...}. An error without a code is
// internal: its cause is logged under the request ID and the client sees
// only that an internal error happened.
func (s *Server) writeError(w http.ResponseWriter, req *Request, err error) int {
	te := s.clientError(req, err)
	status := te.Status()
	w.Header().Set("X-Amzn-ErrorType", te.Code)
	s.writeJSON(w, status, map[string]string{"message": te.Message})
	return status
}

// clientError is what the client may see of err: its own code and
// message, or for an error without a code, only that an internal error
// happened (the cause is logged under the request ID).
func (s *Server) clientError(req *Request, err error) *twinvault.Error {
	var te *twinvault.Error
	var ve *model.ValidationError
	var se *S3Error
	switch {
	case errors.As(err, &te):
	case errors.As(err, &se):
		te = &twinvault.Error{Code: se.Code, Message: se.Message}
	case errors.As(err, &ve):
		te = &twinvault.Error{Code: twinvault.ValidationException, Message: ve.Error()}
	default:
		s.log.Error("internal error", "requestId", req.ID, "operation", req.Operation, "err", err)
		te = &twinvault.Error{Code: twinvault.InternalServerException, Message: "Internal error (request " + req.ID + ")"}
	}
	req.errCode = te.Code
	return te
}

// authorize asks the Authorizer, if there is one, to decide call.
func (s *Server) authorize(ctx context.Context, req *Request, call *Call, code string) error {
	if s.authz == nil {
		return nil
	}
	return s.authz.Authorize(ctx, req, call, code)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	var data []byte
	var err error
	if a, ok := v.(jsonAppender); ok {
		data = a.AppendJSON(make([]byte, 0, 4096))
	} else {
		data, err = json.Marshal(v)
	}
	if err != nil {
		s.log.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		w.Header().Set("X-Amzn-ErrorType", twinvault.InternalServerException)
		data = []byte(`{"message":"Internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

// jsonAppender is an output that writes its own JSON: one the data plane
// answers with often and at length (see model.GetPropertyValueHistoryOutput).
type jsonAppender interface{ AppendJSON([]byte) []byte }

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// probe answers the liveness and readiness probes of an orchestrator:
// unsigned GETs of /livez and /readyz, which reveal nothing but "ok" and
// are not API calls, so not audited. A signed request for those paths is
// an S3 call on a bucket of that name.
func (s *Server) probe(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet && r.URL.Path == "/metrics" && s.metrics != nil && len(s.token) > 0 {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			h := w.Header()
			h.Set("Strict-Transport-Security", "max-age=63072000")
			h.Set("Cache-Control", "no-store")
			if subtle.ConstantTimeCompare([]byte(tok), s.token) != 1 {
				s.log.Warn("metrics scrape with a wrong token", "sourceIp", sourceIP(r))
				http.Error(w, "wrong token", http.StatusUnauthorized)
				return true
			}
			s.metrics.ServeHTTP(w, r)
			return true
		}
	}
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" || r.URL.Query().Has("X-Amz-Signature") ||
		(r.URL.Path != "/livez" && r.URL.Path != "/readyz") {
		return false
	}
	h := w.Header()
	h.Set("Strict-Transport-Security", "max-age=63072000")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if r.URL.Path == "/readyz" && s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n")
			return true
		}
	}
	io.WriteString(w, "ok\n")
	return true
}
