package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/auth/sigv4"
	"github.com/twinvault/twinvault/objects"
)

// S3's REST-XML protocol, path-style (/bucket/key): requests whose SigV4
// scope names "s3". Bodies are not read before the signature is checked:
// an object streams into the object store as it arrives, checked against
// its signed hash or its chunk signatures on the way.

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxS3Form caps the XML bodies of operations other than uploads: a
// CompleteMultipartUpload that lists 10,000 parts fits.
const maxS3Form = 4 << 20

// SetObjects serves S3 with svc.
func (s *Server) SetObjects(svc *objects.Service) { s.s3 = svc }

// scopeService is the service a request's credential scope names, read
// without verifying anything: which protocol to answer in.
func scopeService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); a != "" {
		if i := strings.Index(a, "Credential="); i >= 0 {
			cred = a[i+len("Credential="):]
		}
	}
	parts := strings.Split(strings.SplitN(cred, ",", 2)[0], "/")
	if len(parts) >= 4 {
		return parts[3]
	}
	return ""
}

// s3Response is an S3 answer written by its own function: headers, status
// and perhaps a streamed body.
type s3Response struct {
	write func(w http.ResponseWriter) int
}

func (s *Server) serveS3(r *http.Request, req *Request) (any, error) {
	req.s3 = true
	bucket, key := s.s3Address(r)
	req.Service = "s3"
	op, resources := s3Operation(r, bucket, key)
	req.Operation, req.ReadOnly = op, r.Method == http.MethodGet || r.Method == http.MethodHead
	req.Data = key != ""
	if op == "" {
		return nil, s3Err("MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource.")
	}
	var body []byte
	cl := r.ContentLength
	streamed := op == "PutObject" || op == "UploadPart"
	if !streamed && cl > 0 {
		if cl > maxS3Form {
			return nil, s3Err("MaxMessageLengthExceeded", http.StatusBadRequest, "Your request was too big.")
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, maxS3Form))
		if err != nil {
			return nil, s3Err("IncompleteBody", http.StatusBadRequest, "The request body could not be read.")
		}
		body = b
	}
	var verifyBody []byte
	if !streamed {
		verifyBody = body
		if verifyBody == nil {
			verifyBody = []byte{}
		}
	}
	res, err := s.verifier.Verify(r, verifyBody)
	if err != nil {
		req.AccessKeyID = claimedKey(r)
		return nil, authError(err)
	}
	req.AccessKeyID, req.SecurityToken, req.Region = res.AccessKeyID, res.SecurityToken, res.Region
	if res.Payload != "" && !streamed {
		// A small body sent aws-chunked (the SDKs do so for operations
		// that need a checksum, such as DeleteObjects).
		c, err := res.Chunks(r, bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(c)
		}
		if err != nil {
			return nil, s3Err("InvalidRequest", http.StatusBadRequest, err.Error())
		}
	}
	req.Resources = resources
	req.params = s3Params(bucket, key, r)
	call := &Call{Action: "s3:" + s3Action(op), Resources: resources, Region: res.Region, UserAgent: r.UserAgent(), Secure: r.TLS != nil}
	if err := s.authorize(r.Context(), req, call, "AccessDenied"); err != nil {
		var te *twinvault.Error
		if errors.As(err, &te) {
			return nil, s3Err("AccessDenied", http.StatusForbidden, te.Message)
		}
		return nil, err
	}
	if r.Header.Get("X-Amz-Tagging") != "" && (op == "PutObject" || op == "CreateMultipartUpload" || op == "CopyObject") {
		// Tags set with a write need the tagging action too.
		tagCall := *call
		tagCall.Action = "s3:PutObjectTagging"
		if err := s.authorize(r.Context(), req, &tagCall, "AccessDenied"); err != nil {
			var te *twinvault.Error
			if errors.As(err, &te) {
				return nil, s3Err("AccessDenied", http.StatusForbidden, te.Message)
			}
			return nil, err
		}
	}
	if err := s.reserve(r.Context(), req); err != nil {
		return nil, err
	}
	ctx := WithRequest(r.Context(), req)
	switch op {
	case "ListBuckets":
		return s.s3ListBuckets(ctx)
	case "CreateBucket":
		if _, err := s.s3.CreateBucket(ctx, bucket); err != nil {
			return nil, s3Error(err)
		}
		return &s3Response{func(w http.ResponseWriter) int {
			w.Header().Set("Location", "/"+bucket)
			w.WriteHeader(http.StatusOK)
			return http.StatusOK
		}}, nil
	case "HeadBucket":
		if _, err := s.s3.Bucket(ctx, bucket); err != nil {
			return nil, s3Error(err)
		}
		return emptyS3(http.StatusOK), nil
	case "DeleteBucket":
		if err := s.s3.DeleteBucket(ctx, bucket); err != nil {
			return nil, s3Error(err)
		}
		return emptyS3(http.StatusNoContent), nil
	case "ListObjectsV2":
		return s.s3ListObjects(ctx, r, bucket)
	case "PutObject":
		return s.s3PutObject(ctx, r, res, bucket, key)
	case "GetObject", "HeadObject":
		return s.s3GetObject(ctx, r, bucket, key, op == "HeadObject")
	case "DeleteObject":
		if err := s.s3.DeleteObject(ctx, bucket, key); err != nil {
			return nil, s3Error(err)
		}
		return emptyS3(http.StatusNoContent), nil
	case "GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption", "GetBucketLocation":
		if _, err := s.s3.Bucket(ctx, bucket); err != nil {
			return nil, s3Error(err)
		}
		return s.s3BucketConfig(ctx, op, body, bucket, res.Region)
	case "DeleteObjects":
		return s.s3DeleteObjects(ctx, bucket, body)
	case "CopyObject":
		return s.s3CopyObject(ctx, r, req, bucket, key)
	case "CreateMultipartUpload":
		return s.s3CreateUpload(ctx, r, bucket, key)
	case "UploadPart":
		return s.s3UploadPart(ctx, r, res, bucket, key)
	case "UploadPartCopy":
		return s.s3UploadPartCopy(ctx, r, req, bucket, key)
	case "CompleteMultipartUpload":
		return s.s3CompleteUpload(ctx, r, body, bucket, key)
	case "AbortMultipartUpload":
		if err := s.s3.AbortUpload(ctx, bucket, key, r.URL.Query().Get("uploadId")); err != nil {
			return nil, s3Error(err)
		}
		return emptyS3(http.StatusNoContent), nil
	case "ListParts":
		return s.s3ListParts(ctx, r, bucket, key)
	case "ListMultipartUploads":
		return s.s3ListUploads(ctx, r, bucket)
	case "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging", "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging":
		return s.s3Tagging(ctx, op, body, bucket, key)
	}
	return nil, s3Err("NotImplemented", http.StatusNotImplemented, "This operation is not served.")
}

