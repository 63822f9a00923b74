package node

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/audit"
)

// cloudTrailTargets prefix the X-Amz-Target of CloudTrail's operations:
// the AWS CLI sends the model's full prefix, the Go SDK the short one.
var cloudTrailTargets = []string{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.", "CloudTrail_20131101."}

// bindCloudTrail serves CloudTrail's LookupEvents over the audit log, and
// ListPublicKeys, which gives the key that checks its digests.
func bindCloudTrail(s *api.Server, l *audit.Log) {
	api.HandleJSON(s, "cloudtrail", cloudTrailTargets, "ListPublicKeys",
		func([]byte, *api.Request) []string { return []string{"*"} },
		func(ctx context.Context, body []byte) (any, error) {
			value, fp, err := l.DigestPublicKey(ctx)
			if err != nil {
				return nil, err
			}
			der, err := base64.StdEncoding.DecodeString(value)
			if err != nil {
				return nil, err
			}
			type key struct {
				Value             []byte  // base64 in JSON, as blobs are
				ValidityStartTime float64 // seconds since the epoch
				ValidityEndTime   float64
				Fingerprint       string
			}
			return struct{ PublicKeyList []key }{[]key{{Value: der, ValidityStartTime: 0,
				ValidityEndTime: float64(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), Fingerprint: fp}}}, nil
		})
	api.HandleJSON(s, "cloudtrail", cloudTrailTargets, "LookupEvents",
		func([]byte, *api.Request) []string { return []string{"*"} },
		func(ctx context.Context, body []byte) (any, error) {
			var in audit.LookupInput
			if len(body) > 0 {
				if err := json.Unmarshal(body, &in); err != nil {
					return nil, twinvault.Errorf(twinvault.SerializationException, "the request body is not a LookupEvents request")
				}
			}
			return l.Lookup(ctx, &in)
		})
	// TwinVault's own: the inclusion proof of one event under a checkpoint
	// of the log as it is (twinvault:GetAuditProof), for an auditor to
	// check with the checkpoints' public key alone.
	api.HandleJSON(s, KeyService, keyTargets, "GetAuditProof",
		func([]byte, *api.Request) []string { return []string{"*"} },
		func(ctx context.Context, body []byte) (any, error) {
			var in struct {
				EventID string `json:"eventId"`
			}
			if err := json.Unmarshal(body, &in); err != nil || in.EventID == "" || len(in.EventID) > 128 {
				return nil, twinvault.Errorf(twinvault.ValidationException, "give the eventId of one event")
			}
			p, err := l.Prove(ctx, in.EventID)
			if errors.Is(err, audit.ErrNoEvent) {
				return nil, twinvault.Errorf(twinvault.ResourceNotFoundException, "no event %s in the audit log", in.EventID)
			}
			if err != nil {
				return nil, err
			}
			key, err := l.PublicKey(ctx)
			if err != nil {
				return nil, err
			}
			return struct {
				*audit.Proof
				PublicKey string `json:"publicKey"` // for convenience: check with a key obtained apart
			}{p, key}, nil
		})
}
