package api

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/auth/sigv4"
	"github.com/twinvault/twinvault/objects"
)

// S3's multipart upload operations. A part streams into the object store
// as it arrives, like a PutObject body.

func (s *Server) s3CreateUpload(ctx context.Context, r *http.Request, bucket, key string) (any, error) {
	opt, err := putOptions(r.Header)
	if err != nil {
		return nil, err
	}
	u, err := s.s3.CreateUpload(ctx, bucket, key, opt)
	if err != nil {
		return nil, s3Error(err)
	}
	return sseXML(struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		NS       string   `xml:"xmlns,attr"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}{NS: s3Namespace, Bucket: bucket, Key: key, UploadID: u.ID}, u.Encryption, FromContext(ctx).Region)
}

// partNumber reads the partNumber parameter.
func partNumber(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.URL.Query().Get("partNumber"))
	if err != nil || n < 1 || n > objects.MaxParts {
		return 0, s3Err("InvalidArgument", http.StatusBadRequest, "Part number must be an integer between 1 and 10000, inclusive.")
	}
	return n, nil
}

func partDone(etag string, e objects.Encryption, region string) *s3Response {
	return &s3Response{func(w http.ResponseWriter) int {
		w.Header().Set("ETag", `"`+etag+`"`)
		setSSE(w.Header(), e, region)
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}}
}

// partArgs reads what every part upload names: its number, and the
// customer key of an SSE-C upload.
func partArgs(r *http.Request) (n int, ck []byte, err error) {
	if n, err = partNumber(r); err != nil {
		return 0, nil, err
	}
	ck, err = customerKey(r.Header, "")
	return n, ck, err
}

func (s *Server) s3UploadPart(ctx context.Context, r *http.Request, res *sigv4.Result, bucket, key string) (any, error) {
	n, ck, err := partArgs(r)
	if err != nil {
		return nil, err
	}
	body, err := s3Body(ctx, r, res)
	if err != nil {
		return nil, err
	}
	p, err := s.s3.UploadPart(ctx, bucket, key, r.URL.Query().Get("uploadId"), n, body, ck)
	if err != nil {
		return nil, streamError(ctx, err)
	}
	return partDone(p.ETag, p.Upload.Encryption, res.Region), nil
}

// s3UploadPartCopy makes a part of an object's bytes, all of them or the
// x-amz-copy-source-range.
func (s *Server) s3UploadPartCopy(ctx context.Context, r *http.Request, req *Request, bucket, key string) (any, error) {
	n, ck, err := partArgs(r)
	if err != nil {
		return nil, err
	}
	_, rd, err := s.copySource(ctx, r, req)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	off, size := int64(0), rd.Size()
	if h := r.Header.Get("X-Amz-Copy-Source-Range"); h != "" {
		var partial bool
		off, size, partial, err = byteRange(h, rd.Size())
		if err != nil || !partial || h != "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+size-1, 10) {
			return nil, s3Err("InvalidArgument", http.StatusBadRequest, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy, within the source object.")
		}
	}
	// A copy of up to 5 GiB may outlast the write timeout: it moves the
	// deadlines on as it goes.
	p, err := s.s3.UploadPart(ctx, bucket, key, r.URL.Query().Get("uploadId"), n, req.keepMoving(io.NewSectionReader(rd, off, size)), ck)
	if err != nil {
		return nil, s3Error(err)
	}
	return sseXML(struct {
		XMLName      xml.Name `xml:"CopyPartResult"`
		NS           string   `xml:"xmlns,attr"`
		ETag         string
		LastModified string
	}{NS: s3Namespace, ETag: `"` + p.ETag + `"`, LastModified: s3Time(p.Modified)}, p.Upload.Encryption, req.Region)
}

func (s *Server) s3CompleteUpload(ctx context.Context, r *http.Request, body []byte, bucket, key string) (any, error) {
	var in struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.Unmarshal(body, &in); err != nil {
		return nil, s3Err("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	list := make([]objects.CompletedPart, len(in.Parts))
	for i, p := range in.Parts {
		list[i] = objects.CompletedPart{Number: p.PartNumber, ETag: p.ETag}
	}
	var cond objects.PutOptions
	if err := writeConditions(r.Header, &cond); err != nil {
		return nil, err
	}
	o, err := s.s3.CompleteUpload(ctx, bucket, key, r.URL.Query().Get("uploadId"), list, cond)
	if err != nil {
		return nil, s3Error(err)
	}
	return sseXML(struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		NS       string   `xml:"xmlns,attr"`
		Location string
		Bucket   string
		Key      string
		ETag     string
	}{NS: s3Namespace, Location: "/" + bucket + "/" + key, Bucket: bucket, Key: key, ETag: `"` + o.ETag + `"`}, o.Encryption, FromContext(ctx).Region)
}

// maxParam reads a page size parameter: at most 1000, as S3 caps them.
func maxParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, s3Err("InvalidArgument", http.StatusBadRequest, name+" must be a non-negative integer.")
	}
	return min(n, 1000), nil
}

type s3Owner struct{ ID, DisplayName string }

var owner = s3Owner{twinvault.Account, "twinvault"}

func (s *Server) s3ListParts(ctx context.Context, r *http.Request, bucket, key string) (any, error) {
	q := r.URL.Query()
	max, err := maxParam(r, "max-parts")
	if err != nil {
		return nil, err
	}
	marker := 0
	if v := q.Get("part-number-marker"); v != "" {
		if marker, err = strconv.Atoi(v); err != nil || marker < 0 {
			return nil, s3Err("InvalidArgument", http.StatusBadRequest, "part-number-marker must be a non-negative integer.")
		}
	}
	l, err := s.s3.ListParts(ctx, bucket, key, q.Get("uploadId"), marker, max)
	if err != nil {
		return nil, s3Error(err)
	}
	type part struct {
		PartNumber   int
		LastModified string
		ETag         string
		Size         int64
	}
	out := struct {
		XMLName              xml.Name `xml:"ListPartsResult"`
		NS                   string   `xml:"xmlns,attr"`
		Bucket, Key          string
		UploadID             string `xml:"UploadId"`
		Initiator, Owner     s3Owner
		StorageClass         string
		PartNumberMarker     int
		NextPartNumberMarker int
		MaxParts             int
		IsTruncated          bool
		Part                 []part
	}{NS: s3Namespace, Bucket: bucket, Key: key, UploadID: l.Upload.ID, Initiator: owner, Owner: owner, StorageClass: "STANDARD",
		PartNumberMarker: marker, NextPartNumberMarker: l.Next, MaxParts: max, IsTruncated: l.Next != 0}
	for _, p := range l.Parts {
		out.Part = append(out.Part, part{p.Number, s3Time(p.Modified), `"` + p.ETag + `"`, p.Size})
		if l.Next == 0 {
			out.NextPartNumberMarker = p.Number
		}
	}
	return xmlS3(out)
}

func (s *Server) s3ListUploads(ctx context.Context, r *http.Request, bucket string) (any, error) {
	q := r.URL.Query()
	max, err := maxParam(r, "max-uploads")
	if err != nil {
		return nil, err
	}
	l, err := s.s3.ListUploads(ctx, bucket, q.Get("prefix"), q.Get("delimiter"), q.Get("key-marker"), q.Get("upload-id-marker"), max)
	if err != nil {
		return nil, s3Error(err)
	}
	type upload struct {
		Key              string
		UploadID         string `xml:"UploadId"`
		Initiator, Owner s3Owner
		StorageClass     string
		Initiated        string
	}
	type prefix struct{ Prefix string }
	out := struct {
		XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
		NS                 string   `xml:"xmlns,attr"`
		Bucket             string
		KeyMarker          string
		UploadIDMarker     string `xml:"UploadIdMarker"`
		NextKeyMarker      string `xml:",omitempty"`
		NextUploadIDMarker string `xml:"NextUploadIdMarker,omitempty"`
		Prefix             string
		Delimiter          string `xml:",omitempty"`
		MaxUploads         int
		IsTruncated        bool
		Upload             []upload
		CommonPrefixes     []prefix
	}{NS: s3Namespace, Bucket: bucket, KeyMarker: q.Get("key-marker"), UploadIDMarker: q.Get("upload-id-marker"),
		NextKeyMarker: l.NextKey, NextUploadIDMarker: l.NextID, Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"),
		MaxUploads: max, IsTruncated: l.NextKey != ""}
	for _, u := range l.Uploads {
		out.Upload = append(out.Upload, upload{u.Key, u.ID, owner, owner, "STANDARD", s3Time(u.Initiated)})
	}
	for _, p := range l.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, prefix{p})
	}
	return xmlS3(out)
}
