package audit

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// Every hour the log seals a digest, in CloudTrail's digest-file form: the
// hash of the hour's segment (its events, one JSON record a line), the hash
// and signature of the previous digest, and its own RSA signature
// (SHA256withRSA, RSA-3072, FIPS-approved) over CloudTrail's string to sign:
//
//	digestEndTime \n digestKey \n hex(SHA-256(digest JSON)) \n previousDigestSignature (or "null")
//
// A digest is sealed for every hour, with or without events, so a gap in
// the chain is itself a finding. Digests sit beside the entries, under
// "audit/d/" and the hour's start (Unix seconds, big-endian).

// Digest is one hour's digest, as CloudTrail writes it.
type Digest struct {
	AWSAccountID                string    `json:"awsAccountId"`
	DigestStartTime             string    `json:"digestStartTime"`
	DigestEndTime               string    `json:"digestEndTime"`
	DigestS3Bucket              string    `json:"digestS3Bucket"`
	DigestS3Object              string    `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string    `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string    `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string   `json:"newestEventTime"`
	OldestEventTime             *string   `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string   `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string   `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string   `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string   `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string   `json:"previousDigestSignature"`
	LogFiles                    []LogFile `json:"logFiles"`
}

// LogFile is the hour's segment: entries First..Last.
type LogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
	First           uint64 `json:"firstEntry"`
	Last            uint64 `json:"lastEntry"`
}

// sealedDigest is a stored digest with its signature, as CloudTrail keeps
// the signature in the digest object's metadata.
type sealedDigest struct {
	Digest    json.RawMessage `json:"digest"`
	Signature string          `json:"signature"` // hex
}

const bucket = "twinvault-audit"

var (
	digestPrefix  = []byte("audit/d/")
	rsaKeyKey     = []byte("audit/rsa")
	sealedHourKey = []byte("audit/sealed") // the start of the next hour to seal
)

func digestKey(hour time.Time) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), digestPrefix...), uint64(hour.Unix()))
}

func digestObject(hour time.Time) string {
	return fmt.Sprintf("AWSLogs/%s/CloudTrail-Digest/%s_CloudTrail-Digest_%s.json", twinvault.Account, twinvault.Account, hour.UTC().Format("20060102T150405Z"))
}