// s3Address reads the bucket and key a request addresses: from the host
// when it is bucket.<a served name> (virtual-hosted style), else from the
// path (/bucket/key).
func (s *Server) s3Address(r *http.Request) (bucket, key string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	for _, name := range s.hosts {
		if b, ok := strings.CutSuffix(host, "."+name); ok && b != "" && b != "api" && b != "data" && !strings.HasPrefix(name, "*") {
			return b, strings.TrimPrefix(r.URL.Path, "/")
		}
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return bucket, key
}

// s3Operation names the operation of a request and the ARNs it needs.
func s3Operation(r *http.Request, bucket, key string) (string, []string) {
	bARN := "arn:aws:s3:::" + bucket
	oARN := bARN + "/" + key
	q := r.URL.Query()
	switch {
	case bucket == "" && r.Method == http.MethodGet:
		return "ListBuckets", nil
	case bucket == "":
		return "", nil
	case key == "":
		switch {
		case q.Has("encryption") && r.Method == http.MethodGet:
			return "GetBucketEncryption", []string{bARN}
		case q.Has("encryption") && r.Method == http.MethodPut:
			return "PutBucketEncryption", []string{bARN}
		case q.Has("encryption") && r.Method == http.MethodDelete:
			return "DeleteBucketEncryption", []string{bARN}
		case q.Has("location") && r.Method == http.MethodGet:
			return "GetBucketLocation", []string{bARN}
		case q.Has("delete") && r.Method == http.MethodPost:
			return "DeleteObjects", []string{bARN}
		case q.Has("uploads") && r.Method == http.MethodGet:
			return "ListMultipartUploads", []string{bARN}
		case q.Has("tagging") && r.Method == http.MethodGet:
			return "GetBucketTagging", []string{bARN}
		case q.Has("tagging") && r.Method == http.MethodPut:
			return "PutBucketTagging", []string{bARN}
		case q.Has("tagging") && r.Method == http.MethodDelete:
			return "DeleteBucketTagging", []string{bARN}
		case q.Has("encryption"), q.Has("location"), q.Has("delete"), q.Has("uploads"), q.Has("tagging"):
			return "", nil
		}
		switch r.Method {
		case http.MethodPut:
			return "CreateBucket", []string{bARN}
		case http.MethodHead:
			return "HeadBucket", []string{bARN}
		case http.MethodDelete:
			return "DeleteBucket", []string{bARN}
		case http.MethodGet:
			if q.Get("list-type") == "2" || len(q) == 0 || q.Has("prefix") || q.Has("delimiter") {
				return "ListObjectsV2", []string{bARN}
			}
		}
		return "", nil
	}
	copying := r.Header.Get("X-Amz-Copy-Source") != ""
	switch {
	case q.Has("tagging") && r.Method == http.MethodGet:
		return "GetObjectTagging", []string{oARN}
	case q.Has("tagging") && r.Method == http.MethodPut:
		return "PutObjectTagging", []string{oARN}
	case q.Has("tagging") && r.Method == http.MethodDelete:
		return "DeleteObjectTagging", []string{oARN}
	case q.Has("tagging"):
		return "", nil
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload", []string{oARN}
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload", []string{oARN}
	case r.Method == http.MethodPut && q.Has("uploadId") && copying:
		return "UploadPartCopy", []string{oARN}
	case r.Method == http.MethodPut && q.Has("uploadId"):
		return "UploadPart", []string{oARN}
	case r.Method == http.MethodGet && q.Has("uploadId"):
		return "ListParts", []string{oARN}
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload", []string{oARN}
	case q.Has("uploads"), q.Has("uploadId"):
		return "", nil
	}
	switch r.Method {
	case http.MethodPut:
		if copying {
			return "CopyObject", []string{oARN}
		}
		return "PutObject", []string{oARN}
	case http.MethodGet:
		return "GetObject", []string{oARN}
	case http.MethodHead:
		return "HeadObject", []string{oARN}
	case http.MethodDelete:
		return "DeleteObject", []string{oARN}
	}
	return "", nil
}

// s3Action is the IAM action of an operation.
func s3Action(op string) string {
	switch op {
	case "ListBuckets":
		return "ListAllMyBuckets"
	case "HeadBucket", "ListObjectsV2":
		return "ListBucket"
	case "GetBucketEncryption":
		return "GetEncryptionConfiguration"
	case "PutBucketEncryption", "DeleteBucketEncryption":
		return "PutEncryptionConfiguration"
	case "DeleteObjects":
		return "DeleteObject"
	case "HeadObject":
		return "GetObject"
	case "CopyObject", "UploadPartCopy":
		return "PutObject" // and s3:GetObject on the source, checked by the copy
	case "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload":
		return "PutObject"
	case "ListParts":
		return "ListMultipartUploadParts"
	case "ListMultipartUploads":
		return "ListBucketMultipartUploads"
	case "DeleteBucketTagging":
		return "PutBucketTagging"
	}
	return op
}

func s3Params(bucket, key string, r *http.Request) map[string]any {
	m := map[string]any{}
	if bucket != "" {
		m["bucketName"] = bucket
	}
	if key != "" {
		m["key"] = key
	}
	for k, v := range r.URL.Query() {
		if !strings.HasPrefix(k, "X-Amz-") && len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

// s3Err is an S3 error: its code, status and message.
func s3Err(code string, status int, msg string) error {
	return &S3Error{Code: code, Status: status, Message: msg}
}

// S3Error is an error in S3's terms.
type S3Error struct {
	Code, Message string
	Status        int
}

func (e *S3Error) Error() string { return e.Code + ": " + e.Message }

// s3Error turns a service error into S3's.
func s3Error(err error) error {
	var te *twinvault.Error
	if errors.As(err, &te) {
		return &S3Error{Code: te.Code, Status: te.Status(), Message: te.Message}
	}
	return err
}

func emptyS3(status int) *s3Response {
	return &s3Response{func(w http.ResponseWriter) int { w.WriteHeader(status); return status }}
}

func xmlS3(v any) (*s3Response, error) {
	data, err := xml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &s3Response{func(w http.ResponseWriter) int {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(xml.Header))
		w.Write(data)
		return http.StatusOK
	}}, nil
}

// writeS3Error writes S3's error envelope.
func (s *Server) writeS3Error(w http.ResponseWriter, req *Request, err error) int {
	var se *S3Error
	if !errors.As(err, &se) {
		te := s.clientError(req, err)
		code := te.Code
		switch code {
		case twinvault.InvalidSignatureException:
			code = "SignatureDoesNotMatch"
		case twinvault.MissingAuthenticationTokenException:
			code = "AccessDenied"
		case twinvault.UnrecognizedClientException:
			code = "InvalidAccessKeyId"
		}
		se = &S3Error{Code: code, Status: te.Status(), Message: te.Message}
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(se.Status)
	if req.method != http.MethodHead {
		data, _ := xml.Marshal(struct {
			XMLName   xml.Name `xml:"Error"`
			Code      string
			Message   string
			RequestID string `xml:"RequestId"`
		}{Code: se.Code, Message: se.Message, RequestID: req.ID})
		w.Write([]byte(xml.Header))
		w.Write(data)
	}
	return se.Status
}

func (s *Server) s3ListBuckets(ctx context.Context) (any, error) {
	bs, err := s.s3.Buckets(ctx)
	if err != nil {
		return nil, err
	}
	type bucket struct {
		Name         string
		CreationDate string
	}
	out := struct {
		XMLName xml.Name `xml:"ListAllMyBucketsResult"`
		NS      string   `xml:"xmlns,attr"`
		Owner   struct{ ID, DisplayName string }
		Buckets struct {
			Bucket []bucket
		}
	}{NS: s3Namespace}
	out.Owner.ID, out.Owner.DisplayName = twinvault.Account, "twinvault"
	for _, b := range bs {
		out.Buckets.Bucket = append(out.Buckets.Bucket, bucket{b.Name, b.Created.UTC().Format("2006-01-02T15:04:05.000Z")})
	}
	return xmlS3(out)
}

func (s *Server) s3ListObjects(ctx context.Context, r *http.Request, bucket string) (any, error) {
	q := r.URL.Query()
	max := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, s3Err("InvalidArgument", http.StatusBadRequest, "max-keys must be a non-negative integer.")
		}
		max = min(n, 1000)
	}
	after := q.Get("start-after")
	if tok := q.Get("continuation-token"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, s3Err("InvalidArgument", http.StatusBadRequest, "The continuation token provided is incorrect.")
		}
		after = string(raw)
	}
	l, err := s.s3.ListObjects(ctx, bucket, q.Get("prefix"), q.Get("delimiter"), after, max)
	if err != nil {
		return nil, s3Error(err)
	}
	type content struct {
		Key, LastModified, ETag string
		Size                    int64
		StorageClass            string
	}
	type prefix struct{ Prefix string }
	out := struct {
		XMLName               xml.Name `xml:"ListBucketResult"`
		NS                    string   `xml:"xmlns,attr"`
		Name, Prefix          string
		Delimiter             string `xml:",omitempty"`
		StartAfter            string `xml:",omitempty"`
		ContinuationToken     string `xml:",omitempty"`
		NextContinuationToken string `xml:",omitempty"`
		KeyCount, MaxKeys     int
		IsTruncated           bool
		Contents              []content
		CommonPrefixes        []prefix
	}{NS: s3Namespace, Name: bucket, Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), StartAfter: q.Get("start-after"),
		ContinuationToken: q.Get("continuation-token"), MaxKeys: max}
	for _, o := range l.Objects {
		out.Contents = append(out.Contents, content{o.Key, o.Modified.UTC().Format("2006-01-02T15:04:05.000Z"), `"` + o.ETag + `"`, o.Size, "STANDARD"})
	}
	for _, p := range l.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, prefix{p})
	}
	out.KeyCount = len(out.Contents) + len(out.CommonPrefixes)
	if l.Next != "" {
		out.IsTruncated, out.NextContinuationToken = true, base64.RawURLEncoding.EncodeToString([]byte(l.Next))
	}
	return xmlS3(out)
}

