package model

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"
)

// FuzzDecodeValidate decodes arbitrary bytes into an operation's input (or
// output) the way the HTTP layer does, binds them as a query string and as
// labels, and validates. Nothing may panic, Validate must return nil or a
// *ValidationError within the cap, and a value that decoded must encode and
// decode again to a value that validates the same way.
func FuzzDecodeValidate(f *testing.F) {
	f.Add(uint8(3), false, []byte(`{"entityName":"Mixer","components":{"c":{"properties":{"p":{"value":{"doubleValue":"NaN"}}}}}}`))
	f.Fuzz(func(t *testing.T, opIndex uint8, output bool, data []byte) {
		op := Operations[int(opIndex)%len(Operations)]
		var target interface{ Validate() error }
		if output {
			target = op.Output().(interface{ Validate() error })
		} else {
			in := op.Input()
			if q, err := url.ParseQuery(string(data)); err == nil {
				_ = in.BindQuery(q)
			}
			for _, l := range labelsOf(op.Path) {
				if err := in.SetLabel(l, string(data)); err != nil {
					t.Fatalf("%s: SetLabel(%s): %v", op.Name, l, err)
				}
			}
			target = in
		}
		if err := json.Unmarshal(data, target); err != nil {
			return
		}
		first := checkValidate(t, target)

		b, err := json.Marshal(target)
		if err != nil {
			t.Fatalf("%s: re-encode: %v", op.Name, err)
		}
		var again interface{ Validate() error }
		if output {
			again = op.Output().(interface{ Validate() error })
		} else {
			// Labels and query members do not travel in the body.
			again = cloneInput(t, target.(Input), op)
		}
		if err := json.Unmarshal(b, again); err != nil {
			t.Fatalf("%s: decode of own encoding %s: %v", op.Name, b, err)
		}
		if second := checkValidate(t, again); first != second {
			t.Fatalf("%s: validation changed after a round trip:\n%s\n%s\n(%s)", op.Name, first, second, b)
		}
	})
}

// cloneInput returns a new input with the labels and query members of in.
func cloneInput(t *testing.T, in Input, op Operation) Input {
	out := op.Input()
	for _, l := range labelsOf(op.Path) {
		if err := out.SetLabel(l, labelValue(in, l)); err != nil {
			t.Fatal(err)
		}
	}
	switch x := in.(type) {
	case *DeleteEntityInput:
		out.(*DeleteEntityInput).IsRecursive = x.IsRecursive
	case *GetSyncJobInput:
		out.(*GetSyncJobInput).WorkspaceId = x.WorkspaceId
	case *UntagResourceInput:
		out.(*UntagResourceInput).ResourceARN = x.ResourceARN
		out.(*UntagResourceInput).TagKeys = x.TagKeys
	}
	return out
}

func checkValidate(t *testing.T, v interface{ Validate() error }) string {
	err := v.Validate()
	if err == nil {
		return ""
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate returned %T: %v", err, err)
	}
	if n := len(ve.Violations); n == 0 || n > MaxViolations {
		t.Fatalf("%d violations", n)
	}
	return ve.Error()
}