// rsaKey returns the digest signing key, made on first use.
func (l *Log) rsaKey(ctx context.Context) (*rsa.PrivateKey, error) {
	if l.digestKey != nil {
		return l.digestKey, nil
	}
	sys := l.b.System()
	raw, err := sys.Get(ctx, rsaKeyKey)
	if errors.Is(err, kv.ErrNotFound) {
		k, err := rsa.GenerateKey(rand.Reader, 3072)
		if err != nil {
			return nil, err
		}
		made, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		// Kept only if no other node made one meanwhile: every digest is
		// signed by the one key stored.
		err = l.b.Update(ctx, func(tx *barrier.Tx) error {
			raw, err = tx.Get(sys, rsaKeyKey)
			if errors.Is(err, kv.ErrNotFound) {
				raw = made
				return tx.Set(sys, rsaKeyKey, made)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("audit: digest key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("audit: the digest key is not RSA")
	}
	l.digestKey = rk
	return rk, nil
}

// DigestPublicKey is the DER (PKCS#1) public key of the digests, base64,
// and its fingerprint, as CloudTrail's ListPublicKeys gives them.
func (l *Log) DigestPublicKey(ctx context.Context) (value, fingerprint string, err error) {
	k, err := l.rsaKey(ctx)
	if err != nil {
		return "", "", err
	}
	der := x509.MarshalPKCS1PublicKey(&k.PublicKey)
	return base64.StdEncoding.EncodeToString(der), fingerprintOf(der), nil
}

func fingerprintOf(der []byte) string {
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:16])
}

func stringToSign(d *Digest, body []byte, key string) []byte {
	h := sha256.Sum256(body)
	prev := "null"
	if d.PreviousDigestSignature != nil {
		prev = *d.PreviousDigestSignature
	}
	return []byte(d.DigestEndTime + "\n" + bucket + "/" + key + "\n" + hex.EncodeToString(h[:]) + "\n" + prev)
}

// SealDigests seals the digest of every whole hour before now not sealed
// yet. The writer calls it before each batch, so digests follow the log
// without a timer; Verify seals what a stopped server left.
func (l *Log) SealDigests(ctx context.Context, now time.Time) error {
	return l.sealDigests(ctx, now, 0)
}

var (
	errSealedElsewhere = errors.New("audit: the hour was sealed by another node")
	errLateEntry       = errors.New("audit: an entry of the hour was written while its digest was made")
)

// seal stores the digest of hour, made from the entries before seq built
// (the head's when the making began), once it has checked in the same
// transaction that the hour is still unsealed and that no entry written
// since belongs to it (another node's, with a clock a little behind). It moves
// the head's time to the hour's end, so no later entry lands in it.
func (l *Log) seal(ctx context.Context, hour time.Time, built uint64, sealed []byte) error {
	sys := l.b.System()
	end := hour.Add(time.Hour)
	return l.b.Update(ctx, func(tx *barrier.Tx) error {
		raw, err := tx.Get(sys, sealedHourKey)
		if err == nil && len(raw) == 8 && int64(binary.BigEndian.Uint64(raw)) > hour.Unix() {
			return errSealedElsewhere
		}
		if err != nil && !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		late := false
		err = tx.Scan(sys, kv.Range{Start: entryKey(built), End: kv.PrefixEnd(entryPrefix), Limit: 1}, func(_, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("audit: decode entry: %w", err)
			}
			late = e.Time.Before(end)
			return kv.Stop
		})
		if err != nil {
			return err
		}
		if late {
			return errLateEntry
		}
		h, err := readHead(func(k []byte) ([]byte, error) { return tx.Get(sys, k) })
		if err != nil {
			return err
		}
		if h.Time.Before(end) {
			h.Time = end
			if err := putHead(tx, sys, *h); err != nil {
				return err
			}
		}
		if err := tx.Set(sys, digestKey(hour), sealed); err != nil {
			return err
		}
		return tx.Set(sys, sealedHourKey, binary.BigEndian.AppendUint64(nil, uint64(end.Unix())))
	})
}

func (l *Log) sealDigests(ctx context.Context, now time.Time, attempt int) error {
	sys := l.b.System()
	built, err := readHead(func(k []byte) ([]byte, error) { return sys.Get(ctx, k) })
	if err != nil {
		return err
	}
	next := time.Time{}
	if raw, err := sys.Get(ctx, sealedHourKey); err == nil && len(raw) == 8 {
		next = time.Unix(int64(binary.BigEndian.Uint64(raw)), 0).UTC()
	} else if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return err
	}
	if next.IsZero() {
		// The first hour is the one of the first entry.
		err := l.Scan(ctx, 0, false, func(e *Entry) error {
			next = e.Time.UTC().Truncate(time.Hour)
			return kv.Stop
		})
		if err != nil || next.IsZero() {
			return err
		}
	}
	current := now.UTC().Truncate(time.Hour)
	if !next.Before(current) {
		return nil
	}
	key, err := l.rsaKey(ctx)
	if err != nil {
		return err
	}
	prev, err := l.lastDigest(ctx, next)
	if err != nil {
		return err
	}
	from := uint64(0) // where the next hour's entries begin
	if prev != nil {
		var pd Digest
		if err := json.Unmarshal(prev.Digest, &pd); err != nil {
			return err
		}
		for _, lf := range pd.LogFiles {
			from = lf.Last + 1
		}
	}
	for hour := next; hour.Before(current); hour = hour.Add(time.Hour) {
		d, err := l.buildDigest(ctx, hour, prev, key, from)
		if err != nil {
			return err
		}
		for _, lf := range d.LogFiles {
			from = lf.Last + 1
		}
		body, err := json.Marshal(d)
		if err != nil {
			return err
		}
		obj := digestObject(hour)
		h := sha256.Sum256(stringToSign(d, body, obj))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
		if err != nil {
			return err
		}
		sealed, err := json.Marshal(sealedDigest{Digest: body, Signature: hex.EncodeToString(sig)})
		if err != nil {
			return err
		}
		switch err := l.seal(ctx, hour, built.Seq, sealed); {
		case errors.Is(err, errSealedElsewhere):
			return nil // another node is ahead; it seals the rest
		case errors.Is(err, errLateEntry):
			if attempt < 5 {
				return l.sealDigests(ctx, now, attempt+1)
			}
			return nil // a later seal catches up
		case err != nil:
			return err
		}
		prev = &sealedDigest{Digest: body, Signature: hex.EncodeToString(sig)}
	}
	l.mu.Lock()
	retention := l.retention
	l.mu.Unlock()
	if retention > 0 {
		if _, err := l.Prune(ctx, now.Add(-retention)); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
	}
	return nil
}

