package audit

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/kv"
)

// LookupInput is CloudTrail's LookupEvents request (JSON 1.1: times are
// seconds since the epoch).
type LookupInput struct {
	LookupAttributes []LookupAttribute `json:"LookupAttributes,omitempty"`
	StartTime        *float64          `json:"StartTime,omitempty"`
	EndTime          *float64          `json:"EndTime,omitempty"`
	EventCategory    string            `json:"EventCategory,omitempty"`
	MaxResults       *int              `json:"MaxResults,omitempty"`
	NextToken        *string           `json:"NextToken,omitempty"`
}

// LookupAttribute is one filter.
type LookupAttribute struct {
	AttributeKey   string `json:"AttributeKey"`
	AttributeValue string `json:"AttributeValue"`
}

// LookupOutput is LookupEvents' answer.
type LookupOutput struct {
	Events    []LookupEvent `json:"Events"`
	NextToken *string       `json:"NextToken,omitempty"`
}

// LookupEvent is one event as LookupEvents lists it.
type LookupEvent struct {
	EventID         string           `json:"EventId"`
	EventName       string           `json:"EventName"`
	ReadOnly        string           `json:"ReadOnly"`
	AccessKeyID     string           `json:"AccessKeyId,omitempty"`
	EventTime       float64          `json:"EventTime"`
	EventSource     string           `json:"EventSource"`
	Username        string           `json:"Username,omitempty"`
	Resources       []LookupResource `json:"Resources,omitempty"`
	CloudTrailEvent string           `json:"CloudTrailEvent"`
}

// LookupResource is a resource of a listed event.
type LookupResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName"`
}

// Window is how far back LookupEvents looks by default, as CloudTrail's
// event history.
const Window = 90 * 24 * time.Hour

var lookupKeys = map[string]bool{"EventId": true, "EventName": true, "ReadOnly": true, "Username": true,
	"ResourceType": true, "ResourceName": true, "EventSource": true, "AccessKeyId": true}

