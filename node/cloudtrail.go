package node

import (
	"context"
	"encoding/json"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/audit"
)

// cloudTrailTargets prefix the X-Amz-Target of CloudTrail's operations:
// the AWS CLI sends the model's full prefix, the Go SDK the short one.
var cloudTrailTargets = []string{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.", "CloudTrail_20131101."}

// bindCloudTrail serves CloudTrail's LookupEvents over the audit log.
func bindCloudTrail(s *api.Server, l *audit.Log) {
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