// hashCheck checks a streamed body against its signed SHA-256 at the end.
type hashCheck struct {
	r    io.Reader
	h    hash.Hash
	want string
}

func (c *hashCheck) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(c.h.Sum(nil)) != c.want {
		return n, s3Err("XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return n, err
}

// s3Body is a streamed body, checked as it is read: against its chunk
// signatures or trailing checksum if sent aws-chunked, else against its
// signed SHA-256 when one was signed. It may take as long as it keeps
// coming (Timeouts.Stall).
func s3Body(ctx context.Context, r *http.Request, res *sigv4.Result) (io.Reader, error) {
	if r.ContentLength > objects.MaxPartSize {
		return nil, s3Err("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size.")
	}
	var body io.Reader = r.Body
	if req := FromContext(ctx); req != nil {
		body = req.streamIn(body)
	}
	switch {
	case res.Payload != "":
		c, err := res.Chunks(r, body)
		if err != nil {
			return nil, s3Err("InvalidRequest", http.StatusBadRequest, err.Error())
		}
		return c, nil
	case res.PayloadHash != "":
		return &hashCheck{r: body, h: sha256.New(), want: res.PayloadHash}, nil
	}
	return body, nil
}

// streamError is the S3 error of a streamed write that failed.
func streamError(ctx context.Context, err error) error {
	var se *S3Error
	if errors.As(err, &se) {
		return se
	}
	// What the body's transport said comes first: a store that failed
	// after it did only saw the request end. Short of a stall, the body
	// did not all come: the client went away or cut it.
	if req := FromContext(ctx); req != nil {
		if berr := req.bodyError(); berr != nil {
			if errors.Is(berr, os.ErrDeadlineExceeded) {
				return errRequestTimeout
			}
			return errIncompleteBody
		}
	}
	var ce *sigv4.ChunkError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errRequestTimeout
	case errors.Is(err, context.Canceled), errors.Is(err, io.ErrUnexpectedEOF):
		return errIncompleteBody
	case errors.As(err, &ce):
		return s3Err("InvalidRequest", http.StatusBadRequest, "The chunked payload is not valid: "+ce.Reason+".")
	}
	return s3Error(err)
}