func (l *Log) lastDigest(ctx context.Context, before time.Time) (*sealedDigest, error) {
	var last *sealedDigest
	err := l.b.Read(ctx, func(tx *barrier.Tx) error {
		return tx.Scan(l.b.System(), kv.Range{Start: digestPrefix, End: digestKey(before), Reverse: true}, func(_, v []byte) error {
			var s sealedDigest
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			last = &s
			return kv.Stop
		})
	})
	return last, err
}

// segment hashes the entries of one hour, looking from entry from on,
// and finds their range.
func (l *Log) segment(ctx context.Context, hour time.Time, from uint64) (*LogFile, error) {
	end := hour.Add(time.Hour)
	h := sha256.New()
	var lf *LogFile
	err := l.Scan(ctx, from, false, func(e *Entry) error {
		t := e.Time.UTC()
		if t.Before(hour) {
			return nil
		}
		if !t.Before(end) {
			return kv.Stop
		}
		if lf == nil {
			lf = &LogFile{S3Bucket: bucket, S3Object: fmt.Sprintf("AWSLogs/%s/CloudTrail/%s.jsonl", twinvault.Account, hour.Format("20060102T150405Z")),
				HashAlgorithm: "SHA-256", First: e.Seq, OldestEventTime: Time(t)}
		}
		lf.Last, lf.NewestEventTime = e.Seq, Time(t)
		h.Write(e.Hash) // the segment's content, pinned by the chain
		h.Write([]byte{'\n'})
		return nil
	})
	if lf != nil {
		lf.HashValue = hex.EncodeToString(h.Sum(nil))
	}
	return lf, err
}

func (l *Log) buildDigest(ctx context.Context, hour time.Time, prev *sealedDigest, key *rsa.PrivateKey, from uint64) (*Digest, error) {
	der := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	d := &Digest{AWSAccountID: twinvault.Account, DigestStartTime: Time(hour), DigestEndTime: Time(hour.Add(time.Hour)),
		DigestS3Bucket: bucket, DigestS3Object: digestObject(hour), DigestPublicKeyFingerprint: fingerprintOf(der),
		DigestSignatureAlgorithm: "SHA256withRSA", LogFiles: []LogFile{}}
	if prev != nil {
		var pd Digest
		if err := json.Unmarshal(prev.Digest, &pd); err != nil {
			return nil, err
		}
		h := sha256.Sum256(prev.Digest)
		hv, alg, b, sig := hex.EncodeToString(h[:]), "SHA-256", bucket, prev.Signature
		d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &b, &pd.DigestS3Object
		d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = &hv, &alg, &sig
	}
	lf, err := l.segment(ctx, hour, from)
	if err != nil {
		return nil, err
	}
	if lf != nil {
		d.LogFiles = append(d.LogFiles, *lf)
		d.OldestEventTime, d.NewestEventTime = &lf.OldestEventTime, &lf.NewestEventTime
	}
	return d, nil
}

