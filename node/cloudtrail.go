package node

import (
	"context"
	"encoding/base64"
	"encoding/json"
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
}