var (
	// A body that stalled for longer than Timeouts.Stall.
	errRequestTimeout = s3Err("RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
	// A body that did not all come.
	errIncompleteBody = s3Err("IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
)

// putOptions are the content type, user metadata and tags a request sets.
func putOptions(h http.Header) (objects.PutOptions, error) {
	meta := map[string]string{}
	for k, v := range h {
		if m, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok && len(v) > 0 {
			meta[m] = v[0]
		}
	}
	tags, err := headerTags(h.Get("X-Amz-Tagging"))
	if err != nil {
		return objects.PutOptions{}, err
	}
	ck, err := customerKey(h, "")
	return objects.PutOptions{ContentType: h.Get("Content-Type"), Meta: meta, Tags: tags, CustomerKey: ck,
		SSE: h.Get("X-Amz-Server-Side-Encryption"), KMSKeyID: h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")}, err
}

// customerKey reads an SSE-C key from the x-amz-[copy-source-]server-side-
// encryption-customer-* headers: nil if none is given. The key is never
// logged or recorded; only its MD5 is kept.
func customerKey(h http.Header, prefix string) ([]byte, error) {
	base := "X-Amz-" + prefix + "Server-Side-Encryption-Customer-"
	alg, key, sum := h.Get(base+"Algorithm"), h.Get(base+"Key"), h.Get(base+"Key-Md5")
	if alg == "" && key == "" && sum == "" {
		return nil, nil
	}
	if alg != "AES256" {
		return nil, s3Err("InvalidArgument", http.StatusBadRequest, "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != objects.CustomerKeySize {
		return nil, s3Err("InvalidArgument", http.StatusBadRequest, "The secret key was invalid for the specified algorithm.")
	}
	if objects.KeyMD5(raw) != sum {
		return nil, s3Err("InvalidArgument", http.StatusBadRequest, "The calculated MD5 hash of the key did not match the hash that was provided.")
	}
	if prefix == "" && h.Get("X-Amz-Server-Side-Encryption") != "" {
		return nil, s3Err("InvalidArgument", http.StatusBadRequest, "Server Side Encryption with Customer provided key is incompatible with the encryption method specified.")
	}
	return raw, nil
}

// setSSE reports how an object is encrypted: with the bucket's key, as
// AES256 or aws:kms, or with the customer's (named by its MD5).
func setSSE(h http.Header, e objects.Encryption, region string) {
	switch {
	case e.CustomerKey != "":
		h.Set("x-amz-server-side-encryption-customer-algorithm", "AES256")
		h.Set("x-amz-server-side-encryption-customer-key-MD5", e.CustomerKey)
	case e.Algorithm != "":
		h.Set("x-amz-server-side-encryption", e.Algorithm)
		h.Set("x-amz-server-side-encryption-aws-kms-key-id", kmsKeyARN(region, e.KeyID))
	default:
		h.Set("x-amz-server-side-encryption", "AES256")
	}
}

func kmsKeyARN(region, id string) string {
	return "arn:aws:kms:" + region + ":" + twinvault.Account + ":key/" + id
}

// headerTags reads x-amz-tagging, a URL-encoded query of tags.
func headerTags(v string) (map[string]string, error) {
	if v == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil, s3Err("InvalidArgument", http.StatusBadRequest, "The x-amz-tagging header must be a URL-encoded query of tags.")
	}
	tags := map[string]string{}
	for k, vs := range q {
		if len(vs) > 1 {
			return nil, s3Err("InvalidTag", http.StatusBadRequest, "Cannot provide multiple Tags with the same key")
		}
		tags[k] = vs[0]
	}
	return tags, nil
}

// writeConditions reads a conditional write's headers into opt: S3 takes
// If-None-Match with "*" only, and If-Match with an ETag.
func writeConditions(h http.Header, opt *objects.PutOptions) error {
	if v := h.Get("If-None-Match"); v != "" {
		if v != "*" {
			return s3Err("NotImplemented", http.StatusNotImplemented, "A header you provided implies functionality that is not implemented: If-None-Match accepts only *.")
		}
		opt.IfNoneMatch = true
	}
	opt.IfMatch = h.Get("If-Match")
	return nil
}

func (s *Server) s3PutObject(ctx context.Context, r *http.Request, res *sigv4.Result, bucket, key string) (any, error) {
	opt, err := putOptions(r.Header)
	if err != nil {
		return nil, err
	}
	if err := writeConditions(r.Header, &opt); err != nil {
		return nil, err
	}
	body, err := s3Body(ctx, r, res)
	if err != nil {
		return nil, err
	}
	o, err := s.s3.PutObject(ctx, bucket, key, body, opt)
	if err != nil {
		return nil, streamError(ctx, err)
	}
	return &s3Response{func(w http.ResponseWriter) int {
		w.Header().Set("ETag", `"`+o.ETag+`"`)
		setSSE(w.Header(), o.Encryption, res.Region)
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}}, nil
}

// byteRange parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" range.
func byteRange(h string, size int64) (off, n int64, ok bool, err error) {
	if h == "" {
		return 0, size, false, nil
	}
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, false, nil // unsupported forms are ignored, as S3 does
	}
	a, b, _ := strings.Cut(spec, "-")
	switch {
	case a == "":
		k, err1 := strconv.ParseInt(b, 10, 64)
		if err1 != nil || k <= 0 {
			return 0, 0, false, s3Err("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable")
		}
		k = min(k, size)
		return size - k, k, true, nil
	default:
		start, err1 := strconv.ParseInt(a, 10, 64)
		end := size - 1
		if b != "" {
			e, err2 := strconv.ParseInt(b, 10, 64)
			if err2 != nil {
				return 0, size, false, nil
			}
			end = min(e, size-1)
		}
		if err1 != nil || start >= size || start > end {
			return 0, 0, false, s3Err("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable")
		}
		return start, end - start + 1, true, nil
	}
}

func (s *Server) s3GetObject(ctx context.Context, r *http.Request, bucket, key string, head bool) (any, error) {
	ck, err := customerKey(r.Header, "")
	if err != nil {
		return nil, err
	}
	o, rd, err := s.s3.GetObject(ctx, bucket, key, ck)
	if err != nil {
		return nil, s3Error(err)
	}
	if status := preconditions(r.Header, o); status != 0 {
		rd.Close()
		if status == http.StatusPreconditionFailed {
			return nil, s3Err("PreconditionFailed", status, "At least one of the pre-conditions you specified did not hold")
		}
		return &s3Response{func(w http.ResponseWriter) int {
			w.Header().Set("ETag", `"`+o.ETag+`"`)
			w.Header().Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
			w.WriteHeader(status)
			return status
		}}, nil
	}
	off, n, partial, err := byteRange(r.Header.Get("Range"), o.Size)
	if err == nil && r.URL.Query().Has("partNumber") {
		off, n, partial, err = partRange(r, o)
	}
	if err != nil {
		rd.Close()
		return nil, err
	}
	return &s3Response{func(w http.ResponseWriter) int {
		defer rd.Close()
		h := w.Header()
		h.Set("ETag", `"`+o.ETag+`"`)
		h.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
		h.Set("Accept-Ranges", "bytes")
		setSSE(h, o.Encryption, FromContext(ctx).Region)
		if len(o.Parts) > 0 {
			h.Set("x-amz-mp-parts-count", strconv.Itoa(len(o.Parts)))
		}
		if len(o.Tags) > 0 {
			h.Set("x-amz-tagging-count", strconv.Itoa(len(o.Tags)))
		}
		ct := o.ContentType
		if ct == "" {
			ct = "binary/octet-stream"
		}
		h.Set("Content-Type", ct)
		for k, v := range o.Meta {
			h.Set("x-amz-meta-"+k, v)
		}
		h.Set("Content-Length", strconv.FormatInt(n, 10))
		status := http.StatusOK
		if partial {
			status = http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, o.Size))
		}
		w.WriteHeader(status)
		if !head {
			// Reads of whole segments open each once.
			var out io.Writer = w
			if req := FromContext(ctx); req != nil {
				out = req.streamOut(w) // as long as it keeps moving
			}
			io.CopyBuffer(struct{ io.Writer }{out}, io.NewSectionReader(rd, off, n), make([]byte, objects.ReadBuffer))
		}
		return status
	}}, nil
}