func invalidLookup(code, format string, args ...any) error {
	return &twinvault.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Lookup answers LookupEvents: management events, newest first, in the time
// range, matching the one attribute given.
func (l *Log) Lookup(ctx context.Context, in *LookupInput) (*LookupOutput, error) {
	if len(in.LookupAttributes) > 1 {
		return nil, invalidLookup("InvalidLookupAttributesException", "You can specify only one lookup attribute.")
	}
	var attr *LookupAttribute
	if len(in.LookupAttributes) == 1 {
		attr = &in.LookupAttributes[0]
		if !lookupKeys[attr.AttributeKey] {
			return nil, invalidLookup("InvalidLookupAttributesException", "The attribute key %q is not valid.", truncate(attr.AttributeKey, 32))
		}
	}
	if in.EventCategory != "" && in.EventCategory != "insight" {
		return nil, invalidLookup("InvalidEventCategoryException", "EventCategory must be insight.")
	}
	if in.EventCategory == "insight" {
		return &LookupOutput{Events: []LookupEvent{}}, nil // no Insights events here
	}
	max := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, invalidLookup("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
		}
		max = *in.MaxResults
	}
	now := l.now()
	end, start := now, now.Add(-Window)
	if in.EndTime != nil {
		end = epoch(*in.EndTime)
	}
	if in.StartTime != nil {
		start = epoch(*in.StartTime)
	}
	if start.After(end) {
		return nil, invalidLookup("InvalidTimeRangeException", "StartTime must be before EndTime.")
	}
	from := ^uint64(0)
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || len(raw) != 8 || binary.BigEndian.Uint64(raw) == 0 {
			return nil, invalidLookup("InvalidNextTokenException", "The NextToken is not valid.")
		}
		from = binary.BigEndian.Uint64(raw) - 1
	}
	out := &LookupOutput{Events: []LookupEvent{}}
	var last uint64
	err := l.Scan(ctx, from, true, func(e *Entry) error {
		if e.Kind != kindEvent {
			return nil
		}
		var ev Event
		if err := json.Unmarshal(e.Body, &ev); err != nil {
			return fmt.Errorf("audit: decode event %d: %w", e.Seq, err)
		}
		t, err := time.Parse(time.RFC3339, ev.EventTime)
		if err != nil {
			return nil
		}
		if t.After(end) {
			return nil
		}
		if t.Before(start) {
			return kv.Stop
		}
		if !ev.ManagementEvent || attr != nil && !matches(&ev, attr) {
			return nil
		}
		if len(out.Events) == max {
			tok := base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, last))
			out.NextToken = &tok
			return kv.Stop
		}
		out.Events = append(out.Events, listed(&ev, e.Body, t))
		last = e.Seq
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func epoch(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func userName(ev *Event) string {
	if ev.UserIdentity.UserName != "" {
		return ev.UserIdentity.UserName
	}
	// An assumed role's session name, as CloudTrail shows it.
	if i := strings.LastIndexByte(ev.UserIdentity.ARN, '/'); i >= 0 && ev.UserIdentity.Type == "AssumedRole" {
		return ev.UserIdentity.ARN[i+1:]
	}
	return ""
}

func matches(ev *Event, a *LookupAttribute) bool {
	v := a.AttributeValue
	switch a.AttributeKey {
	case "EventId":
		return ev.EventID == v
	case "EventName":
		return ev.EventName == v
	case "ReadOnly":
		return (v == "true") == ev.ReadOnly && (v == "true" || v == "false")
	case "Username":
		return userName(ev) == v
	case "AccessKeyId":
		return ev.UserIdentity.AccessKeyID == v
	case "EventSource":
		return ev.EventSource == v
	case "ResourceType":
		for _, r := range ev.Resources {
			if r.Type == v {
				return true
			}
		}
	case "ResourceName":
		for _, r := range ev.Resources {
			if r.ARN == v || r.ARN[strings.LastIndexByte(r.ARN, '/')+1:] == v {
				return true
			}
		}
	}
	return false
}

func listed(ev *Event, raw []byte, t time.Time) LookupEvent {
	le := LookupEvent{EventID: ev.EventID, EventName: ev.EventName, ReadOnly: fmt.Sprint(ev.ReadOnly),
		AccessKeyID: ev.UserIdentity.AccessKeyID, EventTime: float64(t.Unix()), EventSource: ev.EventSource,
		Username: userName(ev), CloudTrailEvent: string(raw)}
	for _, r := range ev.Resources {
		le.Resources = append(le.Resources, LookupResource{ResourceType: r.Type, ResourceName: r.ARN})
	}
	return le
}

// Export calls fn with each event, as its CloudTrail record, whose time
// lies in [start, end), oldest first: data and management events alike.
// When nothing before start was left out, the entries it went through
// count as exported, and retention may then remove them.
func (l *Log) Export(ctx context.Context, start, end time.Time, fn func(record []byte) error) error {
	complete, through := true, uint64(0)
	err := l.Scan(ctx, 0, false, func(e *Entry) error {
		if e.Kind != kindEvent {
			if complete {
				through = e.Seq + 1
			}
			return nil
		}
		var ev struct {
			EventTime string `json:"eventTime"`
		}
		if err := json.Unmarshal(e.Body, &ev); err != nil {
			return fmt.Errorf("audit: decode event %d: %w", e.Seq, err)
		}
		t, err := time.Parse(time.RFC3339, ev.EventTime)
		if err != nil || t.Before(start) {
			complete = false
			return nil
		}
		if !t.Before(end) {
			return kv.Stop
		}
		if err := fn(e.Body); err != nil {
			return err
		}
		if complete {
			through = e.Seq + 1
		}
		return nil
	})
	if err != nil || through == 0 {
		return err
	}
	return l.MarkExported(ctx, through)
}
