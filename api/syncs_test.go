package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/twinvault/twinvault/auth/sigv4"
	"github.com/twinvault/twinvault/model"
)

// testSecret is long enough for HMAC in FIPS 140-only mode.
const testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

// syncsAuditor gives every change a Syncs and notes, in order, what the
// server asked of it.
type syncsAuditor struct {
	steps []string
	rec   *httptest.ResponseRecorder
}

func (a *syncsAuditor) Reserve(_ context.Context, req *Request) error {
	a.steps = append(a.steps, "reserve")
	req.Syncs = fakeSyncs{a}
	return nil
}

func (a *syncsAuditor) Record(context.Context, *Record) error {
	a.steps = append(a.steps, "record")
	return nil
}

type fakeSyncs struct{ a *syncsAuditor }

type boundKey struct{}

func (f fakeSyncs) Bind(ctx context.Context) context.Context {
	return context.WithValue(ctx, boundKey{}, true)
}

func (f fakeSyncs) Wait() error {
	step := "wait"
	if f.a.rec.Body.Len() > 0 {
		step = "wait after the answer"
	}
	f.a.steps = append(f.a.steps, step)
	return nil
}

// TestSyncsWaitedBeforeAnswer: a change runs in its Syncs' context, and
// the server waits on them after the event and before it answers; after a
// panic too.
func TestSyncsWaitedBeforeAnswer(t *testing.T) {
	for _, panics := range []bool{false, true} {
		aud := &syncsAuditor{rec: httptest.NewRecorder()}
		s := New(Config{Auditor: aud, Verifier: &sigv4.Verifier{Region: "us-east-1", Services: []string{twinmakerService},
			Lookup: func(context.Context, string) (sigv4.Key, error) { return sigv4.Key{Secret: []byte(testSecret)}, nil }}})
		Handle(s, "UpdatePricingPlan", func(ctx context.Context, _ *model.UpdatePricingPlanInput) (*model.UpdatePricingPlanOutput, error) {
			if ctx.Value(boundKey{}) == nil {
				t.Error("the change does not run in its Syncs' context")
			}
			if panics {
				panic("handler failed")
			}
			return &model.UpdatePricingPlanOutput{CurrentPricingPlan: &model.PricingPlan{}}, nil
		})
		body := []byte(`{"pricingMode":"BASIC"}`)
		r := httptest.NewRequest(http.MethodPost, "https://localhost/pricingplan", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		signer := &sigv4.Signer{AccessKeyID: "AKIDEXAMPLE", Secret: []byte(testSecret), Region: "us-east-1", Service: twinmakerService}
		if err := signer.Sign(r, body, time.Now()); err != nil {
			t.Fatal(err)
		}
		s.ServeHTTP(aud.rec, r)
		want, status := []string{"reserve", "record", "wait"}, http.StatusOK
		if panics {
			want, status = []string{"reserve", "wait"}, http.StatusInternalServerError
		}
		if !slices.Equal(aud.steps, want) || aud.rec.Code != status {
			t.Errorf("panics %v: steps %q, status %d; want %q, %d (%s)", panics, aud.steps, aud.rec.Code, want, status, aud.rec.Body)
		}
	}
}