// partRange is the span of the part a GET or HEAD names by partNumber: a
// single-part object has part 1 only, the whole of it.
func partRange(r *http.Request, o *objects.Object) (off, n int64, partial bool, err error) {
	if r.Header.Get("Range") != "" {
		return 0, 0, false, s3Err("InvalidRequest", http.StatusBadRequest, "Cannot specify both Range header and partNumber query parameter.")
	}
	num, err := partNumber(r)
	if err != nil {
		return 0, 0, false, err
	}
	if len(o.Parts) == 0 {
		if num != 1 {
			return 0, 0, false, s3Err("InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable")
		}
		return 0, o.Size, false, nil
	}
	if num > len(o.Parts) {
		return 0, 0, false, s3Err("InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable")
	}
	for _, p := range o.Parts[:num-1] {
		off += p.Size
	}
	return off, o.Parts[num-1].Size, true, nil
}

// preconditions evaluates a read's conditional headers as S3 does (RFC
// 7232 with S3's precedence): 412 or 304 when the read should not happen,
// else 0.
func preconditions(h http.Header, o *objects.Object) int {
	etag := `"` + o.ETag + `"`
	matches := func(list string) bool {
		for _, t := range strings.Split(list, ",") {
			if t = strings.TrimSpace(t); t == "*" || t == etag || t == o.ETag {
				return true
			}
		}
		return false
	}
	modified := o.Modified.Truncate(time.Second)
	since := func(name string) (time.Time, bool) {
		t, err := http.ParseTime(h.Get(name))
		return t, err == nil
	}
	if v := h.Get("If-Match"); v != "" {
		if !matches(v) {
			return http.StatusPreconditionFailed
		}
	} else if t, ok := since("If-Unmodified-Since"); ok && modified.After(t) {
		return http.StatusPreconditionFailed
	}
	if v := h.Get("If-None-Match"); v != "" {
		if matches(v) {
			return http.StatusNotModified
		}
	} else if t, ok := since("If-Modified-Since"); ok && !modified.After(t) {
		return http.StatusNotModified
	}
	return 0
}

