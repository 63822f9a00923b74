// Package audit records every API call as a CloudTrail event in an
// append-only, hash-chained log kept through the barrier, and answers
// CloudTrail's LookupEvents over it.
//
// The log fails closed. A read's response is held until its event is
// durable, so no data leaves unrecorded; a change first stores a
// reservation (the request's ID, operation and signer) and only then runs,
// so a change whose event could not be stored afterwards is still on
// record. Appends from concurrent requests share one durable write.
package audit

import (
	"encoding/json"
	"time"
)

// EventVersion is the CloudTrail record version the events follow.
const EventVersion = "1.11"

// Hidden replaces sensitive request values, as CloudTrail does.
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// Event is one CloudTrail record.
type Event struct {
	EventVersion        string           `json:"eventVersion"`
	UserIdentity        UserIdentity     `json:"userIdentity"`
	EventTime           string           `json:"eventTime"`
	EventSource         string           `json:"eventSource"`
	EventName           string           `json:"eventName"`
	AWSRegion           string           `json:"awsRegion"`
	SourceIPAddress     string           `json:"sourceIPAddress"`
	UserAgent           string           `json:"userAgent"`
	ErrorCode           string           `json:"errorCode,omitempty"`
	ErrorMessage        string           `json:"errorMessage,omitempty"`
	RequestParameters   json.RawMessage  `json:"requestParameters"`
	ResponseElements    json.RawMessage  `json:"responseElements"`
	RequestID           string           `json:"requestID"`
	EventID             string           `json:"eventID"`
	ReadOnly            bool             `json:"readOnly"`
	Resources           []Resource       `json:"resources,omitempty"`
	EventType           string           `json:"eventType"`
	ManagementEvent     bool             `json:"managementEvent"`
	RecipientAccountID  string           `json:"recipientAccountId"`
	EventCategory       string           `json:"eventCategory"`
	TLSDetails          *TLSDetails      `json:"tlsDetails,omitempty"`
	AdditionalEventData *json.RawMessage `json:"additionalEventData,omitempty"`
	ServiceEventDetails json.RawMessage  `json:"serviceEventDetails,omitempty"` // of an AwsServiceEvent
}

// UserIdentity is who made a call, as far as it is known: an
// unauthenticated call may carry only an access key ID, or nothing.
type UserIdentity struct {
	Type           string          `json:"type,omitempty"` // IAMUser, AssumedRole, Unknown
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext describes temporary credentials.
type SessionContext struct {
	Attributes struct {
		CreationDate     string `json:"creationDate"`
		MFAAuthenticated string `json:"mfaAuthenticated"`
	} `json:"attributes"`
}

// Resource is a resource a call names.
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// TLSDetails is the connection a call came over.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// Time formats an event time as CloudTrail does.
func Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
