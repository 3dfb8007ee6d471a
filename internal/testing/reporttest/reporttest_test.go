package reporttest

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	_, good := Fixture(t, "seed")
	ValidateAgainstSchema(t, good)
	tests := []struct{ name, data string }{
		{name: "wrong version", data: strings.Replace(string(good), `"schema_version": 1`, `"schema_version": 2`, 1)},
		{name: "unknown field", data: strings.Replace(string(good), `"schema_version": 1`, `"schema_version": 1, "x": 1`, 1)},
		{name: "bad status", data: strings.Replace(string(good), `"status": "success"`, `"status": "great"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Validate([]byte(tt.data)); err == nil {
				t.Error("Validate accepted a bad report")
			}
		})
	}
}