// Encryption is always on: every object is sealed with its bucket's keys
// (AES-256). PutBucketEncryption chooses how objects are reported, AES256
// or aws:kms with the bucket's own key (its KMS key ID), and nothing that
// would turn encryption off.
func (s *Server) s3BucketConfig(ctx context.Context, op string, body []byte, bucket, region string) (any, error) {
	switch op {
	case "GetBucketLocation":
		return xmlS3(struct {
			XMLName xml.Name `xml:"LocationConstraint"`
			NS      string   `xml:"xmlns,attr"`
			Region  string   `xml:",chardata"`
		}{NS: s3Namespace, Region: region})
	case "DeleteBucketEncryption":
		return nil, s3Err("InvalidRequest", http.StatusBadRequest, "Default encryption cannot be removed: every object is encrypted.")
	case "PutBucketEncryption":
		var cfg struct {
			Rules []struct {
				Default struct {
					Algorithm string `xml:"SSEAlgorithm"`
					KeyID     string `xml:"KMSMasterKeyID"`
				} `xml:"ApplyServerSideEncryptionByDefault"`
			} `xml:"Rule"`
		}
		if err := xml.Unmarshal(body, &cfg); err != nil || len(cfg.Rules) != 1 {
			return nil, s3Err("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema.")
		}
		d := cfg.Rules[0].Default
		if d.Algorithm == "" {
			return nil, s3Err("MalformedXML", http.StatusBadRequest, "The encryption configuration names no SSEAlgorithm.")
		}
		if err := s.s3.SetBucketEncryption(ctx, bucket, d.Algorithm, d.KeyID); err != nil {
			return nil, s3Error(err)
		}
		return emptyS3(http.StatusOK), nil
	}
	b, err := s.s3.Bucket(ctx, bucket)
	if err != nil {
		return nil, s3Error(err)
	}
	type rule struct {
		Default struct {
			SSEAlgorithm   string
			KMSMasterKeyID string `xml:",omitempty"`
		} `xml:"ApplyServerSideEncryptionByDefault"`
		BucketKeyEnabled bool
	}
	out := struct {
		XMLName xml.Name `xml:"ServerSideEncryptionConfiguration"`
		NS      string   `xml:"xmlns,attr"`
		Rule    rule
	}{NS: s3Namespace}
	out.Rule.Default.SSEAlgorithm = "AES256"
	if b.Default != "" {
		out.Rule.Default.SSEAlgorithm, out.Rule.Default.KMSMasterKeyID = b.Default, kmsKeyARN(region, b.KeyID())
	}
	return xmlS3(out)
}

