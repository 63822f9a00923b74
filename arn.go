package twinvault

import (
	"fmt"
	"strings"
)

// Account is the fixed twelve-digit account in every ARN a TwinVault server
// issues; a self-hosted server has exactly one account.
const Account = "000000000000"

// ARN is an Amazon Resource Name split into its parts.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

func (a ARN) String() string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", a.Partition, a.Service, a.Region, a.Account, a.Resource)
}

// ParseARN splits s into its six colon-separated parts. The resource part
// may itself contain colons.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, fmt.Errorf("malformed ARN")
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}