// VerifyDigests checks the digest chain: every hour from the first sealed
// to the last present, each signature valid, each digest naming the one
// before it by hash and signature, and each segment's hash matching the
// entries it covers.
func (l *Log) VerifyDigests(ctx context.Context) (digests int, problems []Problem, err error) {
	value, _, err := l.DigestPublicKey(ctx)
	if err != nil {
		return 0, nil, err
	}
	der, _ := base64.StdEncoding.DecodeString(value)
	pub, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return 0, nil, err
	}
	var prev *sealedDigest
	var prevHour time.Time
	report := func(hour time.Time, format string, args ...any) {
		problems = append(problems, Problem{Seq: uint64(hour.Unix()), Digest: true, Reason: "digest " + digestObject(hour) + ": " + fmt.Sprintf(format, args...)})
	}
	err = l.b.Read(ctx, func(tx *barrier.Tx) error {
		b, err := l.readBase(tx)
		if err != nil {
			return err
		}
		err = tx.ScanChecked(l.b.System(), kv.Prefix(digestPrefix), func(k, v []byte, oerr error) error {
			digests++
			if len(k) != len(digestPrefix)+8 {
				return nil
			}
			hour := time.Unix(int64(binary.BigEndian.Uint64(k[len(digestPrefix):])), 0).UTC()
			if !prevHour.IsZero() && !hour.Equal(prevHour.Add(time.Hour)) {
				report(hour, "the digests of the hours from %s are missing", Time(prevHour.Add(time.Hour)))
			}
			prevHour = hour
			if oerr != nil {
				report(hour, "does not decrypt: it was changed or moved")
				prev = nil
				return nil
			}
			var s sealedDigest
			var d Digest
			if json.Unmarshal(v, &s) != nil || json.Unmarshal(s.Digest, &d) != nil {
				report(hour, "invalid format")
				prev = nil
				return nil
			}
			if d.DigestS3Object != digestObject(hour) {
				report(hour, "has been moved from its original location")
			}
			sig, _ := hex.DecodeString(s.Signature)
			h := sha256.Sum256(stringToSign(&d, s.Digest, digestObject(hour)))
			if rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) != nil {
				report(hour, "signature verification failed")
			}
			if prev != nil {
				ph := sha256.Sum256(prev.Digest)
				if d.PreviousDigestHashValue == nil || *d.PreviousDigestHashValue != hex.EncodeToString(ph[:]) ||
					d.PreviousDigestSignature == nil || *d.PreviousDigestSignature != prev.Signature {
					report(hour, "does not name the digest before it: the chain is broken")
				}
			}
			for _, lf := range d.LogFiles {
				if lf.Last < b.Seq {
					continue // pruned by retention
				}
				got, err := l.segment(ctx, hour, lf.First)
				if err != nil {
					return err
				}
				if got == nil || got.HashValue != lf.HashValue || got.First != lf.First || got.Last != lf.Last {
					report(hour, "its segment (entries %d to %d): hash value doesn't match", lf.First, lf.Last)
				}
			}
			prev = &s
			return nil
		})
		if err != nil {
			return err
		}
		// The marker says which hours were sealed: digests missing at the
		// end leave no gap between the ones that remain.
		raw, err := tx.Get(l.b.System(), sealedHourKey)
		if errors.Is(err, kv.ErrNotFound) {
			if !prevHour.IsZero() {
				report(prevHour, "the record of the hours sealed is missing")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if len(raw) == 8 {
			last := time.Unix(int64(binary.BigEndian.Uint64(raw)), 0).UTC().Add(-time.Hour)
			if !prevHour.IsZero() && prevHour.Before(last) {
				report(last, "the digests of the hours from %s are missing", Time(prevHour.Add(time.Hour)))
			} else if prevHour.IsZero() && digests == 0 {
				report(last, "every digest is missing")
			}
		}
		return nil
	})
	return digests, problems, err
}

// InRange keeps the problems of entries and hourly digests whose time lies
// in [from, to) (a zero bound is open) and counts the others. A problem
// whose entry cannot be read to tell its time is kept.
func (l *Log) InRange(ctx context.Context, problems []Problem, from, to time.Time) (kept []Problem, outside int, err error) {
	// Entries that do not open or decode (the tampered ones among them)
	// have no time here.
	times := map[uint64]time.Time{}
	err = l.b.Read(ctx, func(tx *barrier.Tx) error {
		return tx.ScanChecked(l.b.System(), kv.Prefix(entryPrefix), func(_, val []byte, err error) error {
			var e Entry
			if err == nil && json.Unmarshal(val, &e) == nil {
				times[e.Seq] = e.Time
			}
			return nil
		})
	})
	if err != nil {
		return nil, 0, err
	}
	seqs := make([]uint64, 0, len(times))
	for q := range times {
		seqs = append(seqs, q)
	}
	slices.Sort(seqs)
	// A gap is reported at what follows it: a problem covers the time from
	// the entry (or digest) before it to its own, and is kept when that
	// span meets the range. A digest's predecessor is not known here, so a
	// digest problem is kept from the range's start on.
	for _, p := range problems {
		keep := true
		if p.Digest {
			keep = from.IsZero() || time.Unix(int64(p.Seq), 0).Add(time.Hour).After(from)
		} else if t1, ok := times[p.Seq]; ok {
			var t0 time.Time // the beginning, when no entry comes before
			if i, _ := slices.BinarySearch(seqs, p.Seq); i > 0 {
				t0 = times[seqs[i-1]]
			}
			keep = (from.IsZero() || !t1.Before(from)) && (to.IsZero() || t0.Before(to))
		}
		if keep {
			kept = append(kept, p)
		} else {
			outside++
		}
	}
	return kept, outside, nil
}