// s3DeleteObjects deletes the keys a Delete document lists, reporting each.
func (s *Server) s3DeleteObjects(ctx context.Context, bucket string, body []byte) (any, error) {
	var in struct {
		Quiet   bool
		Objects []struct{ Key string } `xml:"Object"`
	}
	if err := xml.Unmarshal(body, &in); err != nil || len(in.Objects) == 0 || len(in.Objects) > 1000 {
		return nil, s3Err("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	type deleted struct{ Key string }
	type failed struct{ Key, Code, Message string }
	out := struct {
		XMLName xml.Name `xml:"DeleteResult"`
		NS      string   `xml:"xmlns,attr"`
		Deleted []deleted
		Error   []failed
	}{NS: s3Namespace}
	for _, o := range in.Objects {
		if err := s.s3.DeleteObject(ctx, bucket, o.Key); err != nil {
			var se *S3Error
			if errors.As(s3Error(err), &se) {
				out.Error = append(out.Error, failed{o.Key, se.Code, se.Message})
				continue
			}
			return nil, err
		}
		if !in.Quiet {
			out.Deleted = append(out.Deleted, deleted{o.Key})
		}
	}
	return xmlS3(out)
}

// s3CopyObject copies an object, re-sealed under the destination's name:
// the caller needs s3:GetObject on the source as well.
func (s *Server) s3CopyObject(ctx context.Context, r *http.Request, req *Request, bucket, key string) (any, error) {
	from, rd, err := s.copySource(ctx, r, req)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	ck, err := customerKey(r.Header, "")
	if err != nil {
		return nil, err
	}
	opt := objects.PutOptions{ContentType: from.ContentType, Meta: from.Meta, Tags: from.Tags, CustomerKey: ck}
	if r.Header.Get("X-Amz-Metadata-Directive") == "REPLACE" {
		tags := opt.Tags
		if opt, err = putOptions(r.Header); err != nil {
			return nil, err
		}
		opt.Tags = tags
	}
	if r.Header.Get("X-Amz-Tagging-Directive") == "REPLACE" {
		if opt.Tags, err = headerTags(r.Header.Get("X-Amz-Tagging")); err != nil {
			return nil, err
		}
	}
	// A copy of up to 5 GiB may outlast the write timeout: it moves the
	// deadlines on as it goes.
	o, err := s.s3.PutObject(ctx, bucket, key, req.keepMoving(io.NewSectionReader(rd, 0, rd.Size())), opt)
	if err != nil {
		return nil, s3Error(err)
	}
	return sseXML(struct {
		XMLName      xml.Name `xml:"CopyObjectResult"`
		NS           string   `xml:"xmlns,attr"`
		ETag         string
		LastModified string
	}{NS: s3Namespace, ETag: `"` + o.ETag + `"`, LastModified: s3Time(o.Modified)}, o.Encryption, req.Region)
}

// sseXML is an XML answer that reports server-side encryption.
func sseXML(v any, e objects.Encryption, region string) (any, error) {
	resp, err := xmlS3(v)
	if err != nil {
		return nil, err
	}
	inner := resp.write
	resp.write = func(w http.ResponseWriter) int {
		setSSE(w.Header(), e, region)
		return inner(w)
	}
	return resp, nil
}

func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// copySource opens the object X-Amz-Copy-Source names, once the caller is
// found allowed to read it.
func (s *Server) copySource(ctx context.Context, r *http.Request, req *Request) (*objects.Object, *objects.Reader, error) {
	src, err := url.PathUnescape(strings.TrimPrefix(r.Header.Get("X-Amz-Copy-Source"), "/"))
	if err != nil {
		return nil, nil, s3Err("InvalidArgument", http.StatusBadRequest, "The copy source is not valid.")
	}
	src, _, _ = strings.Cut(src, "?versionId=")
	sb, sk, ok := strings.Cut(src, "/")
	if !ok || sb == "" || sk == "" {
		return nil, nil, s3Err("InvalidArgument", http.StatusBadRequest, "The copy source must name a bucket and a key.")
	}
	call := &Call{Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::" + sb + "/" + sk}, Region: req.Region, UserAgent: r.UserAgent(), Secure: r.TLS != nil}
	if err := s.authorize(ctx, req, call, "AccessDenied"); err != nil {
		var te *twinvault.Error
		if errors.As(err, &te) {
			return nil, nil, s3Err("AccessDenied", http.StatusForbidden, te.Message)
		}
		return nil, nil, err
	}
	ck, err := customerKey(r.Header, "Copy-Source-")
	if err != nil {
		return nil, nil, err
	}
	from, rd, err := s.s3.GetObject(ctx, sb, sk, ck)
	if err != nil {
		return nil, nil, s3Error(err)
	}
	// The x-amz-copy-source-if-* conditions: any that fails fails the copy.
	cond := http.Header{}
	for _, h := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if v := r.Header.Get("X-Amz-Copy-Source-" + h); v != "" {
			cond.Set(h, v)
		}
	}
	if preconditions(cond, from) != 0 {
		rd.Close()
		return nil, nil, s3Err("PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	}
	return from, rd, nil
}

type s3Tag struct{ Key, Value string }

type s3Tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	TagSet  struct {
		Tag []s3Tag
	}
}

// s3Tagging serves the tag sets of buckets and objects.
func (s *Server) s3Tagging(ctx context.Context, op string, body []byte, bucket, key string) (any, error) {
	var tags map[string]string
	switch op {
	case "PutBucketTagging", "PutObjectTagging":
		var in s3Tagging
		if err := xml.Unmarshal(body, &in); err != nil {
			return nil, s3Err("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema.")
		}
		tags = map[string]string{}
		for _, t := range in.TagSet.Tag {
			if _, dup := tags[t.Key]; dup {
				return nil, s3Err("InvalidTag", http.StatusBadRequest, "Cannot provide multiple Tags with the same key")
			}
			tags[t.Key] = t.Value
		}
	}
	var err error
	switch op {
	case "GetBucketTagging":
		var b *objects.Bucket
		if b, err = s.s3.Bucket(ctx, bucket); err == nil && len(b.Tags) == 0 {
			return nil, s3Err("NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist")
		}
		if err == nil {
			tags = b.Tags
		}
	case "GetObjectTagging":
		var o *objects.Object
		if o, err = s.s3.ObjectInfo(ctx, bucket, key); err == nil {
			tags = o.Tags
		}
	case "PutBucketTagging", "DeleteBucketTagging":
		err = s.s3.SetBucketTags(ctx, bucket, tags)
	case "PutObjectTagging", "DeleteObjectTagging":
		err = s.s3.SetObjectTags(ctx, bucket, key, tags)
	}
	if err != nil {
		return nil, s3Error(err)
	}
	switch op {
	case "DeleteBucketTagging", "DeleteObjectTagging":
		return emptyS3(http.StatusNoContent), nil
	case "PutBucketTagging", "PutObjectTagging":
		return emptyS3(http.StatusOK), nil
	}
	out := s3Tagging{NS: s3Namespace}
	out.TagSet.Tag = []s3Tag{}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out.TagSet.Tag = append(out.TagSet.Tag, s3Tag{k, tags[k]})
	}
	return xmlS3(out)
}
